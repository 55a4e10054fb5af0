"""Satisfaction ratings: one per closed ticket or decided claim (pure)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id


def survey_id(about: str, subject_id: Any) -> UUID:
    return stable_id("survey", about, subject_id)


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
