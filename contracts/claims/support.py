"""After-sales support: tickets and their answers, satisfaction surveys and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.registry import EventPayload, register


TicketTopic = Literal["damage", "missing_item", "wrong_item", "shipping_anomaly", "question"]


@register
class TicketOpened(EventPayload):
    """An after-sales ticket; its first answer is due by `due_at` (24 hours, urgent: 1 hour)."""

    event_type = "claims.TicketOpened"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    topic: TicketTopic
    urgent: bool
    subject: str
    due_at: datetime


@register
class TicketAnswered(EventPayload):
    event_type = "claims.TicketAnswered"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    answer: str
    answered_at: datetime
    within_sla: bool


@register
class TicketEscalated(EventPayload):
    """The first-answer deadline passed unanswered: the breach is recorded and the ticket goes up."""

    event_type = "claims.TicketEscalated"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    due_at: datetime
    escalated_at: datetime


@register
class TicketClosed(EventPayload):
    event_type = "claims.TicketClosed"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    closed_by: str


@register
class SatisfactionRated(EventPayload):
    """A customer's rating (1-5) after receipt, a claim or a ticket, for analytics."""

    event_type = "claims.SatisfactionRated"
    survey_id: UUID
    customer_id: str
    order_id: UUID | None
    about: Literal["receipt", "ticket", "claim"]
    subject_id: UUID
    rating: int
    comment: str


@register
class SurveyOffered(EventPayload):
    """A satisfaction survey offered to the customer: after receipt is confirmed, after a claim is
    decided and after a ticket is closed. Answered once (`claims.SatisfactionRated`, same
    survey_id). `handled_by` (the agent who decided or answered) and `line_code` (the shipping line)
    let staff compare results; neither is shown to the customer."""

    event_type = "claims.SurveyOffered"
    survey_id: UUID
    customer_id: str
    order_id: UUID | None
    about: Literal["receipt", "ticket", "claim"]
    subject_id: UUID
    handled_by: str | None
    line_code: str | None
