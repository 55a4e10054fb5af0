"""Request types every gateway shares: strict bodies, money in cents, payment references that
can never be card data, and the fingerprint that ties an Idempotency-Key to one request."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

CENT = Decimal("0.01")
CARD_NUMBER_LENGTHS = range(13, 20)


class Strict(BaseModel):
    """A request body: an unknown field (a `card_number`, say) is a 422, never stored."""

    model_config = ConfigDict(extra="forbid")


def _in_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)  # "248" and "248.00" are one amount, stored one way


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _not_card_data(reference: str) -> str:
    joined = re.sub(r"[\s\-_.:]", "", reference)  # "4111-1111-1111-1111" is still a card number
    for run in re.findall(r"\d+", joined):
        if len(run) in CARD_NUMBER_LENGTHS and _luhn_valid(run):
            raise ValueError("looks like a card number: send the payment provider's reference, never card data")
    return reference


# A positive amount with at most two decimals, always as a string ("99.50"): a JSON number would be
# read through a float by many clients, and the schema a generated client follows says the same.
MONEY_PATTERN = r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$"


def decimal_text(pattern: str, example: str, rule: str) -> Any:
    """A decimal sent as a string that matches `pattern` (and documented so)."""

    def check(value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(rule)
        return value

    return [BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})]


Money = Annotated[Decimal, *decimal_text(MONEY_PATTERN, "99.50", "an amount is a decimal string above zero with at "
                                                                 "most two decimals, like \"99.50\""),
                  Field(gt=0, max_digits=12, decimal_places=2), AfterValidator(_in_cents)]
ProviderReference = Annotated[
    str,
    Field(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_\-:.]+$",
          description="the payment provider's reference (a Stripe PaymentIntent id, a PayPal order id)"),
    AfterValidator(_not_card_data),
]
PaymentMethod = Literal["paypal", "stripe", "bank_card"]


def _iso_date_text(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")  # not a unix time or any other lax reading
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]


def fingerprint(request: dict[str, Any]) -> str:
    """The same request gives the same fingerprint, whatever the order of its fields."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
