from decimal import Decimal

from services.fraud import rules
from services.fraud.rules import PricedItem


def test_one_payment_is_not_a_duplicate():
    assert rules.duplicate_payment(["p1"]) == []
    assert rules.duplicate_payment(["p1", "p1"]) == []  # the same payment seen twice


def test_two_payments_are_a_duplicate():
    (reason,) = rules.duplicate_payment(["p1", "p2"])
    assert "duplicate payment" in reason and "2 payments" in reason


def test_price_near_reference_is_regular():
    item = PricedItem("taobao", "1", Decimal("120"))
    assert rules.irregular_price(item, Decimal("100")) == []


def test_price_far_from_reference_is_irregular():
    item = PricedItem("taobao", "1", Decimal("10"))
    (reason,) = rules.irregular_price(item, Decimal("100"))
    assert "irregular price" in reason and "90%" in reason


def test_no_reference_no_price_finding():
    assert rules.irregular_price(PricedItem("jd", "9", Decimal("1")), None) == []


def test_assess_combines_findings():
    items = [PricedItem("taobao", "1", Decimal("10")), PricedItem("jd", "2", Decimal("50"))]
    reasons = rules.assess(["a", "b"], items, {("taobao", "1"): Decimal("100")})
    assert len(reasons) == 2
    assert rules.assess(["a"], items, {}) == []
