"""Recognising a product link from a supported Chinese marketplace (pure; nothing is fetched)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from service_runtime.errors import DomainError


@dataclass(frozen=True)
class Marketplace:
    platform: str
    domains: tuple[str, ...]
    query_keys: tuple[str, ...] = ()
    path_pattern: str | None = None


MARKETPLACES = (
    Marketplace("taobao", ("taobao.com",), ("id",), r"/item/(\d+)\.htm"),
    Marketplace("tmall", ("tmall.com", "tmall.hk"), ("id",)),
    Marketplace("jd", ("jd.com", "jd.hk"), (), r"^/(?:product/)?(\d+)\.html$"),
    Marketplace("1688", ("1688.com",), ("offerId",), r"/offer/(\d+)\.html"),
    Marketplace("pinduoduo", ("yangkeduo.com", "pinduoduo.com"), ("goods_id",)),
    Marketplace("weidian", ("weidian.com",), ("itemID", "itemId", "item_id")),
)
SUPPORTED = ", ".join(d for m in MARKETPLACES for d in m.domains)


class UnsupportedLink(DomainError):
    pass


@dataclass(frozen=True)
class ProductRef:
    platform: str
    item_id: str


def parse_product_link(url: str) -> ProductRef:
    parsed = urlparse(url.strip())
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host:
        raise UnsupportedLink(f"'{url}' is not an http(s) product link; supported marketplaces: {SUPPORTED}")
    for market in MARKETPLACES:
        if any(host == d or host.endswith("." + d) for d in market.domains):
            return ProductRef(market.platform, _item_id(market, parsed, url))
    raise UnsupportedLink(f"'{host}' is not a supported marketplace; supported: {SUPPORTED}")


def _item_id(market: Marketplace, parsed, url: str) -> str:
    query = parse_qs(parsed.query)
    for key in market.query_keys:
        value = (query.get(key) or [""])[0]
        if value.isdigit():
            return value
    if market.path_pattern:
        match = re.search(market.path_pattern, parsed.path)
        if match:
            return match.group(1)
    raise UnsupportedLink(f"no {market.platform} item id found in '{url}'")
