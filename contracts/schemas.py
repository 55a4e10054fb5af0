"""JSON Schemas of the contracts, checked in under contracts/schemas/, and the compatibility rule.

A published (type, version) is frozen: its schema may not change, because readers of that
version exist (and old messages stay in the log). A change means a new version, an upcaster from
the old one, and a newly exported schema beside the old.
"""

from __future__ import annotations

import json
from pathlib import Path

from contracts.envelope import Envelope
from contracts.registry import _upcasters, all_contracts

SCHEMA_DIR = Path(__file__).parent / "schemas"
# The envelope around every event: frozen like a contract version (a change breaks every reader).
ENVELOPE_SCHEMA = Path(__file__).parent / "envelope.schema.json"


def schema_path(event_type: str, version: int) -> Path:
    return SCHEMA_DIR / f"{event_type}.v{version}.json"


def render(model) -> str:
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def export() -> list[Path]:
    """Write the schema of every registered contract that has none yet (never overwrites)."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    if not ENVELOPE_SCHEMA.exists():
        ENVELOPE_SCHEMA.write_text(render(Envelope))
        written.append(ENVELOPE_SCHEMA)
    for (event_type, version), model in all_contracts().items():
        path = schema_path(event_type, version)
        if not path.exists():
            path.write_text(render(model))
            written.append(path)
    return written


def check() -> list[str]:
    problems = []
    if not ENVELOPE_SCHEMA.exists() or ENVELOPE_SCHEMA.read_text() != render(Envelope):
        problems.append(f"the envelope differs from {ENVELOPE_SCHEMA.name}: every reader depends on it")
    contracts = all_contracts()
    for (event_type, version), model in contracts.items():
        path = schema_path(event_type, version)
        if not path.exists():
            problems.append(f"{event_type} v{version}: no checked-in schema; run `kongfu contracts export`")
        elif path.read_text() != render(model):
            problems.append(
                f"{event_type} v{version}: model differs from the checked-in schema {path.name}; "
                f"published versions are frozen: add v{version + 1} with an upcaster instead"
            )
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        event_type, _, version_text = path.stem.rpartition(".v")
        version = int(version_text)
        if (event_type, version) not in contracts:
            problems.append(f"{path.name}: no model for this published version; readers of the log need it")
            continue
        newest = max(v for (t, v) in contracts if t == event_type)
        for step in range(version, newest):
            if (event_type, step) not in _upcasters:
                problems.append(f"{event_type}: no upcaster from v{step} to v{step + 1}")
    return problems
