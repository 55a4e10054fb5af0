"""Orders' part in governance: screening lines before anything is bought, and the listings to refuse.

Placement calls `refuse_unacceptable_lines` once; everything else here reacts to purchasing's
merchant decisions or records a rights holder's takedown.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from contracts.purchasing import MerchantBlocked, MerchantUnblocked
from contracts.warehouse import ItemRecalled
from service_runtime.errors import DomainError, NotFound
from service_runtime.store import ServiceApplication
from services.orders import screening
from services.orders.domain import Order
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

    def refuse_unacceptable_lines(self, lines: list[dict], destination_country: str) -> list[screening.Refusal]:
        """A 422 naming every refused line with its rule and reason (the refusals are logged);
        otherwise the lines to hold for a compliance analyst's review."""
        hits, held = screening.refused_and_held(lines, destination_country)
        refused = [{"line_no": r.line_no, "rule": r.rule, "kind": r.kind, "reason": r.reason,
                    "matched": r.matched} for r in hits]
        for line in lines:
            listing = self.listing(line["platform"], line["item_id"])
            for refusal in listing.refusals() if listing else []:
                kind = "blocked_merchant" if refusal["rule"] == MERCHANT_BLOCK_RULE else "takedown"
                refused.append({"line_no": line["line_no"], "kind": kind, "matched": line["product_url"], **refusal})
        if not refused:
            return held
        for refusal in refused:
            log.warning("order line refused at screening: line %s rule %s (%s) matched %r",
                        refusal["line_no"], refusal["rule"], screening.RULES_VERSION, refusal["matched"])
        summary = "; ".join(f"line {r['line_no']}: {r['reason']} ({r['rule']})" for r in refused)
        raise LinesRefused(f"the order cannot be placed: {summary}", refused_lines=refused,
                           rules_version=screening.RULES_VERSION)

    def hold_for_review(self, order: Order, held: list[screening.Refusal]) -> None:
        for hold in held:
            log.info("order line held for review at screening: line %s rule %s (%s) matched %r",
                     hold.line_no, hold.rule, screening.RULES_VERSION, hold.matched)
            order.hold_for_screening(customer_id=order.customer_id, line_no=hold.line_no, rule=hold.rule,
                                     kind=hold.kind, reason=hold.reason, reason_zh=hold.reason_zh,
                                     matched=hold.matched, rules_version=screening.RULES_VERSION)

    def screening_queue(self) -> list[dict]:
        """Lines waiting for a compliance analyst, oldest first: orders read through the store's log
        of holds (holds are few next to orders)."""
        topics, seen, queue, start = [get_topic(Order.LineHeldForScreening)], set(), [], 1
        while batch := self.recorder.select_notifications(start=start, limit=500, topics=topics):
            for notification in batch:
                if notification.originator_id in seen:
                    continue
                seen.add(notification.originator_id)
                order = self.find(notification.originator_id, Order)
                queue += [{"order_id": order.id, "customer_id": order.customer_id, "order_status": order.status,
                           "line_no": line_no, **{k: v for k, v in hold.items() if k != "approved"},
                           "line": order.line(line_no), "held_at": order.created_on}
                          for line_no, hold in sorted(order.screening_holds.items())
                          if order.under_review(line_no)] if order else []
            start = batch[-1].id + 1
        return queue

    def decide_screening_hold(self, order_id: UUID, line_no: int, approve: bool, reason: str) -> Order:
        """Approve (the line is bought) or refuse (the line is cancelled and refunded) a held line;
        the analyst is the events' actor."""
        def attempt() -> tuple[list[Order], Order]:
            order = self.find(order_id, Order)
            if order is None:
                raise NotFound(f"order {order_id} not found")
            order.decide_screening_hold(line_no, approve, reason, screening.RULES_VERSION)
            if not approve:
                self.cancel_with_refund(order, line_no, f"refused at compliance review: {reason}")
            return [order], order

        return self.save_with_retry(attempt)

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
