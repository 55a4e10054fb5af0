import pytest

from services.orders.marketplace import UnsupportedLink, parse_product_link


@pytest.mark.parametrize(
    ("url", "platform", "item_id"),
    [
        ("https://item.taobao.com/item.htm?id=6543217890&spm=a1z10", "taobao", "6543217890"),
        ("https://world.taobao.com/item/612345678901.htm", "taobao", "612345678901"),
        ("https://detail.tmall.com/item.htm?id=701234567890&skuId=5", "tmall", "701234567890"),
        ("https://item.jd.com/100012043978.html", "jd", "100012043978"),
        ("https://detail.1688.com/offer/623456789012.html", "1688", "623456789012"),
        ("https://mobile.yangkeduo.com/goods.html?goods_id=334455667788", "pinduoduo", "334455667788"),
        ("https://weidian.com/item.html?itemID=4455667788", "weidian", "4455667788"),
    ],
)
def test_supported_links_give_platform_and_item(url, platform, item_id):
    ref = parse_product_link(url)
    assert (ref.platform, ref.item_id) == (platform, item_id)


def test_unknown_host_names_the_supported_ones():
    with pytest.raises(UnsupportedLink) as info:
        parse_product_link("https://www.amazon.com/dp/B000123")
    message = str(info.value)
    assert "www.amazon.com" in message
    for domain in ("taobao.com", "tmall.com", "jd.com", "1688.com", "yangkeduo.com", "weidian.com"):
        assert domain in message


def test_lookalike_host_is_not_accepted():
    with pytest.raises(UnsupportedLink):
        parse_product_link("https://taobao.com.evil.example/item.htm?id=1")


def test_link_without_item_id_is_refused():
    with pytest.raises(UnsupportedLink, match="no jd item id"):
        parse_product_link("https://item.jd.com/search?q=phone")


def test_non_http_link_is_refused():
    with pytest.raises(UnsupportedLink):
        parse_product_link("javascript:alert(1)")
