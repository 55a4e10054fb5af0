"""The request types every gateway shares."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from service_runtime.clock import utc_timestamp
from service_runtime.requests import Money, ProviderReference, fingerprint

references = TypeAdapter(ProviderReference)
money = TypeAdapter(Money)


@pytest.mark.parametrize("card", ["4111111111111111", "4111-1111-1111-1111", "pay:5500005555555559",
                                  "378282246310005"])
def test_a_card_number_is_never_a_provider_reference(card):
    with pytest.raises(ValidationError) as refused:
        references.validate_python(card)
    assert "card number" in str(refused.value) and card not in str(refused.value.errors()[0]["msg"])


@pytest.mark.parametrize("reference", ["pi_3NxYz2LkdIwHu7ix0aBcDeF", "PAYID-M5X7Q2A12345",
                                       "2026112822001412345678901234", "4111111111111112"])
def test_provider_references_pass(reference):
    assert references.validate_python(reference) == reference


def test_money_is_kept_in_cents_so_one_amount_has_one_fingerprint():
    assert money.validate_python("248") == Decimal("248.00")
    assert str(money.validate_python("248")) == "248.00"
    assert fingerprint({"amount": money.validate_python("248"), "line": "x"}) == \
        fingerprint({"line": "x", "amount": money.validate_python("248.00")})
    with pytest.raises(ValidationError):
        money.validate_python("248.001")


def test_times_from_different_offsets_sort_by_the_moment():
    shanghai_morning = datetime(2026, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # 01:00 UTC
    utc_three = "2026-11-28T03:00:00Z"
    assert utc_timestamp(shanghai_morning) < utc_timestamp(utc_three)
    assert utc_timestamp(shanghai_morning) == "2026-11-28T01:00:00.000000+00:00"
    assert utc_timestamp(utc_three) == utc_timestamp(datetime(2026, 11, 28, 3, tzinfo=timezone.utc))


def test_driver_references_are_deterministic_and_never_card_data():
    from kongfu.demo import provider_reference

    references = [provider_reference("pi_", "order", n) for n in range(20_000)]
    assert references[7] == provider_reference("pi_", "order", 7)  # the same on every retry
    assert len(set(references)) == len(references)
    valid = TypeAdapter(ProviderReference)
    for reference in references:
        assert valid.validate_python(reference) == reference  # the card-number check lets it pass
        assert not any(ch.isdigit() for ch in reference)
