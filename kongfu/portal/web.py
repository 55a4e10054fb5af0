"""The portal's pages: my orders, an order's timeline, my warehouse, parcels, claims and rules.

Every page reads the gateways over HTTP with the signed-in customer's token, exactly as any other
client would; the portal keeps no data of its own. A gateway's 404 (another customer's order, say)
is the portal's 404 page.
"""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kongfu.portal import i18n
from kongfu.portal.gateways import GatewayError, Gateways, configured_urls
from services.orders.timeline import NEXT_ACTION_NAMES

TOKEN_COOKIE, LANGUAGE_COOKIE = "kongfu_token", "kongfu_lang"
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))


def _language(request: Request) -> str:
    return i18n.language_for(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def _gateways(request: Request) -> Gateways:
    return Gateways(configured_urls(), str(request.base_url), request.cookies.get(TOKEN_COOKIE), _language(request))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    language = _language(request)
    page = TEMPLATES.get_template(template).render(
        lang=language, t=lambda key, **v: i18n.translate(key, language, **v),
        pick=lambda pair: i18n.choose(pair, language), path=request.url.path,
        signed_in=bool(request.cookies.get(TOKEN_COOKIE)), actions=NEXT_ACTION_NAMES, photo_src=photo_src, **context)
    return HTMLResponse(page, status_code=status)


def photo_src(photo: str, code: str | None) -> str:
    """Where the page loads a photo from: a stored one (`sha256:<hex>`) through this portal with the
    customer's token, an https link as it is, an older `photo://` reference as a labelled image."""
    from services.warehouse.photos import digest_in

    digest = digest_in(photo)
    if digest and code:
        return f"/portal/photos/{quote(code)}/{digest}"
    return photo if photo.startswith("https://") else f"/portal/photos?ref={quote(photo)}"


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _portal_link(link: str | None, page: str) -> str | None:
    """A gateway's `next` link, as the same portal page with that cursor."""
    if not link or "cursor=" not in link:
        return None
    cursor = parse_qs(link.split("?", 1)[1]).get("cursor", [""])[0]
    return f"{page}?cursor={quote(cursor)}"


def router() -> APIRouter:
    portal = APIRouter(prefix="/portal", include_in_schema=False)

    async def page_or_error(request: Request, template: str, load) -> Response:
        if not request.cookies.get(TOKEN_COOKIE):
            return RedirectResponse("/portal/sign-in", status_code=303)
        try:
            return render(request, template, **await load(_gateways(request)))
        except GatewayError as error:
            if error.status == 401:
                return RedirectResponse("/portal/sign-in", status_code=303)
            if error.status in (403, 404):
                return render(request, "not_found.html", status=404)
            return render(request, "error.html", status=error.status, detail=error.detail)

    @portal.get("")
    async def home():
        return RedirectResponse("/portal/orders", status_code=303)

    @portal.get("/sign-in")
    async def sign_in_page(request: Request):
        return render(request, "sign_in.html")

    @portal.post("/sign-in")
    async def sign_in(request: Request):
        from service_runtime.auth import CUSTOMER, issue_token
        from service_runtime.settings import get_settings

        customer = (_form(await request.body()).get("customer_id") or [""])[0].strip()
        if not customer or len(customer) > 100 or not customer.replace("-", "").replace("_", "").isalnum():
            return render(request, "sign_in.html", status=422, invalid=True)
        settings = get_settings()
        token = issue_token(settings.resolved_jwt_secret(), customer, [CUSTOMER], issuer=settings.jwt_issuer)
        response = RedirectResponse("/portal/orders", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", path="/portal")
        return response

    @portal.post("/sign-out")
    async def sign_out():
        response = RedirectResponse("/portal/sign-in", status_code=303)
        response.delete_cookie(TOKEN_COOKIE, path="/portal")
        return response

    @portal.get("/language/{language}")
    async def switch_language(language: str, back: str = "/portal/orders"):
        target = back if back.startswith("/portal/") and "//" not in back else "/portal/orders"
        response = RedirectResponse(target, status_code=303)
        if language in i18n.LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", path="/portal")
        return response

    def listing(page: str, source: str, name: str, limit: int):
        """A page of one of the customer's listings, with a link to the next."""

        async def show(request: Request, cursor: str | None = None):
            async def load(gateways: Gateways):
                found = await gateways.get(source, limit=limit, cursor=cursor)
                return {name: found["items"], "next": _portal_link(found["next"], f"/portal/{page}")}

            return await page_or_error(request, f"{page}.html", load)

        portal.add_api_route(f"/{page}", show, methods=["GET"])

    listing("orders", "/orders", "orders", 10)
    listing("warehouse", "/me/items", "items", 20)
    listing("parcels", "/me/parcels", "parcels", 10)

    @portal.get("/orders/{order_id}")
    async def order_timeline(request: Request, order_id: uuid.UUID):
        async def load(gateways: Gateways):
            return {"timeline": await gateways.get(f"/orders/{order_id}/timeline")}

        return await page_or_error(request, "timeline.html", load)


    @portal.post("/warehouse/shipment")
    async def request_shipment(request: Request):
        form = _form(await request.body())

        async def load(gateways: Gateways):
            codes = form.get("code", [])
            if not codes:
                raise GatewayError(422, i18n.translate("choose_items", _language(request)))
            parcel = await gateways.post("/warehouse/shipment-requests", {
                "traceability_codes": codes, "destination_country": (form.get("destination") or ["GB"])[0].upper()})
            return {"redirect": f"/portal/parcels/{parcel['parcel_id']}"}

        return await _post_then_redirect(request, load)

    async def _post_then_redirect(request: Request, load) -> Response:
        if not request.cookies.get(TOKEN_COOKIE):
            return RedirectResponse("/portal/sign-in", status_code=303)
        try:
            result = await load(_gateways(request))
        except GatewayError as error:
            if error.status in (403, 404):
                return render(request, "not_found.html", status=404)
            return render(request, "error.html", status=error.status if error.status < 500 else 502,
                          detail=error.detail)
        return RedirectResponse(result["redirect"], status_code=303)


    @portal.get("/parcels/{parcel_id}")
    async def parcel_page(request: Request, parcel_id: uuid.UUID):
        async def load(gateways: Gateways):
            mine = await gateways.get("/me/parcels", limit=100)
            parcel = next((p for p in mine["items"] if p["parcel_id"] == str(parcel_id)), None)
            try:
                quotes = await gateways.get(f"/logistics/parcels/{parcel_id}/quotes")
            except GatewayError as error:
                if error.status != 404:
                    raise
                quotes = None  # not packed yet: logistics does not know the parcel
            if parcel is None and quotes is None:
                raise GatewayError(404, "")
            # The bill and whether it is paid, from logistics itself (the listing may lag a moment).
            detail = await gateways.get(f"/logistics/parcels/{parcel_id}") if quotes is not None else {}
            return {"parcel_id": str(parcel_id), "parcel": parcel, "quotes": quotes, "bill": detail.get("bill"),
                    "shipping": detail.get("shipping") or (parcel or {}).get("shipping")}

        return await page_or_error(request, "parcel.html", load)

    @portal.post("/parcels/{parcel_id}/shipping-line")
    async def choose_shipping_line(request: Request, parcel_id: uuid.UUID):
        form = _form(await request.body())

        async def load(gateways: Gateways):
            quotes = await gateways.get(f"/logistics/parcels/{parcel_id}/quotes")
            chosen = (form.get("line_code") or [""])[0]
            line = next((l for l in quotes["lines"] if l["code"] == chosen and l["price"] is not None), None)
            if line is None:
                raise GatewayError(422, i18n.translate("refused", _language(request)))
            # The price comes from the gateway's quote, never from the form; logistics issues the
            # itemised bill (line, premium, storage fees), one key per parcel.
            await gateways.post(f"/logistics/parcels/{parcel_id}/shipping",
                                {"line_code": line["code"], "amount": line["price"]},
                                **{"Idempotency-Key": f"portal-shipping-{parcel_id}"})
            return {"redirect": f"/portal/parcels/{parcel_id}"}

        return await _post_then_redirect(request, load)

    @portal.post("/parcels/{parcel_id}/payment")
    async def pay_shipping(request: Request, parcel_id: uuid.UUID):
        form = _form(await request.body())

        async def load(gateways: Gateways):
            method = (form.get("method") or ["card"])[0]
            # By card: the token Stripe's hosted fields return (card data never reaches us); from
            # the balance: no token. One key per parcel, method and token, so a second click pays
            # nothing twice, and a declined card can be retried with another.
            token = (form.get("payment_token") or [""])[0] if method == "card" else None
            body = {"method": method, **({"payment_token": token} if token else {})}
            key = f"portal-pay-shipping-{parcel_id}-{method}-{token or ''}"
            for attempt in range(20):  # a just-issued bill reaches payments within moments
                try:
                    await gateways.post(f"/payments/shipping/{parcel_id}", body, **{"Idempotency-Key": key})
                    break
                except GatewayError as error:
                    if error.status != 404 or attempt == 19:
                        raise
                    await asyncio.sleep(0.5)
            return {"redirect": f"/portal/parcels/{parcel_id}"}

        return await _post_then_redirect(request, load)

    @portal.get("/claims")
    async def my_claims(request: Request, cursor: str | None = None):
        async def load(gateways: Gateways):
            listing = await gateways.get("/me/claims", limit=10, cursor=cursor)
            parcels = await gateways.get("/me/parcels", limit=100)
            return {"claims": listing["items"], "next": _portal_link(listing["next"], "/portal/claims"),
                    "parcels": parcels["items"], "kinds": i18n.CLAIM_KINDS}

        return await page_or_error(request, "claims.html", load)

    @portal.post("/claims")
    async def open_claim(request: Request):
        form = _form(await request.body())

        async def load(gateways: Gateways):
            kind = (form.get("kind") or [""])[0]
            code = (form.get("traceability_code") or [""])[0].strip() or None
            photos = [line.strip() for line in (form.get("photos") or [""])[0].splitlines() if line.strip()]
            await gateways.post("/claims", {
                "parcel_id": (form.get("parcel_id") or [""])[0], "kind": kind,
                "traceability_code": code if kind != "shipping_anomaly" else None,
                "description": (form.get("description") or [""])[0], "photos": photos})
            return {"redirect": "/portal/claims"}

        return await _post_then_redirect(request, load)

    @portal.get("/rules")
    async def rules(request: Request):
        from services.claims.compensation import RULE_BOOK, RULES_VERSION, percent, rule_for
        from services.logistics.lines import LINES, RESTRICTION_REASONS
        from services.warehouse import storage

        # The shipping-anomaly share, as the current compensation rule book says it.
        anomaly = rule_for(RULE_BOOK[RULES_VERSION], "shipping_anomaly", insured=False)
        return render(request, "rules.html", lines=LINES, restrictions=RESTRICTION_REASONS, storage=storage,
                      compensation={"rate": percent(Decimal(anomaly["share"])), "version": RULES_VERSION})

    @portal.get("/photos")
    async def photo(ref: str = ""):
        """Stands in for the photo store for `photo://` references: a labelled placeholder image."""
        label = html.escape(ref[:80])
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120" role="img">'
               f'<rect width="160" height="120" fill="#e8eef3"/><text x="8" y="64" font-size="9" '
               f'fill="#234">{label}</text></svg>')
        return Response(svg, media_type="image/svg+xml")

    @portal.get("/photos/{code}/{digest}")
    async def stored_photo(request: Request, code: str, digest: str):
        """A stored inspection photo of one of my items, read through the warehouse gateway."""
        from services.warehouse.codes import CODE_PATTERN
        from services.warehouse.photos import DIGEST_PATTERN

        if not (re.match(CODE_PATTERN, code) and re.match(DIGEST_PATTERN, digest)):
            return render(request, "not_found.html", status=404)
        try:
            content, media_type = await _gateways(request).get_bytes(f"/warehouse/items/{code}/photos/{digest}")
        except GatewayError:
            return render(request, "not_found.html", status=404)
        # never from the browser cache: another customer signing in on this browser must not see it
        return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})

    @portal.get("/{rest:path}")
    async def not_found(request: Request, rest: str):
        return render(request, "not_found.html", status=404)

    return portal
