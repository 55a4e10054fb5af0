import gc

import pytest

from service_runtime.heap import THRESHOLDS, settle_after_startup


@pytest.fixture
def restored_collector():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.other = self


def test_startup_objects_are_left_out_and_later_garbage_is_still_collected(restored_collector):
    built_at_startup = [Node() for _ in range(1000)]
    settle_after_startup()
    assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_threshold() == THRESHOLDS
    for _ in range(1000):
        Node()  # cycles only the collector can free
    assert gc.collect() >= 1000
    assert all(node.other is node for node in built_at_startup)  # frozen, not freed
