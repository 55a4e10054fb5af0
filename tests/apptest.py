"""In-process harness for one service: its application on a throwaway SQLite store, its gateway
through FastAPI's TestClient, and its reactions fed with contract payloads. No broker needed."""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient

from contracts import Envelope, EventPayload
from contracts.registry import parse_payload
from service_runtime.http import create_app
from service_runtime.process import ServiceParts
from service_runtime.settings import Settings, get_settings
from service_runtime.store import AlreadyProcessed
from service_runtime.tracing import trace
from tests.support import CARRIER_SECRET, JWT_SECRET, auth

_offsets = itertools.count()


class ServiceHarness:
    def __init__(self, bootstrap: Callable[[Settings], ServiceParts], var_dir: Path) -> None:
        os.environ["KONGFU_JWT_SECRET"] = JWT_SECRET
        os.environ["KONGFU_CARRIER_WEBHOOK_SECRET"] = CARRIER_SECRET
        get_settings.cache_clear()
        self.parts = bootstrap(Settings(mode="embedded", var_dir=var_dir, jwt_secret=JWT_SECRET,
                                        carrier_webhook_secret=CARRIER_SECRET))
        self.app = self.parts.app
        self.client = TestClient(create_app("test", self.parts.routers, metrics_label="test"))

    def as_(self, subject: str, *roles: str) -> dict[str, str]:
        return auth(subject, *roles)

    def react(self, payload: EventPayload, **envelope_fields: Any) -> str:
        """Deliver one event to the service's handler the way the consumer runner does."""
        envelope = Envelope(
            event_id=envelope_fields.pop("event_id", uuid.uuid4()), type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=envelope_fields.pop("occurred_at", None) or datetime.now(timezone.utc),
            producer=payload.event_type.split(".")[0], aggregate_id=uuid.uuid4(), aggregate_version=1,
            order_id=getattr(payload, "order_id", None), payload=payload.model_dump(mode="json"),
            **envelope_fields,
        )
        handler = self.parts.handlers[envelope.type]
        with trace(correlation_id=str(envelope.order_id), causation_id=str(envelope.event_id)):
            # Lifted to the current contract version, as the consumer runner does.
            current = parse_payload(envelope.type, envelope.schema_version, envelope.payload)
            changed = list(handler(current, envelope))
        try:
            self.app.save_reaction(*changed, tracking=Tracking("test:0", next(_offsets)), event_id=envelope.event_id)
            return "handled"
        except AlreadyProcessed:
            return "duplicate"

    def published(self) -> list[Envelope]:
        """Every envelope this service would publish, in store order."""
        out = []
        for notification in self.app.recorder.select_notifications(start=1, limit=10_000):
            envelope = self.parts.publication.envelope(self.app.mapper.to_domain_event(notification))
            if envelope is not None:
                out.append(envelope)
        return out

    def published_types(self) -> list[str]:
        return [e.type for e in self.published()]

    def project(self) -> None:
        """Apply everything this service published to its own projections, as its projector would."""
        from contracts import parse_payload

        for projection in self.parts.projections:
            entries = [entry for envelope in self.published()
                       for entry in projection.entries(envelope, parse_payload(
                           envelope.type, envelope.schema_version, envelope.payload))]
            self.parts.projection_store.apply(projection.name, entries, {})
