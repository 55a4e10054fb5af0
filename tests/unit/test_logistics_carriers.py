"""Carrier webhook signatures: HMAC-SHA256 over "<t>.<raw body>", five minutes' tolerance."""

import json

import pytest

from services.logistics.carriers import SIGNATURE_HEADER, FakeCarrier, SignatureRejected, sign, verify

SECRET = "shared-with-the-carrier"
BODY = b'{"carrier_event_id":"evt-1","tracking_number":"KF0000000001GB","status":"in_transit"}'
NOW = 1_800_000_000


def test_a_good_signature_is_accepted():
    assert verify(SECRET, sign(SECRET, BODY, NOW), BODY, now=NOW + 10) == NOW


def test_a_tampered_body_is_refused():
    header = sign(SECRET, BODY, NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(SECRET, header, BODY.replace(b"in_transit", b"delivered"), now=NOW)


def test_a_wrong_secret_is_refused():
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(SECRET, sign("not-the-shared-secret", BODY, NOW), BODY, now=NOW)


def test_a_stale_timestamp_is_refused_even_when_the_signature_is_right():
    header = sign(SECRET, BODY, NOW)
    assert verify(SECRET, header, BODY, now=NOW + 300) == NOW
    with pytest.raises(SignatureRejected, match="old"):
        verify(SECRET, header, BODY, now=NOW + 301)


def test_a_timestamp_far_in_the_future_is_refused():
    with pytest.raises(SignatureRejected, match="future"):
        verify(SECRET, sign(SECRET, BODY, NOW + 3600), BODY, now=NOW)


def test_the_timestamp_is_part_of_what_is_signed():
    replayed = sign(SECRET, BODY, NOW).replace(f"t={NOW}", f"t={NOW + 60}")
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(SECRET, replayed, BODY, now=NOW + 60)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc", f"t={NOW},t={NOW},v1=ab",
                                    f"t={NOW},v1=\u00e9", f"t={NOW},v1=" + "\u0664" * 64])
def test_missing_or_malformed_headers_are_refused(header):
    with pytest.raises(SignatureRejected):
        verify(SECRET, header, BODY, now=NOW)


def test_one_of_several_signatures_may_match_while_a_secret_rotates():
    good = sign(SECRET, BODY, NOW).split(",")[1]
    assert verify(SECRET, f"t={NOW},v1={'0' * 64},{good}", BODY, now=NOW) == NOW


def test_the_fake_carrier_signs_the_exact_bytes_it_returns():
    headers, body = FakeCarrier(SECRET, clock=lambda: NOW).webhook("KF0000000001GB", "delivered", "evt-9")
    assert verify(SECRET, headers[SIGNATURE_HEADER], body, now=NOW) == NOW
    update = json.loads(body)
    assert update["tracking_number"] == "KF0000000001GB" and update["status"] == "delivered"
    assert update["carrier_event_id"] == "evt-9" and update["location"] and update["occurred_at"].endswith("+00:00")
