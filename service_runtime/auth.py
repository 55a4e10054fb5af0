"""Who is calling: signed bearer tokens (JWT, HS256) carrying a subject and roles."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

CUSTOMER = "customer"
PURCHASING_AGENT = "purchasing_agent"
WAREHOUSE_STAFF = "warehouse_staff"
LOGISTICS_STAFF = "logistics_staff"
SUPPORT_AGENT = "support_agent"
RISK_ANALYST = "risk_analyst"
AUDITOR = "auditor"
ADMIN = "admin"
CLAIMS_REVIEWER = "claims_reviewer"  # second-level review of disputed claim decisions
ROLES = frozenset(
    {CUSTOMER, PURCHASING_AGENT, WAREHOUSE_STAFF, LOGISTICS_STAFF, SUPPORT_AGENT, RISK_ANALYST, AUDITOR, ADMIN}
) | {CLAIMS_REVIEWER}
STAFF_ROLES = ROLES - {CUSTOMER}


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return ADMIN in self.roles or any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def can_read_customer_data(self, owner: str, *staff_roles: str) -> bool:
        """A customer reads only their own data; staff read it when their role needs it."""
        if self.subject == owner and CUSTOMER in self.roles:
            return True
        return self.has_any(*staff_roles)


def issue_token(secret: str, subject: str, roles: list[str] | tuple[str, ...], *, issuer: str,
                ttl_seconds: int = 3600 * 12) -> str:
    unknown = set(roles) - ROLES
    if unknown:
        raise AuthError(f"unknown roles {sorted(unknown)}; known: {sorted(ROLES)}")
    now = int(time.time())
    claims = {"sub": subject, "roles": sorted(set(roles)), "iss": issuer, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


# Verified tokens, so that a caller's next request skips the signature check (a tenth of a small
# request's server CPU). Keyed by secret, issuer and the whole token, signature included: a token
# is served from here only if exactly that text passed the check. Its expiry is checked every time.
VERIFIED_CACHE_SIZE = 4096
_verified: dict[tuple[str, str, str], tuple[Caller, int]] = {}


def verify_token(secret: str, token: str, *, issuer: str) -> Caller:
    known = _verified.get((secret, issuer, token))
    if known is not None and time.time() < known[1]:
        return known[0]
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=issuer,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not set(roles) <= ROLES:
        raise AuthError("token carries unknown roles")
    caller = Caller(subject=str(claims["sub"]), roles=frozenset(roles))
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        _verified.clear()  # (atomic: threads verifying meanwhile only miss)
    _verified[(secret, issuer, token)] = (caller, int(claims["exp"]))
    return caller
