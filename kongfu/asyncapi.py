"""The AsyncAPI 3.0 document of every topic (`make contracts` writes contracts/asyncapi.yaml).

Generated from the contracts (a message per event type and version, with its JSON Schema inside
the envelope) and from the code's topology (who publishes each topic, who consumes what), so it
cannot drift from either; a contract test validates it against the AsyncAPI specification.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from contracts import Envelope, all_contracts
from kongfu import k8s
from kongfu.topology import topology
from service_runtime.eventlog import dead_letter_topic

PATH = Path(__file__).resolve().parent.parent / "contracts" / "asyncapi.yaml"
KEY = ("The order id when the event belongs to one order (so an order's events keep their order in "
       "a partition); otherwise the aggregate id: the parcel id for parcel and shipment events, the "
       "claim id, the review case id.")
HEADERS = {"type": "object", "properties": {
    "event_id": {"type": "string", "format": "uuid", "description": "The envelope's event_id (UTF-8 bytes)."},
    "type": {"type": "string", "description": "The envelope's type, e.g. orders.OrderPlaced."},
    "schema_version": {"type": "string", "description": "The envelope's schema_version, in decimal."},
}}
DLQ_HEADERS = {"type": "object", "properties": {
    **HEADERS["properties"],
    "dlq_reason": {"type": "string", "description": "Why the consumer refused the message."},
    "dlq_source": {"type": "string", "description": "JSON: topic, partition, offset and consumer group."},
}}


def _hoist(schema: dict[str, Any], prefix: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """A pydantic schema with its $defs moved into components/schemas under `prefix.`."""
    schema = copy.deepcopy(schema)
    definitions = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/{prefix}.{v.rsplit('/', 1)[1]}"
                        if k == "$ref" and v.startswith("#/$defs/") else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for name, definition in definitions.items():
        schemas[f"{prefix}.{name}"] = rewrite(definition)
    return rewrite(schema)


def _channel_id(topic: str) -> str:
    return topic.replace("kongfu.", "").replace(".", "-")


def document() -> dict[str, Any]:
    services = topology()
    contracts = all_contracts()
    schemas: dict[str, Any] = {"Envelope": _hoist(Envelope.model_json_schema(), "Envelope", {})}
    messages: dict[str, Any] = {}
    for (event_type, version), model in contracts.items():
        message_id = f"{event_type}.v{version}"
        schemas[message_id] = _hoist(model.model_json_schema(), message_id, schemas)
        messages[message_id] = {
            "name": event_type, "title": f"{event_type} v{version}", "contentType": "application/json",
            "summary": (model.__doc__ or event_type).strip().splitlines()[0],
            "headers": HEADERS,
            "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"}, {
                "type": "object",
                "properties": {"type": {"const": event_type}, "schema_version": {"const": version},
                               "payload": {"$ref": f"#/components/schemas/{message_id}"}}}]},
            "bindings": {"kafka": {"key": {"type": "string", "format": "uuid", "description": KEY},
                                   "bindingVersion": "0.5.0"}},
        }
    messages["DeadLettered"] = {
        "name": "DeadLettered", "title": "A message a consumer refused", "contentType": "application/json",
        "summary": "The refused message's key and bytes, unchanged, with the reason in dlq_reason.",
        "headers": DLQ_HEADERS, "payload": {"description": "The original value; it may not be valid JSON."},
    }

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    readers: dict[str, list[str]] = {}
    for service in services:
        for topic in service.reads:
            readers.setdefault(topic, []).append(service.name)
    streamed = {t: s.streams.topic for s in services if s.streams is not None for t in s.streams.event_types}
    for service in services:
        own = [m for (t, v) in contracts if t.split(".")[0] == service.name and t not in streamed
               for m in [f"{t}.v{v}"]]
        channel = _channel_id(service.topic)
        _add_channels(channels, service.topic, f"{service.name} events", f"{service.name} dead letters",
                      (f"Published by {service.name} (its outbox relay); read by "
                       f"{', '.join(sorted(readers.get(service.topic, []))) or 'no service yet'}. "
                       "Kept forever: the audit log."), own)
        published = [f"{t}.v{v}" for (t, v) in contracts if t in service.event_types]
        operations[f"{service.name}.publish"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{service.name}'s relay publishes its stored events (acks=all, idempotent producer).",
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in published],
        }
        if service.streams is not None:
            _streams_channel(service, contracts, readers, channels, operations)
    for service in services:
        for topic in service.reads:
            if not topic.endswith(".events"):
                continue  # a streams app's own re-keying and changelog topics (described with its channel)
            handled = {t for t in service.handled_types if streamed.get(t, f"kongfu.{t.split('.')[0]}.events") == topic}
            producer = topic.split(".")[1]
            wanted = [f"{t}.v{v}" for (t, v) in contracts
                      if streamed.get(t, f"kongfu.{t.split('.')[0]}.events") == topic
                      and (t in handled or topic not in service.consumes)]  # projections read everything
            channel = _channel_id(topic)
            operations[f"{service.name}.read.{producer}"] = {
                "action": "receive", "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"{service.name} reads {topic}" + (" (projections)" if topic not in service.consumes else ""),
                "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in wanted],
            }
        for topic in service.consumes:
            dlq = _channel_id(dead_letter_topic(topic))
            operations[f"{service.name}.deadLetter.{topic.split('.')[1]}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{dlq}"},
                "summary": f"{service.name}'s consumer parks a message of {topic} it cannot accept.",
                "messages": [{"$ref": f"#/channels/{dlq}/messages/DeadLettered"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "KongfuMall events", "version": "1.0.0",
                 "description": ("Every topic of the platform: one `kongfu.<service>.events` topic per "
                                 "service and its `.dlq`. Each message is a JSON envelope (see the Envelope "
                                 "schema) whose `payload` is the event's versioned contract. Generated by "
                                 "`make contracts`; do not edit.")},
        "defaultContentType": "application/json",
        "servers": {"cluster": {"host": f"{k8s.KAFKA_CLUSTER}-kafka-bootstrap:9093", "protocol": "kafka",
                                "description": "Strimzi cluster (SASL/SCRAM-SHA-512 over TLS)",
                                "security": [{"$ref": "#/components/securitySchemes/scram"}]}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas,
                       "securitySchemes": {"scram": {"type": "scramSha512",
                                                     "description": "A KafkaUser per service."}}},
    }


def _add_channels(channels, topic: str, title: str, dlq_title: str, description: str, messages: list[str]) -> None:
    """An event topic kept forever, and its dead-letter topic."""
    channels[_channel_id(topic)] = {
        "address": topic, "title": title, "description": description,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {"kafka": {"topic": topic, "partitions": k8s.EVENT_PARTITIONS, "replicas": 3,
                               "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": -1},
                               "bindingVersion": "0.5.0"}},
    }
    channels[_channel_id(dead_letter_topic(topic))] = {
        "address": dead_letter_topic(topic), "title": dlq_title,
        "description": f"Messages of {topic} that a consumer refused; any message here is an alert.",
        "messages": {"DeadLettered": {"$ref": "#/components/messages/DeadLettered"}},
    }


def _streams_channel(service, contracts, readers, channels, operations) -> None:
    """The topic a service's `streams` role publishes its verdicts on (fraud's faust agents)."""
    streams = service.streams
    channel = _channel_id(streams.topic)
    published = [f"{t}.v{v}" for (t, v) in contracts if t in streams.event_types]
    _add_channels(channels, streams.topic, f"{service.name} streams verdicts", f"{service.name} streams dead letters",
                  (f"Published by {service.name}'s streams role (faust-streaming agents reading "
                   f"{', '.join(streams.sources)}; consumer group {streams.group}; re-keying topics "
                   f"{', '.join(streams.internal_topics)}; table changelogs {', '.join(streams.changelog_topics)}); "
                   f"read by {', '.join(sorted(readers.get(streams.topic, [])))}. Kept forever."), published)
    operations[f"{service.name}.streams.publish"] = {
        "action": "send", "channel": {"$ref": f"#/channels/{channel}"},
        "summary": (f"{service.name}'s streams role publishes a verdict per rule tripped; its event id is "
                    "derived from the payment or order and the rule, so a re-run publishes the same id."),
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in published],
    }


def render() -> str:
    return ("# Generated by `make contracts` from contracts/ and the services' topology; do not edit.\n"
            + yaml.safe_dump(document(), sort_keys=False, width=120, allow_unicode=True))


def export() -> Path:
    PATH.write_text(render())
    return PATH


def stale() -> list[str]:
    if not PATH.exists() or PATH.read_text() != render():
        return [f"{PATH.name} is out of date: run `make contracts`"]
    return []
