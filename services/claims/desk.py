"""The support desk: tickets with a first-answer deadline, and satisfaction ratings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from service_runtime import timers
from service_runtime.auth import AUDITOR, CUSTOMER, SUPPORT_AGENT, Caller
from service_runtime.errors import Conflict, NotFound
from service_runtime.timers import Timer
from services.claims.guarantees import ClaimsOrder, order_facts_id
from services.claims.surveys import Survey, survey_id
from services.claims.tickets import CLOSED, FIRST_ANSWER_DUE, Ticket, first_answer_due


class SupportDesk:
    """Mixed into `ClaimsApplication` (which provides find(), save_with_retry() and clock)."""

    def ticket_for(self, caller: Caller, ticket_id: UUID) -> Ticket:
        ticket = self.find(ticket_id, Ticket)
        if ticket is None or not caller.can_read_customer_data(ticket.customer_id, SUPPORT_AGENT, AUDITOR):
            raise NotFound(f"ticket {ticket_id} not found")
        return ticket

    def open_ticket(self, caller: Caller, topic: str, urgent: bool, subject: str,
                    order_id: UUID | None) -> Ticket:
        if order_id is not None:
            order = self.find(order_facts_id(order_id), ClaimsOrder)
            if order is None or order.customer_id != caller.subject:
                raise NotFound(f"order {order_id} not found")
        ticket_id = uuid.uuid4()
        due = first_answer_due(self.clock.now(), urgent)
        ticket = Ticket(ticket_id=ticket_id, customer_id=caller.subject, order_id=order_id, topic=topic,
                        urgent=urgent, subject=subject, due_at=due)
        self.save(ticket, timers.schedule(self, FIRST_ANSWER_DUE, ticket_id, due, order_id=order_id))
        return ticket

    def answer_ticket(self, caller: Caller, ticket_id: UUID, text: str) -> Ticket:
        def attempt() -> tuple[list, Ticket]:
            ticket = self.ticket_for(caller, ticket_id)
            if ticket.customer_id == caller.subject:
                raise Conflict("a ticket is answered by support, not by the customer who opened it")
            ticket.answer(text, caller.subject, self.clock.now())
            return [ticket, *timers.cancel(self, FIRST_ANSWER_DUE, ticket_id)], ticket

        return self.save_with_retry(attempt)

    def close_ticket(self, caller: Caller, ticket_id: UUID) -> Ticket:
        def attempt() -> tuple[list, Ticket]:
            ticket = self.ticket_for(caller, ticket_id)
            ticket.close(f"{'customer' if caller.subject == ticket.customer_id else 'support'}:{caller.subject}")
            return [ticket, *timers.cancel(self, FIRST_ANSWER_DUE, ticket_id)], ticket

        return self.save_with_retry(attempt)

    def on_first_answer_due(self, timer: Timer, now: datetime) -> list[Any]:
        ticket = self.find(UUID(timer.subject), Ticket)
        if ticket is None or not ticket.escalate(now):
            return []
        return [ticket]

    def rate(self, caller: Caller, about: str, subject_id: UUID, rating: int, comment: str) -> Survey:
        """A customer's 1-5 rating of their closed ticket or decided claim, once each."""
        if about == "ticket":
            subject = self.ticket_for(caller, subject_id)
            done = subject.status == CLOSED
        else:
            subject = self.claim_for(caller, subject_id)
            done = subject.status != "open"
        if subject.customer_id != caller.subject or CUSTOMER not in caller.roles:
            raise NotFound(f"{about} {subject_id} not found")
        if not done:
            raise Conflict(f"{about} {subject_id} can be rated once it is {'closed' if about == 'ticket' else 'decided'}")
        if self.find(survey_id(about, subject_id), Survey) is not None:
            raise Conflict(f"{about} {subject_id} was already rated")
        survey = Survey(survey_id=survey_id(about, subject_id), about=about, subject_id=subject_id, customer_id=caller.subject,
                        order_id=subject.order_id, rating=rating, comment=comment)
        self.save(survey)
        return survey
