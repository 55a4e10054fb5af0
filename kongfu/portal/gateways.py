"""The gateways the portal reads and writes through: plain HTTP calls with the customer's token.

Embedded (`make run`), every gateway answers at the portal's own address; on the stack each
service has its own, given by KONGFU_PORTAL_GATEWAYS (`orders=http://127.0.0.1:8001,...`).
"""

from __future__ import annotations

import os
from typing import Any

import httpx

# Which gateway serves which path prefix.
OWNER = {"/orders": "orders", "/me/items": "warehouse", "/warehouse": "warehouse", "/me/parcels": "logistics",
         "/logistics": "logistics", "/me/claims": "claims", "/claims": "claims", "/payments": "payments"}


class GatewayError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def configured_urls() -> dict[str, str]:
    text = os.environ.get("KONGFU_PORTAL_GATEWAYS", "")
    pairs = [part.split("=", 1) for part in text.split(",") if "=" in part]
    return {name.strip(): url.strip().rstrip("/") for name, url in pairs}


class Gateways:
    def __init__(self, urls: dict[str, str], own_url: str, token: str | None, language: str) -> None:
        self.urls, self.own_url, self.token, self.language = urls, own_url.rstrip("/"), token, language

    def _url(self, path: str) -> str:
        service = next(name for prefix, name in OWNER.items() if path.startswith(prefix))
        return f"{self.urls.get(service, self.own_url)}{path}"

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Accept-Language": self.language, **kwargs.pop("headers", {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.request(method, self._url(path), headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = ""
            raise GatewayError(response.status_code, str(detail))
        return response.json()

    async def get_bytes(self, path: str) -> tuple[bytes, str]:
        """A binary resource (a photo) and its media type, with the customer's token."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.get(self._url(path), headers=headers)
        if response.status_code >= 400:
            raise GatewayError(response.status_code, "")
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params={k: v for k, v in params.items() if v is not None})

    async def post(self, path: str, body: dict[str, Any], **headers: str) -> Any:
        return await self.call("POST", path, json=body, headers=headers)
