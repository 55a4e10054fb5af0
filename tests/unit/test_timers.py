"""Durable timers on SQLite (the embedded default's store)."""

import pytest

from service_runtime.settings import Settings
from service_runtime.store import store_env
from tests import timer_cases


@pytest.mark.parametrize("case", timer_cases.CASES, ids=lambda case: case.__name__)
def test_timers_on_sqlite(case, tmp_path):
    env = store_env("reminders", Settings(mode="embedded", var_dir=tmp_path))
    case(lambda: timer_cases.RemindersApp(env=env))


def test_an_offset_file_moves_every_reader_of_the_clock_forward(tmp_path):
    from service_runtime.process import clock_for
    from service_runtime.clock import SYSTEM_CLOCK

    path = tmp_path / "clock-offset"
    clock = clock_for(Settings(clock_offset_file=str(path)))
    before = SYSTEM_CLOCK.now()
    assert abs((clock.now() - before).total_seconds()) < 5  # no file yet: no offset
    path.write_text(str(3 * 86400))
    assert 3 * 86400 - 5 < (clock.now() - before).total_seconds() < 3 * 86400 + 5
    assert clock_for(Settings()) is SYSTEM_CLOCK
