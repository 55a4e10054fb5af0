"""The one text form of a projection row's data: the checksum compares rows as text, so a live
projection and its replay must render the same data identically, whichever process wrote it.

The form is `json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
default=str)`, the one rows were always written in. orjson renders it four times faster, and
byte for byte the same for what rows hold (strings, integers, booleans, null, lists, objects with
string keys; times, decimals and ids through `str`): `tests/unit/test_canonical_json.py` checks
that over generated values. What orjson cannot render that way (integers beyond 64 bits, keys that
are not strings, lone surrogates) goes through `json.dumps`. No contract carries a float, whose
exponent form is the one rendering the two libraries write differently.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Times and dataclasses go to `str`, as `json.dumps(default=str)` sends them; orjson's own forms differ.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def canonical(data: Any) -> str:
    try:
        return orjson.dumps(data, default=str, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError: a value orjson renders differently or not at all
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
