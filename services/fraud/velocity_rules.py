"""Velocity rules, pure: from the facts of one window to a verdict, or none.

The same functions decide on the faust-streaming agents (`services/fraud/streams.py`, the stack's
`streams` role) and in-process on the embedded default (`services/fraud/velocity.py`), so a rule
lives here only. Windows are one hour of event time (the envelope's `occurred_at`), tumbling on
the UTC hour, so a replay or a late event falls in the window it happened in.

Thresholds are settings (`KONGFU_FRAUD_VELOCITY_*`), not a published rule set: a threshold a
fraudster can read is one to stay under. Their version string goes into every verdict's
`rules_version`, with the values in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

VELOCITY_VERSION = "velocity-2026.12b"
WINDOW = timedelta(hours=1)

# Rule names, as verdicts and hold reasons carry them.
CUSTOMER_PAYMENTS = "customer_payments_per_hour"
CUSTOMER_AMOUNT = "customer_amount_per_hour"
CARD_CUSTOMERS = "card_customers_per_hour"
FIRST_ORDER = "first_order_amount"


@dataclass(frozen=True)
class Thresholds:
    max_payments: int = 20  # more than this many payments by one customer within the hour
    max_amount: Decimal = Decimal("200000.00")  # more than this (CNY) paid by one customer within the hour
    max_customers_per_card: int = 3  # one card fingerprint used by more than this many customers within the hour
    first_order_limit: Decimal = Decimal("20000.00")  # a customer's first order above this (CNY)
    settings_version: str = "default"  # KONGFU_FRAUD_VELOCITY_VERSION: which threshold set is in force

    @property
    def version(self) -> str:
        return (f"{VELOCITY_VERSION}/{self.settings_version}(payments>{self.max_payments}/h,"
                f"amount>{self.max_amount}/h,customers-per-card>{self.max_customers_per_card}/h,"
                f"first-order>{self.first_order_limit})")


@dataclass(frozen=True)
class Verdict:
    rule: str
    reason: str
    rules_version: str


def window_of(at: datetime) -> tuple[datetime, datetime]:
    """The tumbling hour an event time falls in: [start, end)."""
    at = at.astimezone(timezone.utc)
    start = at.replace(minute=0, second=0, microsecond=0)
    return start, start + WINDOW


def customer_payments(payments: int, amount: Decimal, t: Thresholds) -> Verdict | None:
    """`payments` and `amount`: the customer's payments in the window, the reviewed one included."""
    if payments > t.max_payments:
        return Verdict(CUSTOMER_PAYMENTS, f"velocity ({CUSTOMER_PAYMENTS}): {payments} payments by this customer "
                                          f"within an hour (more than {t.max_payments})", t.version)
    if amount > t.max_amount:
        return Verdict(CUSTOMER_AMOUNT, f"velocity ({CUSTOMER_AMOUNT}): {amount} CNY paid by this customer within "
                                        f"an hour (more than {t.max_amount} CNY)", t.version)
    return None


def card_customers(customers: int, t: Thresholds) -> Verdict | None:
    """`customers`: distinct customers who paid with one card fingerprint in the window."""
    if customers > t.max_customers_per_card:
        return Verdict(CARD_CUSTOMERS, f"velocity ({CARD_CUSTOMERS}): this card paid for {customers} customers "
                                       f"within an hour (more than {t.max_customers_per_card})", t.version)
    return None


def first_order(is_first: bool, amount: Decimal, t: Thresholds) -> Verdict | None:
    """A new account's first order (the earliest the customer placed, by event time) above the limit."""
    if is_first and amount > t.first_order_limit:
        return Verdict(FIRST_ORDER, f"velocity ({FIRST_ORDER}): a new account's first order of {amount} CNY "
                                    f"(more than {t.first_order_limit} CNY)", t.version)
    return None


def payment_verdicts(payments: int, amount: Decimal, card_customer_count: int, t: Thresholds) -> list[Verdict]:
    """Every rule a card or balance payment trips (a payment without a card fingerprint, e.g.
    PayPal or the balance, has no card window: pass 0)."""
    found = [customer_payments(payments, amount, t), card_customers(card_customer_count, t)]
    return [v for v in found if v is not None]
