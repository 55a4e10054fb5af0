"""After-sales tickets and their first-answer deadline (pure; published at `GET /rules/support`).

A customer opens a ticket (damage, missing item, wrong item, shipping anomaly, question), urgent
or not. Its first answer is due within 24 hours, an urgent one within 1 hour: a durable timer
escalates it, once, if the deadline passes unanswered, and the breach stays on the ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate

SUPPORT_VERSION = "support-2026.12"
FIRST_ANSWER_HOURS = {"normal": 24, "urgent": 1}
FIRST_ANSWER_DUE = "ticket.first-answer"  # timer purpose
OPEN, ANSWERED, CLOSED = "open", "answered", "closed"


def first_answer_due(opened_at: datetime, urgent: bool) -> datetime:
    return opened_at + timedelta(hours=FIRST_ANSWER_HOURS["urgent" if urgent else "normal"])


def published_support_rules() -> dict[str, Any]:
    return {"version": SUPPORT_VERSION, "first_answer_hours": FIRST_ANSWER_HOURS,
            "topics": ["damage", "missing_item", "wrong_item", "shipping_anomaly", "question"],
            "escalation": "a ticket unanswered at its deadline is escalated once and the breach recorded"}


class Ticket(TracedAggregate):
    @staticmethod
    def create_id(ticket_id: UUID, **_: Any) -> UUID:
        return ticket_id

    @event("Opened")
    def __init__(self, ticket_id: UUID, customer_id: str, order_id: UUID | None, topic: str, urgent: bool,
                 subject: str, due_at: datetime) -> None:
        self.ticket_id = ticket_id
        self.customer_id = customer_id
        self.order_id = order_id
        self.topic = topic
        self.urgent = urgent
        self.subject = subject
        self.due_at = due_at
        self.status = OPEN
        self.answers: list[dict] = []
        self.escalated_at: datetime | None = None

    def answer(self, text: str, by: str, now: datetime) -> None:
        if self.status == CLOSED:
            raise Conflict(f"ticket {self.id} is closed")
        first_answer_at = self.answers[0]["answered_at"] if self.answers else now
        self._answer(ticket_id=self.id, customer_id=self.customer_id, order_id=self.order_id, answer=text,
                     answered_by=by, answered_at=now, within_sla=first_answer_at <= self.due_at)

    @event("Answered")
    def _answer(self, ticket_id: UUID, customer_id: str, order_id: UUID | None, answer: str, answered_by: str,
                answered_at: datetime, within_sla: bool) -> None:
        self.status = ANSWERED
        self.answers.append({"answer": answer, "answered_by": answered_by, "answered_at": answered_at,
                             "within_sla": within_sla})

    def escalate(self, now: datetime) -> bool:
        """Escalate if the first answer is still missing; False (nothing recorded) otherwise."""
        if self.answers or self.status == CLOSED or self.escalated_at is not None:
            return False
        self._escalate(ticket_id=self.id, customer_id=self.customer_id, order_id=self.order_id,
                       due_at=self.due_at, escalated_at=now)
        return True

    @event("Escalated")
    def _escalate(self, ticket_id: UUID, customer_id: str, order_id: UUID | None, due_at: datetime,
                  escalated_at: datetime) -> None:
        self.escalated_at = escalated_at

    def close(self, by: str) -> None:
        if self.status == CLOSED:
            return
        self._close(ticket_id=self.id, customer_id=self.customer_id, order_id=self.order_id, closed_by=by)

    @event("Closed")
    def _close(self, ticket_id: UUID, customer_id: str, order_id: UUID | None, closed_by: str) -> None:
        self.status = CLOSED
