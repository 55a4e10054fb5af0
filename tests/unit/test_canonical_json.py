"""A row's text must not depend on which renderer wrote it: live rows written before orjson and
rows a replay writes now are compared by checksum."""

import json
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import example, given, settings, strategies as st

from service_runtime.canonical_json import canonical


def the_form_rows_were_always_written_in(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


scalars = (st.none() | st.booleans() | st.integers() | st.text()
           | st.datetimes(timezones=st.just(timezone.utc)) | st.datetimes(timezones=st.just(timezone(timedelta(hours=8))))
           | st.dates() | st.decimals(allow_nan=False, allow_infinity=False) | st.uuids())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=25)


@settings(max_examples=600, deadline=None)
@given(values)
@example({"b": 1, "a": [None, True, "雨伞 \u0000\n\"\\"], "c": {"z": 2**70, "y": -2**63}})
@example({"lone surrogate": "\ud800", "at": datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)})
@example([("projection", "key", "2026-11-29T12:00:00.000000+00:00", str(uuid.uuid4()), "{}"), ("p", "source", 7)])
@example({"amount": Decimal("268.00"), "ids": [uuid.UUID(int=1)]})
def test_the_fast_renderer_writes_what_json_dumps_wrote(data):
    assert canonical(data) == the_form_rows_were_always_written_in(data)


def test_keys_are_sorted_at_every_depth():
    assert canonical({"b": {"d": 1, "c": 2}, "a": 0}) == '{"a":0,"b":{"c":2,"d":1}}'
