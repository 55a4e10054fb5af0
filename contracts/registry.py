"""Registry of payload models by (type, schema_version), and upcasters between versions."""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class ContractError(ValueError):
    """A message does not match any known contract; the reason says why."""


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


_models: dict[tuple[str, int], type[EventPayload]] = {}
_upcasters: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}
_current: dict[str, type[EventPayload]] = {}  # event type -> its newest model, as last found


def register(model: type[EventPayload]) -> type[EventPayload]:
    key = (model.event_type, model.schema_version)
    if key in _models and _models[key] is not model:
        raise RuntimeError(f"contract {key} registered twice")
    _models[key] = model
    return model


def upcaster(event_type: str, from_version: int):
    """Declare how a payload of `from_version` becomes one of `from_version + 1`."""

    def decorate(func: Callable[[dict[str, Any]], dict[str, Any]]):
        _upcasters[(event_type, from_version)] = func
        return func

    return decorate


def all_contracts() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(sorted(_models.items()))


def current_model(event_type: str) -> type[EventPayload]:
    known = _current.get(event_type)  # looked up per message: two dict probes instead of a scan
    if known is not None and _models.get((event_type, known.schema_version)) is known \
            and (event_type, known.schema_version + 1) not in _models:
        return known
    versions = [v for (t, v) in _models if t == event_type]
    if not versions:
        raise ContractError(f"unknown event type {event_type!r}")
    _current[event_type] = _models[(event_type, max(versions))]
    return _current[event_type]


def parse_payload(event_type: str, schema_version: int, payload: dict[str, Any]) -> EventPayload:
    """Validate a payload and lift it to the current version of its type."""
    target = current_model(event_type)
    if schema_version > target.schema_version:
        raise ContractError(
            f"{event_type} v{schema_version} is newer than this reader (v{target.schema_version})"
        )
    if (event_type, schema_version) not in _models:
        raise ContractError(f"unknown schema version {schema_version} of {event_type}")
    try:
        if schema_version == target.schema_version:  # the usual case: one validation, no upcasting
            return target.model_validate(payload)
        data = dict(payload)
        _models[(event_type, schema_version)].model_validate(data)
        for version in range(schema_version, target.schema_version):
            step = _upcasters.get((event_type, version))
            if step is None:
                raise ContractError(f"no upcaster from {event_type} v{version}")
            data = step(data)
        return target.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}" for err in exc.errors()
        )
        raise ContractError(f"{event_type} v{schema_version} payload invalid: {problems}") from exc
