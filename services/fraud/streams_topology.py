"""The names the streams role's faust app uses on Kafka (no faust import: the topology, the
manifests and the AsyncAPI document read them without starting anything)."""

from __future__ import annotations

from service_runtime.eventlog import topic_for

PRODUCER = "fraud-streams"  # the verdicts' producer; their topic is `kongfu.fraud-streams.events`
SOURCES = ("payments", "orders")
TABLES = ("customer-payments", "customer-orders", "card-customers")


def _prefix(namespace: str) -> str:
    return f"{namespace}." if namespace else ""


def app_id(namespace: str = "") -> str:
    """The faust app id: its consumer group and its changelog topics' prefix."""
    return f"{_prefix(namespace)}kongfu.fraud.streams"


def verdict_topic(namespace: str = "") -> str:
    return topic_for(PRODUCER, namespace)


def source_topics(namespace: str = "") -> tuple[str, ...]:
    return tuple(topic_for(s, namespace) for s in SOURCES)


def internal_topics(namespace: str = "") -> dict[str, str]:
    """The re-keying topics: facts by customer and by card fingerprint."""
    base = f"{_prefix(namespace)}kongfu.{PRODUCER}"
    return {"by_customer": f"{base}.by-customer", "by_card": f"{base}.by-card"}


def changelog_topics(namespace: str = "") -> tuple[str, ...]:
    return tuple(f"{app_id(namespace)}-{table}-changelog" for table in TABLES)


def all_topics(namespace: str = "") -> list[str]:
    """Everything the app touches, created before it starts (faust ignores a source topic that
    is missing at its first rebalance; a changelog must have its source's partition count)."""
    return [*source_topics(namespace), *internal_topics(namespace).values(), verdict_topic(namespace),
            *changelog_topics(namespace)]
