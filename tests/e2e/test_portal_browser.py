"""The customer portal in a real headless Chromium at phone width, in English and in Chinese:
list orders → open a timeline → see the QC photos → request shipment → compare quotes → pay, then
open a claim with evidence and read its decision.
Staff steps go through the gateways as staff tools would. Screenshots land in var/screenshots/."""

from __future__ import annotations

import re
import shutil
import uuid

import pytest

from kongfu.demo import Lifecycle
from kongfu.local import ROOT, wait_until
from services.logistics.carriers import FakeCarrier
from tests.e2e.journeys import place_order
from tests.support import CARRIER_SECRET, token

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
SHOTS = ROOT / "var" / "screenshots"
PHONE = (390, 844)


@pytest.fixture
def browser_for():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(accept_language: str):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={PHONE[0]},{PHONE[1]}", f"--lang={accept_language}"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        phone(driver)
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def stored_order(platform: dict) -> tuple[Lifecycle, dict, list[str]]:
    """An order with a fragile vase and power banks, bought, received, inspected with photos, stored."""
    trip = Lifecycle(platform, lambda subject, role: token(subject, role), FakeCarrier(CARRIER_SECRET).webhook)
    order = trip.place_and_pay([
        {"product_url": "https://item.taobao.com/item.htm?id=6543217890", "sku": "celadon vase, 30cm",
         "quantity": 1, "unit_price": "268.00"},
        {"product_url": "https://item.jd.com/100012043978.html", "sku": "power bank, 10000mAh", "quantity": 2,
         "unit_price": "59.00"}])
    vase_task, shirt_task = trip.tasks(order["order_id"], 2)
    codes = []
    for line_no, (task, category, paid, quantity) in enumerate(
            [(vase_task, "fragile", "268.00", 1), (shirt_task, "electronics", "118.00", 2)], start=1):
        tracking = trip.purchase_and_ship(task, category, paid)
        code = trip.receive(order["order_id"], tracking, line_no)
        trip.inspect_and_store(code, quantity, high_risk=True)
        codes.append(code)
    trip.timeline_until(order["order_id"], "stored")
    return trip, order, codes


def phone(driver) -> None:
    driver.set_window_size(*PHONE)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})


def follow(driver, element) -> None:
    """Click a link or a submit button and wait for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_) -> bool:
        try:
            page.is_enabled()  # any call on an element of the old page fails once it is gone
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 30).until(replaced)


def fits_phone(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def shot(driver, language: str, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"portal-{language}-{step}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("language,accept_language", [("en", "en-GB,en"), ("zh", "zh-CN,zh")])
def test_customer_walk_in_a_real_browser(embedded, browser_for, language, accept_language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    trip, order, codes = stored_order(embedded)
    stranger_order = place_order(embedded["orders"], f"stranger-{uuid.uuid4().hex[:6]}")
    base = f"{embedded['orders']}/portal"
    driver = browser_for(accept_language)
    html_lang = "zh-CN" if language == "zh" else "en"

    # Sign in (development token flow); the language follows Accept-Language.
    driver.get(f"{base}/sign-in")
    driver.find_element(By.ID, "customer_id").send_keys(trip.customer)
    follow(driver, driver.find_element(By.ID, "sign-in"))

    # My orders: status, total, next action, and a link to the timeline.
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == html_lang
    assert driver.find_element(By.TAG_NAME, "h1").text == {"en": "My orders", "zh": "我的订单"}[language]
    card = driver.find_element(By.CSS_SELECTOR, "section.order")
    assert order["quote"]["total"] in card.text and {"en": "Request shipment", "zh": "申请从仓库发货"}[language] in card.text
    assert fits_phone(driver)
    shot(driver, language, "1-orders")

    # The timeline: stages in the chosen language, the current stage highlighted, the QC photos.
    follow(driver, card.find_element(By.CSS_SELECTOR, "a.timeline-link"))
    if language == "en":  # the switch: the same page in Chinese
        follow(driver, driver.find_element(By.ID, "lang-zh"))
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    stages = [li.find_element(By.CSS_SELECTOR, ".stage").text
              for li in driver.find_elements(By.CSS_SELECTOR, "ol.timeline li")]
    assert "已下单" in stages and "质量检验" in stages and stages[-1] == "已上架存储"
    current = driver.find_elements(By.CSS_SELECTOR, "ol.timeline li[aria-current='step']")
    assert len(current) == 1 and "current" in current[0].get_attribute("class")
    photos = driver.find_elements(By.CSS_SELECTOR, "img.qc-photo")
    assert len(photos) == 6 and all("质检照片" in p.get_attribute("alt") for p in photos)
    assert all(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", p)
               for p in photos)
    # ... the stored inspection photos themselves (the PNGs staff uploaded), read through the portal
    sources = [p.get_attribute("src") for p in photos]
    assert all(re.search(r"/portal/photos/KF[0-9A-Z]+/[0-9a-f]{64}$", src) for src in sources), sources
    assert all(driver.execute_script("return arguments[0].naturalWidth", p) == 64 for p in photos)
    assert fits_phone(driver)
    shot(driver, language, "2-timeline-zh")
    if language == "en":
        follow(driver, driver.find_element(By.ID, "lang-en"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Tracking timeline"

    # My warehouse: both items with photos and storage days; select them and request shipment.
    driver.get(f"{base}/warehouse")
    items = driver.find_elements(By.CSS_SELECTOR, "section.item")
    assert len(items) == 2 and all(item.find_elements(By.CSS_SELECTOR, "img.qc-photo") for item in items)
    assert all(item.find_element(By.CSS_SELECTOR, ".storage").text for item in items)
    for code in codes:
        box = driver.find_element(By.ID, f"ship-{code}")
        assert driver.find_element(By.CSS_SELECTOR, f"label[for='ship-{code}']").text  # labelled
        box.click()
    shot(driver, language, "3-warehouse")
    follow(driver, driver.find_element(By.ID, "request-shipment"))
    assert "/portal/parcels/" in driver.current_url, driver.find_element(By.TAG_NAME, "main").text
    parcel_id = driver.current_url.rsplit("/", 1)[1]
    assert uuid.UUID(parcel_id)

    # Staff pack it; the customer compares the quotes side by side and pays one.
    trip.pack(parcel_id)

    def quotes_shown():
        driver.get(f"{base}/parcels/{parcel_id}")
        return driver.find_elements(By.CSS_SELECTOR, "section.quote")

    quotes = wait_until(quotes_shown, what="the quotes on the parcel page")
    assert len(quotes) >= 3
    tops = {q.location["y"] for q in quotes}
    assert all(q.find_element(By.TAG_NAME, "dl").text for q in quotes)  # price, weight, time, restrictions
    refused = [q for q in quotes if q.find_elements(By.CSS_SELECTOR, ".refused")]
    assert refused, "the power bank is refused by a line, with the reason"
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.set_window_size(1280, 900)  # on a wide screen the quotes stand side by side
    assert len({q.location["y"] for q in driver.find_elements(By.CSS_SELECTOR, "section.quote")}) < len(quotes)
    shot(driver, language, "4-quotes-wide")
    phone(driver)
    assert driver.execute_script("return window.innerWidth") <= PHONE[0]
    assert len(tops) > 1 and fits_phone(driver)  # on a phone they wrap onto rows, nothing overflows
    shot(driver, language, "4-quotes")
    line_button = driver.find_elements(By.CSS_SELECTOR, "section.quote button[name='line_code']")[0]
    chosen = line_button.get_attribute("value")
    price = next(l for l in trip.quotes(parcel_id) if l["code"] == chosen)["price"]
    follow(driver, line_button)

    # Choosing the line issues the itemised bill; the customer pays it at payments by card (the
    # Stripe fake's test token, webhook-confirmed), never a typed reference.
    bill = driver.find_element(By.ID, "shipping-bill")
    assert price in bill.find_element(By.CSS_SELECTOR, ".bill-shipping").text
    assert driver.find_element(By.ID, "bill-total").text.startswith(price)  # uninsured, no storage fees yet
    assert not driver.find_elements(By.CSS_SELECTOR, "section.quote")  # billed once: no second line to choose
    shot(driver, language, "5-bill")
    assert driver.find_element(By.ID, "method-card").is_selected()
    follow(driver, driver.find_element(By.ID, "pay-shipping"))

    def paid():
        driver.get(f"{base}/parcels/{parcel_id}")
        return driver.find_elements(By.ID, "shipping-paid")

    assert chosen in wait_until(paid, what="the payment on the parcel page")[0].text
    shot(driver, language, "6-paid")
    payments = trip.as_customer("payments", "GET", f"/payments/shipping/{parcel_id}").json()
    assert payments["paid"] and payments["total"] == price

    # Shipped and delivered (staff and the carrier); the customer opens a claim with evidence and
    # reads the decision and its reason.
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/customs-declaration", "logistics_staff",
              json={"items": [{"traceability_code": c, "hs_code": "691390", "description": "goods",
                               "declared_value": "40.00", "currency": "USD"} for c in codes]})
    tracking = f"KF{uuid.uuid4().int % 10**10:010d}GB"
    trip.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/handover", "logistics_staff",
              json={"carrier": "fake-express", "tracking_number": tracking})
    trip.deliver(parcel_id, tracking)

    def claim_opened():
        driver.get(f"{base}/claims")
        Select(driver.find_element(By.ID, "kind")).select_by_value("damaged")
        driver.find_element(By.ID, "traceability_code").send_keys(codes[0])
        driver.find_element(By.ID, "description").send_keys("The vase arrived cracked.")
        driver.find_element(By.ID, "photos").send_keys("https://evidence.example/cracked-vase.jpg")
        follow(driver, driver.find_element(By.ID, "submit-claim"))
        return driver.current_url.endswith("/portal/claims")  # back on the list: the claim was opened

    wait_until(claim_opened, what="the claim opened from the portal")  # until claims knows the delivery
    claim = wait_until(lambda: trip.as_customer("claims", "GET", "/me/claims").json()["items"],
                       what="the claim in my claims")[0]
    assert claim["claim"]["photos"] == ["https://evidence.example/cracked-vase.jpg"]
    trip.call("claims", "POST", f"/claims/{claim['claim_id']}/decision", "support_agent",
              json={"approved": True, "notes": "photos show transport damage"})

    def decided():
        driver.get(f"{base}/claims")
        text = driver.find_element(By.CSS_SELECTOR, "section.claim").text
        return "photos show transport damage" in text and text

    decision = wait_until(decided, what="the decision on the claims page")
    assert {"en": "Approved: 268.00 CNY", "zh": "已批准：268.00 CNY"}[language] in decision
    shot(driver, language, "6-claim-decided")

    # Another customer's order is a 404 page, as is a path that does not exist.
    driver.get(f"{base}/orders/{stranger_order['order_id']}")
    assert driver.find_element(By.ID, "not-found").text == {"en": "Page not found", "zh": "页面不存在"}[language]
    shot(driver, language, "7-not-found")
    driver.get(f"{base}/rules")
    assert len(driver.find_elements(By.TAG_NAME, "h2")) == 5 and fits_phone(driver)

    # Signed in as another customer, these photos are the 404 page too.
    driver.get(f"{base}/sign-in")
    driver.find_element(By.ID, "customer_id").send_keys(stranger_order["customer_id"])
    follow(driver, driver.find_element(By.ID, "sign-in"))
    driver.get(sources[0])
    assert driver.find_elements(By.ID, "not-found") and not driver.find_elements(By.TAG_NAME, "img")
