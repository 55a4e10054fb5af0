"""A run's cleanup that cannot reach the broker reports it and leaves the run's verdict alone."""

import pytest

from kongfu.namespaces import forget_after_run, forget_namespace
from service_runtime.settings import Settings


def test_a_cleanup_that_cannot_reach_the_broker_says_so_instead_of_failing_the_run():
    away = Settings(mode="stack", namespace="tnobroker", kafka_bootstrap="127.0.0.1:1")
    outcome = forget_after_run(away)
    assert outcome.startswith("namespace tnobroker not forgotten (") and "kongfu forget tnobroker" in outcome


def test_the_platform_s_own_topics_and_schemas_are_never_forgotten():
    with pytest.raises(ValueError, match="namespace"):
        forget_namespace(Settings(mode="stack", namespace=""))


def test_what_was_forgotten_reads_as_counts():
    from kongfu.namespaces import Forgotten

    assert str(Forgotten(["a.x", "a.y"], ["a.kongfu.orders"], [])) == "2 topics, 1 consumer group, 0 schemas"
