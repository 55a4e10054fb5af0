"""Satisfaction surveys (pure): offered after receipt, a decided claim or a closed ticket, and
rated (1-5) once. A rating is its own aggregate (`Survey`, whose id is the published survey_id);
the offer (`SurveyOffer`) is what the customer is asked, open until answered."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate, stable_id

OPEN, ANSWERED = "open", "answered"


def survey_id(about: str, subject_id: Any) -> UUID:
    return stable_id("survey", about, subject_id)


def offer_id(about: str, subject_id: Any) -> UUID:
    return stable_id("survey-offer", about, subject_id)


class SurveyOffer(TracedAggregate):
    @staticmethod
    def create_id(offer_id: UUID, **_: Any) -> UUID:
        return offer_id

    @event("Offered")
    def __init__(self, offer_id: UUID, survey_id: UUID, about: str, subject_id: UUID, customer_id: str,
                 order_id: UUID | None, handled_by: str | None, line_code: str | None) -> None:
        self.survey_id = survey_id
        self.about, self.subject_id = about, subject_id
        self.customer_id, self.order_id = customer_id, order_id
        self.status = OPEN

    def answer(self) -> None:
        if self.status != OPEN:
            raise Conflict(f"{self.about} {self.subject_id} was already rated")
        self._answer(survey_id=self.survey_id)

    @event("Answered")
    def _answer(self, survey_id: UUID) -> None:
        self.status = ANSWERED


class Survey(TracedAggregate):
    @staticmethod
    def create_id(survey_id: UUID, **_: Any) -> UUID:
        return survey_id

    @event("Rated")
    def __init__(self, survey_id: UUID, about: str, subject_id: UUID, customer_id: str, order_id: UUID | None,
                 rating: int, comment: str) -> None:
        self.survey_id = survey_id
        self.about = about
        self.subject_id = subject_id
        self.customer_id = customer_id
        self.order_id = order_id
        self.rating = rating
        self.comment = comment
