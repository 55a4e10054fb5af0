"""Wiring: settings → the claims application, what it publishes, its handlers and gateway."""

from __future__ import annotations

from contracts import claims as published
from service_runtime.process import ServiceParts, assemble
from service_runtime.settings import Settings
from services.claims import abroad_api, api, consumers, projections
from services.claims.app import ClaimsApplication
from services.claims.counterfeit import Counterfeit
from services.claims.domain import Claim
from services.claims.returns import ItemReturn
from services.claims.returns_abroad import AbroadReturn
from services.claims.surveys import Survey, SurveyOffer
from services.claims.tickets import Ticket

# The parcel facts (ClaimsParcel) stay inside claims; only the claims themselves are published.
PUBLISHES = {
    Claim.Opened: published.ClaimOpenedV2,
    Claim.Decided: published.CompensationDecidedV3,
    Ticket.Opened: published.TicketOpened,
    Ticket.Answered: published.TicketAnswered,
    Ticket.Escalated: published.TicketEscalated,
    Ticket.Closed: published.TicketClosed,
    Survey.Rated: published.SatisfactionRated,
    SurveyOffer.Offered: published.SurveyOffered,
    Counterfeit.Confirmed: published.CounterfeitConfirmed,
    Claim.Adjusted: published.CompensationDecidedV3,
    ItemReturn.Decided: published.ReturnDecided,
    ItemReturn.ShippedBack: published.ReturnShippedToMerchant,
    ItemReturn.Refunded: published.CompensationDecidedV3,
    Claim.Disputed: published.DisputeOpened,
    Claim.DisputeResolved: published.DisputeResolved,
    AbroadReturn.Decided: published.AbroadReturnDecided,
    AbroadReturn.Shipped: published.AbroadReturnShipped,
    AbroadReturn.Received: published.AbroadReturnReceived,
    AbroadReturn.Inspected: published.AbroadReturnInspected,
    AbroadReturn.Refunded: published.CompensationDecidedV3,
}


def bootstrap(settings: Settings) -> ServiceParts:
    parts = assemble("claims", ClaimsApplication, PUBLISHES, settings, api.router, consumers.handlers,
                    consumers.CONSUMES, projections=[projections.COMPENSATION_DECISIONS, projections.SUPPORT_QUEUE,
                                                         projections.SATISFACTION_SURVEYS],
                    projection_router=projections.router, timer_factory=consumers.timers,
                    public_routers=[api.rules_router])
    parts.routers += [projections.queue_router(parts.projection_store), api.support_router(parts.app),
                      projections.survey_router(parts.projection_store),
                      abroad_api.router(parts.app), api.returns_router(parts.app)]
    return parts
