"""Trace metadata carried by every domain event (pure: no I/O).

Application services open a `trace(...)` scope around a command or a reaction; every event an
aggregate triggers inside it records the scope's correlation id, causation id and actor, so the
relay can build the envelope without the domain knowing about envelopes.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from contextvars import ContextVar
from typing import Any, Iterator

from eventsourcing.domain import Aggregate

_current_trace: ContextVar[dict[str, str]] = ContextVar("kongfu_trace", default={})

KONGFU_NAMESPACE = uuid.UUID("6f1c3a52-8a43-4d8e-9a55-5b3f0e2f7c11")


def stable_id(*parts: object) -> uuid.UUID:
    """A UUID derived from its parts: the same parts give the same id in every process."""
    return _uuid_named("/".join(str(p) for p in parts))


@functools.lru_cache(maxsize=4096)
def _uuid_named(name: str) -> uuid.UUID:
    # Every published event and every reaction derives ids this way, often the same ones (an
    # event id per relay attempt, a timer per parcel); uuid5 hashes and imports on every call.
    return uuid.uuid5(KONGFU_NAMESPACE, name)


def current_trace() -> dict[str, str]:
    return dict(_current_trace.get())


@contextlib.contextmanager
def trace(**fields: object) -> Iterator[dict[str, str]]:
    merged = {**_current_trace.get(), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _current_trace.set(merged)
    try:
        yield merged
    finally:
        _current_trace.reset(token)


class TracedAggregate(Aggregate):
    """Aggregate whose events carry `trace` (correlation, causation, actor, order id)."""

    class Event(Aggregate.Event):
        trace: dict

    class Created(Event, Aggregate.Created):
        pass

    # True on aggregates whose own id is the order id (the order itself).
    id_is_order_id = False

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        if cls.id_is_order_id:
            kwargs["id"] = order_id = kwargs.get("id") or uuid.uuid4()
        else:
            order_id = kwargs.get("order_id")
        kwargs.setdefault("trace", cls._trace_for(order_id))
        return super()._create(event_class, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        order_id = self.id if self.id_is_order_id else getattr(self, "order_id", None)
        kwargs.setdefault("trace", self._trace_for(order_id))
        super().trigger_event(event_class, **kwargs)

    @staticmethod
    def _trace_for(order_id: object) -> dict[str, str]:
        fields = current_trace()
        if order_id is not None:
            fields["order_id"] = str(order_id)
        return fields
