"""Domain errors in the customer's language: every raise site of a customer-facing module has its
entry in the catalogue, in English and Chinese, and the gateways answer it by Accept-Language."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from service_runtime import error_catalogue
from service_runtime.error_catalogue import CATALOGUE, DYNAMIC_MESSAGES, PLACEHOLDER, find
from service_runtime.errors import DomainError, NotFound
from service_runtime.http import create_app

ROOT = Path(__file__).resolve().parents[2]
# The modules whose refusals reach customers (placing, paying, warehouse items, parcels, claims,
# support, notification settings); purchasing, fraud, recalls and packing answer staff only.
CUSTOMER_FACING = sorted(
    [*ROOT.glob("services/orders/*.py"), *ROOT.glob("services/logistics/*.py"), *ROOT.glob("services/payments/*.py"),
     *ROOT.glob("services/claims/*.py"), *ROOT.glob("services/notifications/*.py"),
     *(ROOT / "services/warehouse" / name for name in ("app.py", "codes.py", "domain.py", "projections.py",
                                                    "photos.py", "photos_app.py")),
     ROOT / "service_runtime/idempotency.py"])


def _domain_error_names() -> set[str]:
    """DomainError and every subclass defined anywhere in services/ and service_runtime/."""
    names, bases = {"DomainError"}, {}
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("service_runtime/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {ast.unparse(b).split(".")[-1] for b in node.bases}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in names and parents & names:
                names.add(name)
                grew = True
    return names


def shape(node: ast.expr) -> str | None:
    """A message expression as a template with unnamed placeholders; None when it is all dynamic."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (shape(node.left) or "{}") + (shape(node.right) or "{}")
    return None


def raise_sites():
    errors = _domain_error_names()
    for path in CUSTOMER_FACING:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                called = node.exc.func
                name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", None)
                if name in errors:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node.exc.args[0]


def test_every_customer_facing_refusal_has_a_catalogue_entry():
    shapes = {entry.shape for entry in CATALOGUE.values()}
    sites = list(raise_sites())
    assert len(sites) > 80  # the scan really reads the raise sites
    missing = []
    for where, message in sites:
        template = shape(message)
        if template is None and ast.unparse(message) in DYNAMIC_MESSAGES:
            continue
        if template not in shapes:
            missing.append(f"{where}: {template or ast.unparse(message)!r}")
    assert not missing, "add these to service_runtime/error_catalogue.py (English and Chinese):\n" + "\n".join(missing)


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for entry in CATALOGUE.values():
        assert entry.english.strip() and entry.chinese.strip(), entry.code
        assert any("\u4e00" <= char <= "\u9fff" for char in entry.chinese), f"{entry.code} is not Chinese"
        assert set(PLACEHOLDER.findall(entry.english)) == set(PLACEHOLDER.findall(entry.chinese)), entry.code


def test_a_missing_translation_fails_the_check(monkeypatch):
    """The check above can fail: an entry taken out of the catalogue is reported."""
    trimmed = {code: entry for code, entry in CATALOGUE.items() if code != "order_not_found"}
    monkeypatch.setattr(error_catalogue, "CATALOGUE", trimmed)
    import tests.unit.test_error_catalogue as me
    monkeypatch.setattr(me, "CATALOGUE", trimmed)
    with pytest.raises(AssertionError, match="order"):
        test_every_customer_facing_refusal_has_a_catalogue_entry()


def test_the_most_specific_template_wins():
    entry, values = find("order 42 not found (a just-placed order reaches payments within moments)")
    assert entry.code == "order_not_yet_at_payments" and values == {"order_id": "42"}
    assert find("transit claims open once the parcel is shipped; it has not been delivered yet") is None


def test_problem_detail_follows_accept_language():
    api = APIRouter()

    @api.get("/orders/{order_id}")
    def missing(order_id: int):
        raise NotFound(f"order {order_id} not found")

    @api.get("/free-text")
    def free_text():
        raise DomainError("a sentence nobody catalogued")

    http = TestClient(create_app("test", [api], metrics_label="test"))
    english = http.get("/orders/12345", headers={"Accept-Language": "en-GB"})
    chinese = http.get("/orders/12345", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert english.status_code == chinese.status_code == 404
    assert english.json()["detail"] == "order … not found" and english.json()["code"] == "order_not_found"
    assert chinese.json()["detail"] == "未找到订单 …" and chinese.json()["title"] == "未找到"
    plain = http.get("/free-text", headers={"Accept-Language": "zh"}).json()
    assert plain["detail"] == "a sentence nobody catalogued" and "code" not in plain
