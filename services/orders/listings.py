"""Listings orders must refuse: taken down by a rights holder, or sold by a blocked merchant.

Orders learns a merchant's block from purchasing's published `MerchantBlocked` (never by asking
purchasing); a takedown is recorded here by a risk analyst on the rights holder's request.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id

ANOTHER_SELLER = "search the marketplace for another seller of this product"


def listing_key(platform: str, item_id: str) -> UUID:
    return stable_id("listing", platform, item_id)


class Listing(TracedAggregate):
    @staticmethod
    def create_id(platform: str, item_id: str) -> UUID:
        return listing_key(platform, item_id)

    @event("Noted")
    def __init__(self, platform: str, item_id: str) -> None:
        self.platform, self.item_id = platform, item_id
        self.blocks: dict[str, dict] = {}  # source (merchant:<id> | takedown:<id>) -> rule and reason

    def block(self, source: str, rule: str, reason: str) -> None:
        if self.blocks.get(source) != {"rule": rule, "reason": reason}:
            self._blocked(source=source, rule=rule, reason=reason)

    @event("Blocked")
    def _blocked(self, source: str, rule: str, reason: str) -> None:
        self.blocks[source] = {"rule": rule, "reason": reason}

    def unblock(self, source: str) -> None:
        if source in self.blocks:
            self._unblocked(source=source)

    @event("Unblocked")
    def _unblocked(self, source: str) -> None:
        self.blocks.pop(source)

    def refusals(self) -> list[dict]:
        return [{"rule": block["rule"], "reason": f"{block['reason']}; {ANOTHER_SELLER}"}
                for _, block in sorted(self.blocks.items())]
