import time

import pytest

from service_runtime.auth import AuthError, issue_token, verify_token

SECRET = "unit-test-secret-at-least-32-bytes-long"


def test_token_round_trip_carries_subject_and_roles():
    token = issue_token(SECRET, "alice", ["customer"], issuer="kongfumall")
    caller = verify_token(SECRET, token, issuer="kongfumall")
    assert caller.subject == "alice" and caller.roles == {"customer"}
    assert caller.can_read_customer_data("alice") and not caller.can_read_customer_data("bob")


def test_token_signed_with_another_secret_is_refused():
    token = issue_token("another-secret-of-thirty-two-bytes!", "alice", ["customer"], issuer="kongfumall")
    with pytest.raises(AuthError):
        verify_token(SECRET, token, issuer="kongfumall")


def test_expired_token_is_refused():
    token = issue_token(SECRET, "alice", ["customer"], issuer="kongfumall", ttl_seconds=-10)
    with pytest.raises(AuthError, match="expired"):
        verify_token(SECRET, token, issuer="kongfumall")


def test_a_token_verified_before_is_refused_once_it_expires():
    token = issue_token(SECRET, "alice", ["customer"], issuer="kongfumall", ttl_seconds=1)
    assert verify_token(SECRET, token, issuer="kongfumall").subject == "alice"
    time.sleep(2.1)
    with pytest.raises(AuthError, match="expired"):
        verify_token(SECRET, token, issuer="kongfumall")


def test_a_token_verified_before_is_checked_again_under_another_secret_or_issuer():
    token = issue_token(SECRET, "alice", ["customer"], issuer="kongfumall")
    verify_token(SECRET, token, issuer="kongfumall")
    with pytest.raises(AuthError):
        verify_token("another-secret-of-thirty-two-bytes!", token, issuer="kongfumall")
    with pytest.raises(AuthError):
        verify_token(SECRET, token, issuer="someone-else")


def test_a_tampered_copy_of_a_verified_token_is_refused():
    token = issue_token(SECRET, "alice", ["customer"], issuer="kongfumall")
    verify_token(SECRET, token, issuer="kongfumall")
    header, claims, signature = token.split(".")
    forged = issue_token(SECRET, "mallory", ["admin"], issuer="kongfumall").split(".")[1]
    with pytest.raises(AuthError):
        verify_token(SECRET, f"{header}.{forged}.{signature}", issuer="kongfumall")


def test_unknown_role_cannot_be_issued():
    with pytest.raises(AuthError, match="unknown roles"):
        issue_token(SECRET, "x", ["superuser"], issuer="kongfumall")


def test_staff_read_customer_data_only_with_the_right_role():
    token = issue_token(SECRET, "agent-7", ["support_agent"], issuer="kongfumall")
    caller = verify_token(SECRET, token, issuer="kongfumall")
    assert caller.can_read_customer_data("alice", "support_agent")
    assert not caller.can_read_customer_data("alice", "risk_analyst")
