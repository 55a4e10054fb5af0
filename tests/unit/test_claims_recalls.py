"""Recalled items that had already shipped: claims opens one recall claim per item, decided by the
compensation rule book and paid through claims.CompensationDecided, once however often the recall
is redelivered; an item still in the warehouse opens nothing here; a recall arriving before the
packing is claimed when the packing arrives."""

import uuid

from contracts.warehouse import ItemRecalled
from services.claims.compensation import RULES_VERSION
from tests.unit.test_claims_app import ORDER, PARCEL, SHIRTS, VASE, claims, packed  # noqa: F401

RECALL_ID = uuid.UUID("3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f")


def recalled(code=VASE, shipped=True):
    return ItemRecalled(traceability_code=code, order_id=ORDER, customer_id="alice", line_no=1,
                        recall_id=RECALL_ID, reason="lead in the glaze", shipped=shipped,
                        parcel_id=PARCEL if shipped else None)


def decisions(claims):
    return [e.payload for e in claims.published() if e.type == "claims.CompensationDecided"]


def test_a_shipped_recalled_item_gets_one_claim_paid_by_the_rule_book(claims):
    assert claims.react(packed()) == "handled"
    for _ in range(3):  # redelivered and re-published: still one claim
        assert claims.react(recalled()) == "handled"
    (opened,) = [e.payload for e in claims.published() if e.type == "claims.ClaimOpened"]
    assert opened["kind"] == "recall" and opened["traceability_code"] == VASE and opened["origin"] == "automatic"
    (decision,) = decisions(claims)
    assert decision["approved"] is True and decision["amount"] == "268.00" and decision["customer_id"] == "alice"
    assert decision["rule"] == "recalled_item_full_value" and decision["rule_version"] == RULES_VERSION
    assert "lead in the glaze" in decision["notes"] and "召回" in decision["explanation_zh"]

    claims.project()
    mine = claims.client.get("/me/claims", headers=claims.as_("alice", "customer")).json()
    assert [(c["kind"], c["decision"]["amount"]) for c in mine["items"]] == [("recall", "268.00")]
    assert "decided_by" not in mine["items"][0]["decision"]


def test_an_item_still_in_the_warehouse_opens_no_claim(claims):
    claims.react(packed())
    assert claims.react(recalled(SHIRTS, shipped=False)) == "handled"
    assert decisions(claims) == []


def test_a_recall_before_the_packing_is_claimed_when_the_packing_arrives(claims):
    assert claims.react(recalled()) == "handled"
    assert decisions(claims) == []
    claims.react(packed())
    claims.react(packed())
    (decision,) = decisions(claims)
    assert decision["kind"] == "recall" and decision["amount"] == "268.00"


def test_an_item_already_compensated_is_not_paid_again_by_its_recall(claims):
    from tests.unit.test_claims_app import claim_body, decide, open_claim, receipt

    claims.react(packed())
    claims.react(receipt())
    claim = open_claim(claims, claim_body()).json()
    decide(claims, claim["claim_id"])
    claims.react(recalled())
    assert [d["kind"] for d in decisions(claims)] == ["damaged"]
