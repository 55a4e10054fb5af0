"""How long a payment may wait for what only the platform or its payer can move on (pure).

A pending payment is saved with a timer (`payment.deadline`, `services/payments/app.py`); at its
deadline one that still waits for us or its payer is given up (`PaymentIntent.give_up_at_deadline`),
so that a bill it holds can be paid again.
"""

from __future__ import annotations

from datetime import timedelta

# How long the request that saved a payment may still be asking its provider (a provider call
# times out after 5 s by default): a repeat of it within this is told to wait, not sent too.
SUBMISSION_GRACE = timedelta(seconds=30)
# A payment no provider has heard of this long after it was saved was left by a request that
# ended before asking (or before saving the answer), and nobody repeated it. It fails then, so
# that a bill it holds can be paid again; a provider that did take the money confirms it later,
# and that goes to the balance (`confirm`: "late").
SUBMISSION_DEADLINE = timedelta(minutes=15)
# A payment its payer must approve at the provider (PayPal) is captured by us only: one still
# waiting for its payer after this is given up likewise (PayPal's own window for capturing an
# approval is 3 hours by default), and a capture of it is refused from then on.
APPROVAL_DEADLINE = timedelta(hours=3)
NEVER_SUBMITTED = (f"abandoned: no provider heard of it within {SUBMISSION_DEADLINE.seconds // 60} minutes (the "
                   "request that made it ended early and was not repeated); pay again with a new "
                   "Idempotency-Key. Money a provider took anyway is credited to the balance")
NEVER_APPROVED = (f"abandoned: the payer did not approve it at the provider within "
                  f"{APPROVAL_DEADLINE.seconds // 3600} hours; pay again with a new Idempotency-Key")


def deadline_for(payer_approves: bool) -> timedelta:
    """How long a new payment may wait for what only the platform or its payer can move on."""
    return APPROVAL_DEADLINE if payer_approves else SUBMISSION_DEADLINE
