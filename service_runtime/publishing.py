"""Turning stored domain events into published envelopes.

Each service lists which of its domain events it publishes and under which contract; the payload
takes the contract's fields from the event's attributes (then from its trace, for `order_id`),
so an internal attribute can never leak into a topic by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from contracts import Envelope, EventPayload
from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.tracing import stable_id


def event_id_for(service: str, aggregate_id: Any, version: int) -> str:
    # Services share aggregate ids on purpose (a parcel is a warehouse parcel and a logistics
    # shipment), so the producer is part of what makes an event unique.
    return str(stable_id("event", service, aggregate_id, version))


@dataclass(frozen=True)
class Publication:
    service: str
    contracts: Mapping[type, type[EventPayload]]
    namespace: str = ""

    @property
    def topic(self) -> str:
        return topic_for(self.service, self.namespace)

    def envelope(self, domain_event: Any) -> Envelope | None:
        contract = self._contract_for(type(domain_event))
        if contract is None:
            return None
        attributes = vars(domain_event)
        trace = attributes.get("trace") or {}
        payload = contract.model_validate(
            {
                name: attributes[name] if name in attributes else trace.get(name)
                for name in contract.model_fields
                if name in attributes or name in trace
            }
        )
        return Envelope(
            event_id=event_id_for(self.service, domain_event.originator_id, domain_event.originator_version),
            type=contract.event_type,
            schema_version=contract.schema_version,
            occurred_at=domain_event.timestamp,
            producer=self.service,
            aggregate_id=domain_event.originator_id,
            aggregate_version=domain_event.originator_version,
            order_id=trace.get("order_id"),
            correlation_id=trace.get("correlation_id"),
            causation_id=trace.get("causation_id"),
            actor=trace.get("actor") or f"system:{self.service}",  # a reaction, not a request
            payload=payload.model_dump(mode="json"),
        )

    def _contract_for(self, event_class: type) -> type[EventPayload] | None:
        for klass in event_class.__mro__:
            if klass in self.contracts:
                return self.contracts[klass]
        return None

    def record(self, envelope: Envelope) -> OutgoingRecord:
        key = str(envelope.order_id or envelope.aggregate_id).encode()
        headers = (
            ("event_id", str(envelope.event_id).encode()),
            ("type", envelope.type.encode()),
            ("schema_version", str(envelope.schema_version).encode()),
        )
        return OutgoingRecord(self.topic, key, envelope.model_dump_json().encode(), headers)
