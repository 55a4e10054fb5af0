import pytest

from kongfu.demo import Lifecycle
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, token


@pytest.fixture(params=["platform_on_stack", "embedded"])
def trip_on_both(request) -> Lifecycle:
    """A customer's journey driver, once on Kafka+PostgreSQL and once on the embedded default;
    `trip.platform` is the platform it drives."""
    platform = request.getfixturevalue(request.param)
    trip = Lifecycle(platform, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)
    trip.platform = platform
    return trip
