"""Screening rules: prohibited goods, counterfeit indicators, protected brands, destination limits."""

import pytest

from services.orders.screening import screen, screen_line


def rules(text: str, destination: str = "GB", platform: str = "taobao") -> list[str]:
    return [refusal.rule for refusal in screen_line(1, platform, text, destination)]


@pytest.mark.parametrize("text, rule", [
    ("Replica designer bag, fake leather logo, AAA copy", "counterfeit-indicator"),
    ("1:1 sneakers", "counterfeit-indicator"),
    ("高仿 手表", "counterfeit-indicator"),
    ("AAA quality watch", "counterfeit-indicator"),
    ("airsoft pistol 6mm", "prohibited-weapons"),
    ("电击器 防身", "prohibited-weapons"),
    ("CBD oil 10ml", "prohibited-drugs"),
])
def test_a_hit_names_the_rule(text, rule):
    assert rule in rules(text)


@pytest.mark.parametrize("text", ["AAA batteries 8 pack", "colour:black;size:M", "1:10 scale model car",
                                  "photocopy paper A4", "Gucci-style loafers"])
def test_ordinary_goods_pass(text):
    assert rules(text) == []


def test_a_destination_restriction_refuses_for_that_country_only():
    assert rules("disposable vape 5000 puffs", "AU") == ["destination-au-vapes"]
    assert rules("disposable vape 5000 puffs", "GB") == []
    assert rules("mint chewing gum", "SG") == ["destination-sg-chewing-gum"]
    assert rules("mint chewing gum", "DE") == []


def test_a_protected_brand_is_refused_only_through_channels_that_do_not_carry_it():
    assert rules("Gucci belt", platform="1688") == ["protected-brand-channel"]
    assert rules("Gucci belt", platform="tmall") == []


def test_an_order_is_screened_line_by_line_on_title_and_sku():
    lines = [{"line_no": 1, "platform": "taobao", "title": "Cotton T-shirt", "sku": "M"},
             {"line_no": 2, "platform": "taobao", "title": "Designer bag", "sku": "replica brown"}]
    (refusal,) = screen(lines, "GB")
    assert (refusal.line_no, refusal.rule, refusal.matched.lower()) == (2, "counterfeit-indicator", "replica")
