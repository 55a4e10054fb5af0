"""contracts/asyncapi.yaml and contracts/envelope.schema.json: valid against their specifications
(an independent validator: the AsyncAPI 3.0.0 JSON Schema from npm @asyncapi/specs, run by
jsonschema), generated from the code, and covering every event type."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import referencing.jsonschema
import yaml
from referencing import Registry, Resource

from contracts import all_contracts
from contracts.schemas import ENVELOPE_SCHEMA
from kongfu import asyncapi
from kongfu.topology import topology
from service_runtime.publishing import Publication
from services.orders.bootstrap import PUBLISHES
from services.orders.domain import Order

SPEC = Path(__file__).parent / "asyncapi/node_modules/@asyncapi/specs/schemas/3.0.0.json"


@pytest.fixture(scope="module")
def spec_validator():
    assert SPEC.exists(), "the AsyncAPI specification schemas are missing: run tests/tools.sh (make test does)"
    spec = json.loads(SPEC.read_text())
    resources = [(spec["$id"], Resource.from_contents(spec))]
    resources += [(d["$id"], Resource.from_contents(d, default_specification=referencing.jsonschema.DRAFT7))
                  for d in spec["definitions"].values() if "$id" in d]
    return jsonschema.Draft7Validator(spec, registry=Registry().with_resources(resources))


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(asyncapi.PATH.read_text())


def test_checked_in_document_is_what_the_code_says():
    assert asyncapi.stale() == []


def test_document_is_valid_asyncapi_3(spec_validator, document):
    assert document["asyncapi"] == "3.0.0"
    assert [e.message for e in spec_validator.iter_errors(document)] == []


def test_the_validator_refuses_a_broken_document(spec_validator, document):
    broken = copy.deepcopy(document)
    broken["operations"]["orders.publish"]["action"] = "publish"  # AsyncAPI 2 wording
    del broken["channels"]["orders-events"]["messages"]["orders.OrderPlaced.v1"]["$ref"]
    broken["channels"]["orders-events"]["messages"]["orders.OrderPlaced.v1"]["headers"] = "none"
    assert len(list(spec_validator.iter_errors(broken))) >= 2


def test_every_event_type_and_version_has_its_message_in_its_topic(document):
    # A streams role's verdicts have their own topic (fraud's faust agents: kongfu.fraud-streams.events).
    streamed = {t: s.streams.topic for s in topology() if s.streams is not None for t in s.streams.event_types}
    assert streamed == {"fraud.VelocityRuleTripped": "kongfu.fraud-streams.events"}
    for (event_type, version), model in all_contracts().items():
        message_id = f"{event_type}.v{version}"
        address = streamed.get(event_type, f"kongfu.{event_type.split('.')[0]}.events")
        channel = document["channels"][address.replace("kongfu.", "").replace(".", "-")]
        assert channel["address"] == address
        assert message_id in channel["messages"], message_id
        assert document["components"]["messages"][message_id]["name"] == event_type
        assert set(document["components"]["schemas"][message_id]["properties"]) == set(model.model_fields)


def test_publishers_and_consumers_are_the_registry_s(document):
    operations = document["operations"]
    for service in topology():
        sent = {m["$ref"].rsplit("/", 1)[1] for m in operations[f"{service.name}.publish"]["messages"]}
        assert {s.rsplit(".v", 1)[0] for s in sent} == set(service.event_types)
        received = {m["$ref"].rsplit("/", 1)[1].rsplit(".v", 1)[0]
                    for name, op in operations.items() if name.startswith(f"{service.name}.read.")
                    for m in op["messages"]}
        assert set(service.handled_types) <= received, service.name
        for topic in service.consumes:
            assert f"{service.name}.deadLetter.{topic.split('.')[1]}" in operations


def test_a_published_message_matches_its_asyncapi_schema_and_the_envelope_schema(document):
    publication = Publication("orders", PUBLISHES)
    quote = {"currency": "CNY", "lines": [{"code": "items", "label": "Items", "amount": Decimal("10.00")}],
             "total": Decimal("10.00"), "rules_version": "t"}
    line = {"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "https://item.jd.com/1.html",
            "sku": "s", "quantity": 1, "unit_price": Decimal("10.00")}
    order = Order(customer_id="alice", destination_country="GB", lines=[line], quote=quote)
    envelope = json.loads(publication.record(publication.envelope(order.collect_events()[0])).value)
    registry = Registry().with_resource("urn:kongfu:asyncapi", Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012))
    message = {"$ref": "urn:kongfu:asyncapi#/components/messages/orders.OrderPlaced.v1/payload"}
    validator = jsonschema.Draft202012Validator(message, registry=registry)
    assert [e.message for e in validator.iter_errors(envelope)] == []
    wrong = {**envelope, "payload": {**envelope["payload"], "lines": "none"}}
    assert list(validator.iter_errors(wrong))
    envelope_schema = json.loads(ENVELOPE_SCHEMA.read_text())
    jsonschema.Draft202012Validator(envelope_schema).validate(envelope)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(envelope_schema).validate({**envelope, "smuggled": 1})
