"""Sign-up, verification, sessions, log-out, password reset and change, over RPC."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import jwt

from shared.contracts.identity import (
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    IssuedLink,
    OfficeOut,
    OfficeRegistered,
    Revocations,
    SignUpResult,
    TokenPair,
    VerifyResult,
)
from shared.errors import RemoteError
from tests.support.infra import token

from .support import IP, PASSWORD, Identity, new_email, unique_phone

NEW_PASSWORD = "Bicuspid-Bridge-9931"


def _claims(identity: Identity, access_token: str) -> dict:
    keys = identity.get_public_keys()["keys"]
    kid = jwt.get_unverified_header(access_token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    return jwt.decode(
        access_token,
        jwt.PyJWK(jwk).key,
        algorithms=["EdDSA"],
        audience=TOKEN_AUDIENCE,
        issuer=TOKEN_ISSUER,
    )


def _revoked_sessions(identity: Identity) -> set[str]:
    entries = Revocations.model_validate(identity.list_revocations(since=0)).entries
    return {str(e.session_id) for e in entries if e.session_id}


def test_sign_up_verify_set_up_log_in_refresh_log_out(start_identity) -> None:
    identity = start_identity(VERIFY_LINK_TTL=1.5)
    email = new_email().upper()
    answer = identity.sign_up(email=email)
    signed_up = SignUpResult.model_validate(answer)
    assert signed_up.email == email.lower()
    event = OfficeRegistered.model_validate(identity.events("office_registered")[0])
    assert event.office_id == signed_up.office_id and event.email == email.lower()
    outbox = json.dumps(identity.sql("SELECT payload FROM outbox_messages"))
    assert PASSWORD not in outbox and "token" not in outbox.replace("link_id", "")

    # The right password before verification: told to verify, nothing else.
    early = identity.error("log_in", payload={"email": email, "password": PASSWORD})
    assert early.remote_kind == "forbidden" and early.details == {"unverified": True}

    # The first link is used too late; the expired token asks for a fresh one, which works.
    link = IssuedLink.model_validate(identity.link("office_registered"))
    assert link.url.startswith("http://127.0.0.1:8000/verify?token=")
    assert link.expires_at - datetime.now(link.expires_at.tzinfo) <= timedelta(seconds=1.5)
    stale = link.url.split("token=")[1]
    time.sleep(1.6)
    expired = identity.error("verify_email", token=stale, client_ip=IP)
    assert expired.remote_kind == "gone" and expired.details == {"expired": True}
    assert identity.resend_verification(payload={"token": stale}) is None
    fresh = identity.link_token("verification_resent", user_id=str(signed_up.user_id))
    verified = VerifyResult.model_validate(identity.verify_email(token=fresh, client_ip=IP))
    assert verified.user_id == signed_up.user_id
    assert identity.events("user_verified", user_id=str(signed_up.user_id))
    again = identity.error("verify_email", token=fresh)
    assert again.remote_kind == "invalid" and again.details[0]["field"] == "token"
    assert identity.error("verify_email", token=stale).remote_kind == "invalid"  # superseded

    admin = identity.log_in(email)
    office = OfficeOut.model_validate(identity.get_office(caller=admin.caller))
    assert office.setup.complete is False and office.name is None
    assert office.notation == "universal" and office.time_zone == "America/Toronto"
    assert office.kind == "general_practice" and office.accepts_referrals is False
    done = identity.set_up(
        admin,
        name="Bright Smiles",
        kind="general_practice",
        specialty=None,
        city="Ottawa",
        providers=("Dr. Ines Park",),
    )
    assert OfficeOut.model_validate(done).setup.complete is True

    pair = TokenPair.model_validate(admin.tokens)
    claims = _claims(identity, pair.access_token)
    assert claims["sub"] == f"user:{admin.user_id}" and claims["uid"] == admin.user_id
    assert claims["office"] == admin.office_id and claims["role"] == "admin"
    assert claims["sid"] == str(pair.session_id) and len(claims["csrf"]) == 64
    assert claims["exp"] - claims["iat"] == pair.expires_in == 300
    assert 12 * 3600 - 5 <= pair.refresh_expires_in <= 12 * 3600

    # Refresh rotates; the rotated-out token, presented again, ends the session.
    rotated = TokenPair.model_validate(identity.refresh_session(refresh_token=pair.refresh_token))
    assert rotated.refresh_token != pair.refresh_token and rotated.session_id == pair.session_id
    assert rotated.csrf_token != pair.csrf_token
    assert _claims(identity, rotated.access_token)["csrf"] != claims["csrf"]
    reused = identity.error("refresh_session", refresh_token=pair.refresh_token)
    assert reused.remote_kind == "unauthenticated"
    ended = identity.error("refresh_session", refresh_token=rotated.refresh_token)
    assert ended.remote_kind == "unauthenticated"
    assert str(pair.session_id) in _revoked_sessions(identity)

    # Log-out ends a session and lists it for the gateway.
    second = identity.log_in(email)
    assert identity.log_out(session_id=second.tokens["session_id"], client_ip=IP) is None
    assert second.tokens["session_id"] in _revoked_sessions(identity)
    after = identity.error("refresh_session", refresh_token=second.tokens["refresh_token"])
    assert after.remote_kind == "unauthenticated"
    third = identity.log_in(email)
    identity.log_out(refresh_token=third.tokens["refresh_token"])
    assert third.tokens["session_id"] in _revoked_sessions(identity)
    actions = {row[0] for row in identity.sql("SELECT action FROM audit_log")}
    assert {"sign_up", "email_verified", "login", "logout", "refresh_token_reused"} <= actions


def test_revocations_are_paged_by_a_cursor(identity: Identity) -> None:
    admin = identity.office(setup=False)
    first = Revocations.model_validate(identity.list_revocations(since=0))
    identity.log_out(session_id=admin.tokens["session_id"])
    later = Revocations.model_validate(identity.list_revocations(since=first.cursor))
    assert [str(e.session_id) for e in later.entries] == [admin.tokens["session_id"]]
    # A fresh entry is sent again until it has settled (it may have committed late).
    assert later.cursor == first.cursor
    assert identity.error("list_revocations", since=-1).remote_kind == "invalid"


def test_resend_by_e_mail_answers_alike_whether_or_not_the_address_exists(
    identity: Identity,
) -> None:
    signed_up = identity.sign_up()
    assert identity.resend_verification(payload={"email": signed_up["email"]}) is None
    assert identity.resend_verification(payload={"email": new_email("nobody")}) is None
    assert identity.resend_verification(payload={"token": "x" * 43}) is None
    assert len(identity.events("verification_resent")) == 1
    # The first link was replaced by the new one.
    first = identity.events("office_registered")[0]["link_id"]
    assert identity.error("issue_link", link_id=first).remote_kind == "conflict"
    missing = identity.error("resend_verification", payload={})
    assert missing.remote_kind == "invalid" and missing.details[0]["field"] == "email"


def test_a_second_sign_up_of_the_same_office_is_refused_naming_only_the_office(
    identity: Identity,
) -> None:
    admin = identity.office(name="Harbour Oral Surgery")
    office = identity.get_office(caller=admin.caller)
    for duplicate in (
        {"email": admin.email.upper(), "phone": unique_phone()},
        {"email": new_email("other"), "phone": office["phone"]},
    ):
        refused = identity.error("sign_up", payload={**duplicate, "password": PASSWORD})
        assert refused.remote_kind == "conflict"
        assert refused.message == (
            "An office is already registered with this e-mail or phone: Harbour Oral Surgery. "
            "Ask its administrator to invite you."
        )
        assert refused.details == {"office_name": "Harbour Oral Surgery"}
    assert identity.sql("SELECT count(*) FROM offices") == [(1,)]
    assert identity.sql("SELECT count(*) FROM users") == [(1,)]
    assert len(identity.events("office_registered")) == 1

    # Before setup the office has no name: nothing at all is told.
    bare = identity.sign_up()
    refused = identity.error(
        "sign_up", payload={"email": new_email(), "phone": bare["phone"], "password": PASSWORD}
    )
    assert refused.details == {"office_name": None} and "registered" in refused.message


def test_every_broken_rule_and_bad_field_is_named_at_once(identity: Identity) -> None:
    refused = identity.error(
        "sign_up", payload={"email": "not-an-address", "phone": "12", "password": "abc"}
    )
    assert refused.remote_kind == "invalid"
    fields = [d["field"] for d in refused.details]
    assert fields.count("password") == 3 and {"email", "phone"} <= set(fields)
    text = " ".join(d["message"] for d in refused.details).lower()
    assert "12 characters" in text and "upper-case" in text and "digit" in text
    for password, rule in [
        ("Short1Aa", "12 characters"),
        ("alllowercase123", "upper-case"),
        ("ALLUPPERCASE123", "lower-case"),
        ("NoDigitsAtAllHere", "digit"),
        ("Password123456", "common"),
    ]:
        payload = {"email": new_email(), "phone": unique_phone(), "password": password}
        refused = identity.error("sign_up", payload=payload)
        assert [d["field"] for d in refused.details] == ["password"], password
        assert rule in refused.details[0]["message"].lower()
    typo = identity.error("sign_up", payload={"email": new_email(), "phone": "1", "pasword": "x"})
    assert {"password", "pasword"} <= {d["field"] for d in typo.details}
    assert identity.sql("SELECT count(*) FROM offices") == [(0,)]


def test_password_reset_is_single_use_and_ends_every_session(identity: Identity) -> None:
    admin = identity.office(setup=False)
    other = identity.log_in(admin.email)
    assert identity.request_password_reset(payload={"email": admin.email.upper()}) is None
    assert identity.request_password_reset(payload={"email": new_email("nobody")}) is None
    assert len(identity.events("password_reset_requested")) == 1
    link = IssuedLink.model_validate(identity.link("password_reset_requested"))
    assert "/reset-password?token=" in link.url
    lifetime = link.expires_at - datetime.now(link.expires_at.tzinfo)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    reset_token = link.url.split("token=")[1]

    weak = identity.error("reset_password", payload={"token": reset_token, "password": "short"})
    assert weak.remote_kind == "invalid" and {d["field"] for d in weak.details} == {"password"}
    payload = {"token": reset_token, "password": NEW_PASSWORD}
    assert identity.reset_password(payload=payload, client_ip=IP) is None
    again = identity.error("reset_password", payload=payload)
    assert again.remote_kind == "invalid" and again.details[0]["field"] == "token"

    for account in (admin, other):
        ended = identity.error("refresh_session", refresh_token=account.tokens["refresh_token"])
        assert ended.remote_kind == "unauthenticated"
    entries = Revocations.model_validate(identity.list_revocations(since=0)).entries
    assert any(str(e.user_id) == admin.user_id for e in entries)
    assert {admin.tokens["session_id"], other.tokens["session_id"]} <= _revoked_sessions(identity)
    old = identity.error("log_in", payload={"email": admin.email, "password": PASSWORD})
    assert old.remote_kind == "unauthenticated"
    assert identity.log_in(admin.email, NEW_PASSWORD).user_id == admin.user_id


def test_change_password_checks_the_current_one_and_ends_every_session(
    identity: Identity,
) -> None:
    admin = identity.office(setup=False)
    change = {"current_password": "Wrong-Password-1", "new_password": NEW_PASSWORD}
    wrong = identity.error("change_password", caller=admin.caller, payload=change)
    assert wrong.remote_kind == "invalid" and wrong.details[0]["field"] == "current_password"
    weak = identity.error(
        "change_password",
        caller=admin.caller,
        payload={"current_password": PASSWORD, "new_password": "password"},
    )
    assert {d["field"] for d in weak.details} == {"new_password"}
    identity.change_password(
        caller=admin.caller,
        payload={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        session_id=admin.tokens["session_id"],
        client_ip=IP,
    )
    assert admin.tokens["session_id"] in _revoked_sessions(identity)
    assert identity.log_in(admin.email, NEW_PASSWORD).user_id == admin.user_id
    outcomes = identity.sql(
        "SELECT outcome FROM audit_log WHERE action = 'password_change' ORDER BY id"
    )
    assert outcomes == [("failure",), ("success",)]
    audit = json.dumps(identity.sql("SELECT details FROM audit_log"), default=str)
    assert NEW_PASSWORD not in audit and PASSWORD not in audit


def test_a_used_link_cannot_be_issued_again_and_an_unknown_one_is_not_found(
    identity: Identity,
) -> None:
    identity.sign_up()
    link_id = identity.events("office_registered")[0]["link_id"]
    first = identity.issue_link(link_id=link_id)["url"].split("token=")[1]
    second = identity.issue_link(link_id=link_id)["url"].split("token=")[1]
    assert first != second
    # Issuing again replaces the token: the first e-mail's link no longer works.
    assert identity.error("verify_email", token=first).remote_kind == "invalid"
    identity.verify_email(token=second)
    assert identity.error("issue_link", link_id=link_id).remote_kind == "conflict"
    unknown = identity.error("issue_link", link_id="00000000-0000-4000-8000-000000000000")
    assert unknown.remote_kind == "not_found"
    assert identity.error("issue_link", link_id="nope").remote_kind == "invalid"


def test_input_errors_and_unknown_tokens(identity: Identity) -> None:
    short = identity.error("verify_email", token="abc")
    assert short.remote_kind == "invalid" and short.details[0]["field"] == "token"
    unknown = identity.error("verify_email", token=token(20))
    assert unknown.remote_kind == "invalid"
    refused = identity.error("refresh_session", refresh_token=token(20))
    assert refused.remote_kind == "unauthenticated"
    assert identity.log_out() is None
    assert isinstance(identity.error("get_me", caller={"office_id": "x"}), RemoteError)
