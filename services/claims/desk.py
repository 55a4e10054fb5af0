"""The support desk: tickets with a first-answer deadline, and satisfaction ratings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from service_runtime import timers
from service_runtime.auth import AUDITOR, CUSTOMER, PURCHASING_AGENT, SUPPORT_AGENT, Caller
from service_runtime.errors import Conflict, NotFound
from service_runtime.timers import Timer
from services.claims.compensation import RULES_VERSION, evaluate
from services.claims.returns import RETURNS_VERSION, ItemReturn, judge, postage_for
from services.claims.guarantees import ClaimsOrder, order_facts_id
from services.claims.surveys import Survey, SurveyOffer, offer_id, survey_id
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
            was_closed = ticket.status == CLOSED
            ticket.close(f"{'customer' if caller.subject == ticket.customer_id else 'support'}:{caller.subject}")
            answered_by = ticket.answers[0]["answered_by"] if ticket.answers else None
            survey = [] if was_closed else self.offer_survey("ticket", ticket.id, ticket.customer_id, ticket.order_id,
                                                             answered_by)
            return [ticket, *timers.cancel(self, FIRST_ANSWER_DUE, ticket_id), *survey], ticket

        return self.save_with_retry(attempt)

    def request_return(self, caller: Caller, order_id: UUID, line_no: int, kind: str, reason: str,
                       product_type: str) -> ItemReturn:
        """A return to the merchant or an exchange, judged by the published rules at once."""
        order = self.find(order_facts_id(order_id), ClaimsOrder)
        if order is None or order.customer_id != caller.subject:
            raise NotFound(f"order {order_id} not found")
        received = order.received.get(line_no)
        if received is None or "received_at" not in received:
            raise Conflict(f"line {line_no} of order {order_id} has not arrived at our warehouse yet")
        approved, rule, english, chinese = judge(reason, product_type, received["category"],
                                                 datetime.fromisoformat(received["received_at"]), self.clock.now())
        item_return = ItemReturn(return_id=uuid.uuid4(), order_id=order_id, customer_id=caller.subject,
                                 line_no=line_no, traceability_code=received["traceability_code"], kind=kind,
                                 reason=reason, product_type=product_type, approved=approved, rule=rule,
                                 rules_version=RETURNS_VERSION, explanation_en=english, explanation_zh=chinese)
        self.save(item_return)
        return item_return

    def return_for(self, caller: Caller, return_id: UUID) -> ItemReturn:
        item_return = self.find(return_id, ItemReturn)
        if item_return is None or not caller.can_read_customer_data(item_return.customer_id, SUPPORT_AGENT,
                                                                      AUDITOR, PURCHASING_AGENT):
            raise NotFound(f"return {return_id} not found")
        return item_return

    def ship_back(self, caller: Caller, return_id: UUID, carrier: str, tracking_number: str) -> ItemReturn:
        def attempt() -> tuple[list, ItemReturn]:
            item_return = self.return_for(caller, return_id)
            item_return.ship_back(carrier, tracking_number, caller.subject)
            return [item_return], item_return

        return self.save_with_retry(attempt)

    def merchant_refunded(self, caller: Caller, return_id: UUID, amount: Decimal) -> ItemReturn:
        """The merchant refunded the returned item: the customer is credited, postage itemised."""
        def attempt() -> tuple[list, ItemReturn]:
            item_return = self.return_for(caller, return_id)
            facts = {"kind": "return_refund", "approved": "true", "merchant_refund": str(amount),
                     "return_postage": str(postage_for(item_return.reason))}
            item_return.refund(evaluate(RULES_VERSION, facts), caller.subject)
            return [item_return], item_return

        return self.save_with_retry(attempt)

    def on_first_answer_due(self, timer: Timer, now: datetime) -> list[Any]:
        ticket = self.find(UUID(timer.subject), Ticket)
        if ticket is None or not ticket.escalate(now):
            return []
        return [ticket]

    def rate(self, caller: Caller, about: str, subject_id: UUID, rating: int, comment: str) -> Survey:
        """A customer's 1-5 rating of their received parcel, closed ticket or decided claim, once each."""
        if CUSTOMER not in caller.roles:
            raise NotFound(f"{about} {subject_id} not found")
        if about == "receipt":
            parcel = self.own_parcel(caller, subject_id)
            customer_id, order_id, done, when = parcel.customer_id, parcel.order_ids[0], parcel.receipt_confirmed, \
                "received"
        else:
            subject = self.ticket_for(caller, subject_id) if about == "ticket" else self.claim_for(caller, subject_id)
            customer_id, order_id = subject.customer_id, subject.order_id
            done, when = (subject.status == CLOSED, "closed") if about == "ticket" else (subject.status != "open",
                                                                                       "decided")
        if customer_id != caller.subject:
            raise NotFound(f"{about} {subject_id} not found")
        if not done:
            raise Conflict(f"{about} {subject_id} can be rated once it is {when}")
        if self.find(survey_id(about, subject_id), Survey) is not None:
            raise Conflict(f"{about} {subject_id} was already rated")
        survey = Survey(survey_id=survey_id(about, subject_id), about=about, subject_id=subject_id,
                        customer_id=caller.subject, order_id=order_id, rating=rating, comment=comment)
        offer = self.find(offer_id(about, subject_id), SurveyOffer)
        if offer is not None:
            offer.answer()  # the offered survey closes; saved with the rating, so a race is a 409
        self.save(survey, *([offer] if offer else []))
        return survey

    def offer_survey(self, about: str, subject_id: UUID, customer_id: str, order_id: UUID | None,
                     handled_by: str | None, line_code: str | None = None) -> list[Any]:
        """Offer the customer a satisfaction survey once per subject (none once it is rated)."""
        with self.loading_together(offer_id(about, subject_id), survey_id(about, subject_id)):
            if self.find(offer_id(about, subject_id), SurveyOffer) or self.find(survey_id(about, subject_id), Survey):
                return []
        return [SurveyOffer(offer_id=offer_id(about, subject_id), survey_id=survey_id(about, subject_id),
                            about=about, subject_id=subject_id, customer_id=customer_id, order_id=order_id,
                            handled_by=handled_by, line_code=line_code)]
