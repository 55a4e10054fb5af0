from service_runtime import fetch_pace
from service_runtime.fetch_pace import BUSY, QUIET, QUIET_AFTER, STREAM_ABOVE, STREAM_BELOW, STREAMING, FetchPace


def feed(pace: FetchPace, start: float, per_second: int, seconds: float) -> tuple[float, tuple[int, int]]:
    """Fetches that each bring records, `per_second` of them, for `seconds`."""
    now, result = start, pace.pace
    for _ in range(int(per_second * seconds)):
        now += 1 / per_second
        result = pace.fetched(now, True)
    return now, result


def test_an_occasional_record_keeps_the_short_wait_answered_at_once():
    pace = FetchPace()
    now, result = feed(pace, 0.0, 2, 5)
    assert result == BUSY


def test_a_stream_of_records_is_gathered_and_a_thinning_stream_is_not():
    pace = FetchPace()
    now, result = feed(pace, 0.0, STREAM_ABOVE + 5, 2)
    assert result == STREAMING
    now, result = feed(pace, now, STREAM_BELOW + 1, 2)
    assert result == STREAMING, "between the two thresholds a stream stays gathered"
    now, result = feed(pace, now, STREAM_BELOW - 2, 2)
    assert result == BUSY


def test_a_stream_that_stops_is_not_gathered_for_the_empty_fetches():
    pace = FetchPace()
    now, _ = feed(pace, 0.0, 40, 2)
    assert pace.fetched(now + 1.0, False) == BUSY


def test_quiet_after_a_while_without_records_and_busy_again_at_the_first():
    pace = FetchPace()
    now, _ = feed(pace, 0.0, 2, 1)
    assert pace.fetched(now + QUIET_AFTER / 2, False) == BUSY
    assert pace.fetched(now + QUIET_AFTER, False) == QUIET
    assert pace.fetched(now + QUIET_AFTER + 1, True) == BUSY


def test_a_rebalance_takes_the_short_wait():
    pace = FetchPace()
    pace.fetched(0.0, False)
    assert pace.fetched(QUIET_AFTER + 1, False) == QUIET
    assert pace.rebalanced(QUIET_AFTER + 2) == BUSY
    assert pace.fetched(QUIET_AFTER + 3, False) == BUSY


def test_a_caller_looks_again_within_a_window_unless_quiet():
    pace = FetchPace()
    assert pace.look_again_within() == fetch_pace.WINDOW
    pace.fetched(0.0, False)
    pace.fetched(fetch_pace.QUIET_AFTER + 0.1, False)
    assert pace.pace == QUIET and pace.look_again_within() == fetch_pace.QUIET_FETCH_WAIT_MS / 1000
