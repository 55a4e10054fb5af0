"""Every gateway route knows who is calling: without a token it is a 401, never data."""

import importlib
import re

import pytest

from kongfu.registry import SERVICES
from services.warehouse.codes import code_for
from tests.apptest import ServiceHarness

# The carrier webhook identifies its caller by signature instead (tested with the carrier).
SIGNED_NOT_BEARER = {"/logistics/carrier-webhooks/{carrier}", "/payments/webhooks/{provider}"}
# Published rules anyone may read: the screening rules and every published rule set under /rules/.
PUBLIC = {"/screening/rules"}
PUBLIC_PREFIX = "/rules/"


def sample_path(path: str) -> str:
    """Well-formed placeholders, so a refusal comes from who is calling, not from the path."""
    path = path.replace("{code}", code_for("sample")).replace("{digest}", "0" * 64)
    return re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)


@pytest.mark.parametrize("service", SERVICES)
def test_routes_refuse_anonymous_callers(service, tmp_path):
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    harness = ServiceHarness(bootstrap, tmp_path)
    checked = 0
    for path, operations in harness.client.app.openapi()["paths"].items():
        if path in SIGNED_NOT_BEARER | PUBLIC or path.startswith(PUBLIC_PREFIX):
            continue
        for method in operations:
            response = harness.client.request(method.upper(), sample_path(path), json={})
            assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
            assert response.headers["content-type"].startswith("application/problem+json")
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("service", SERVICES)
def test_routes_refuse_callers_without_a_role_for_them(service, tmp_path):
    """A valid token is not enough: a caller holding none of a route's roles gets a 403 or, where
    the route serves a customer's own data, a 404; never data and never a change."""
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    harness = ServiceHarness(bootstrap, tmp_path)
    nobody = harness.as_("someone-without-roles")
    answers = {}
    for path, operations in harness.client.app.openapi()["paths"].items():
        if path in SIGNED_NOT_BEARER | PUBLIC or path.startswith(PUBLIC_PREFIX):
            continue
        for method in operations:
            response = harness.client.request(method.upper(), sample_path(path), json={}, headers=nobody)
            answers[f"{method.upper()} {path}"] = response.status_code
    assert answers and all(code in (403, 404) for code in answers.values()), answers
