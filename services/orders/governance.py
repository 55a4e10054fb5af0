"""Orders' part in governance: screening lines before anything is bought, and the listings to refuse.

Placement calls `refuse_unacceptable_lines` once; everything else here reacts to purchasing's
merchant decisions or records a rights holder's takedown.
"""

from __future__ import annotations

import logging
from typing import Any

from contracts.purchasing import MerchantBlocked, MerchantUnblocked
from contracts.warehouse import ItemRecalled
from service_runtime.errors import DomainError
from service_runtime.store import ServiceApplication
from services.orders import screening
from services.orders.listings import Listing, listing_key
from services.orders.marketplace import parse_product_link

log = logging.getLogger("kongfu.orders.screening")
MERCHANT_BLOCK_RULE = "blocked-merchant"
TAKEDOWN_RULE = "rights-holder-takedown"


class LinesRefused(DomainError):
    """One or more lines may not be bought; `refused_lines` says which, by which rule and why."""


class Governance(ServiceApplication):
    def listing(self, platform: str, item_id: str) -> Listing | None:
        return self.find(listing_key(platform, item_id), Listing)

    def refuse_unacceptable_lines(self, lines: list[dict], destination_country: str) -> None:
        """A 422 naming every refused line with its rule and reason; the refusals are logged."""
        refused = [{"line_no": r.line_no, "rule": r.rule, "kind": r.kind, "reason": r.reason,
                    "matched": r.matched} for r in screening.screen(lines, destination_country)]
        for line in lines:
            listing = self.listing(line["platform"], line["item_id"])
            for refusal in listing.refusals() if listing else []:
                kind = "blocked_merchant" if refusal["rule"] == MERCHANT_BLOCK_RULE else "takedown"
                refused.append({"line_no": line["line_no"], "kind": kind, "matched": line["product_url"], **refusal})
        if not refused:
            return
        for refusal in refused:
            log.warning("order line refused at screening: line %s rule %s (%s) matched %r",
                        refusal["line_no"], refusal["rule"], screening.RULES_VERSION, refusal["matched"])
        summary = "; ".join(f"line {r['line_no']}: {r['reason']} ({r['rule']})" for r in refused)
        raise LinesRefused(f"the order cannot be placed: {summary}", refused_lines=refused,
                           rules_version=screening.RULES_VERSION)

    def take_down(self, product_url: str, rights_holder: str, reason: str) -> Listing:
        """Block a listing at a rights holder's request (the analyst is the event's actor)."""
        product = parse_product_link(product_url)

        def attempt() -> tuple[list[Listing], Listing]:
            listing = self.listing(product.platform, product.item_id) or Listing(
                platform=product.platform, item_id=product.item_id)
            listing.block(f"takedown:{rights_holder}", TAKEDOWN_RULE,
                          f"taken down at the request of the rights holder {rights_holder}: {reason}")
            return [listing], listing

        return self.save_with_retry(attempt)

    def on_merchant_blocked(self, payload: MerchantBlocked, _envelope: Any) -> list[Listing]:
        reason = (f"the seller {payload.merchant_name} is {payload.status.replace('_', ' ')} "
                  f"({payload.rule}): {payload.reason}")
        return self._for_listings(payload, lambda listing: listing.block(
            f"merchant:{payload.merchant_id}", MERCHANT_BLOCK_RULE, reason))

    def on_merchant_unblocked(self, payload: MerchantUnblocked, _envelope: Any) -> list[Listing]:
        return self._for_listings(payload, lambda listing: listing.unblock(f"merchant:{payload.merchant_id}"))

    def on_item_recalled(self, payload: ItemRecalled, _envelope: Any) -> list:
        """A held item of a recalled batch: offer its customer a refund or a re-purchase. A shipped
        one is after-sales' to claim."""
        if payload.shipped:
            return []
        order = self.repository.get(payload.order_id)
        order.ask_customer(payload.line_no, "recalled", {"traceability_code": payload.traceability_code,
                                                         "reason": payload.reason, "recall_id": str(payload.recall_id)})
        return [order]

    def _for_listings(self, payload: MerchantBlocked | MerchantUnblocked, change: Any) -> list[Listing]:
        listings = []
        for item_id in payload.listings:
            listing = self.listing(payload.platform, item_id) or Listing(platform=payload.platform, item_id=item_id)
            change(listing)
            listings.append(listing)
        return listings
