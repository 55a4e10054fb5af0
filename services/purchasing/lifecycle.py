"""The purchase task's state machine (pure): which step may follow which, and why not.

A hold (the order is under payment review) is not a state of its own: it stops a purchase
whatever the state, and lifts nothing when the state changes.
"""

from __future__ import annotations

from service_runtime.errors import Conflict

OPEN = "open"
AWAITING_CUSTOMER = "awaiting_customer"
PURCHASED = "purchased"
SHIPPED = "shipped_to_warehouse"
CANCELLED = "cancelled"
STATUSES = (OPEN, AWAITING_CUSTOMER, PURCHASED, SHIPPED, CANCELLED)

# Not yet bought: what a hold or a cancelled line still affects.
UNFINISHED = (OPEN, AWAITING_CUSTOMER)

# step -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "purchase": ((OPEN,), PURCHASED),
    "request_price_change": ((OPEN,), AWAITING_CUSTOMER),
    "report_out_of_stock": ((OPEN,), AWAITING_CUSTOMER),
    "reopen_at_new_price": ((AWAITING_CUSTOMER,), OPEN),
    "record_domestic_shipment": ((PURCHASED,), SHIPPED),
    "cancel": (UNFINISHED, CANCELLED),
}

# Why a step is refused in a given status, in words an agent can act on.
REFUSALS = {
    AWAITING_CUSTOMER: "it is waiting for the customer's decision",
    PURCHASED: "it was already purchased",
    SHIPPED: "it was already purchased and shipped to the warehouse",
    CANCELLED: "it was cancelled",
    OPEN: "it has not been purchased yet",
}


def after(step: str) -> str:
    """The status a step leads to (recording an event that already passed `next_status`)."""
    return TRANSITIONS[step][1]


def next_status(status: str, step: str, *, on_hold: bool = False) -> str:
    """The status after `step`, or Conflict (409) saying why the step can't happen now."""
    starts, result = TRANSITIONS[step]
    wording = step.replace("_", " ")
    if status not in starts:
        raise Conflict(f"cannot {wording}: {REFUSALS[status]}")
    if on_hold and step == "purchase":
        raise Conflict("cannot purchase: the order is on hold by payment review; "
                       "wait until the hold is resolved")
    return result
