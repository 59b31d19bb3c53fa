"""Identity end to end: every process started as `make run` starts it, driven over HTTP.

Sign-up, verification (with an expired link), setup, log-in, refresh,
log-out, duplicate offices, the password policy, lockout, forged tokens,
invitations, the directory, API clients and tenancy.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.contracts.identity import TOKEN_AUDIENCE, TOKEN_ISSUER
from tests.support.accounts import PASSWORD, Account, Platform, platform, unique_phone
from tests.support.infra import token, wait_for
from tests.support.stack import running_stack

VERIFY_LINK_TTL = 2


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    # The test reads the signing key to forge tokens that differ from real ones in one way.
    key_file = tmp_path_factory.mktemp("identity-key") / "jwt.pem"
    with (
        running_stack(
            IDENTITY_JWT_KEY_FILE=str(key_file),
            VERIFY_LINK_TTL=str(VERIFY_LINK_TTL),
            # Every test here logs in from 127.0.0.1; the per-IP limit has its own service test.
            LOGIN_RATE_LIMIT="10000",
            REVOCATION_POLL_INTERVAL="0.5",
        ) as stack,
        platform(stack) as started,
    ):
        started.key_file = key_file
        yield started


def assert_rejected_soon(account: Account, what: str) -> None:
    """The access token stops working within seconds (the gateway polls revocations)."""
    wait_for(
        lambda: account.get("/api/v1/me").status_code == 401,
        timeout=10,
        interval=0.25,
        what=f"the access token rejected after {what}",
    )


def test_sign_up_verify_set_up_log_in_refresh_log_out(world: Platform) -> None:
    signed_up = world.sign_up()
    email = signed_up["email"]

    # Not verified yet: the right password is told to verify first.
    early = world.http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert early.status_code == 403 and early.json()["info"] == {"unverified": True}

    # The first link is clicked too late: one click asks for a fresh one, which works.
    stale = world.link_token("office_registered", email)
    time.sleep(VERIFY_LINK_TTL + 0.5)
    expired = world.http.post("/api/v1/auth/verify", json={"token": stale})
    assert expired.status_code == 410 and expired.json()["info"] == {"expired": True}
    resent = world.http.post("/api/v1/auth/resend", json={"token": stale})
    assert resent.status_code == 202
    fresh = world.link_token("verification_resent", email)
    verified = world.http.post("/api/v1/auth/verify", json={"token": fresh})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email"] == email
    world.events.wait("user_verified", lambda d: d["user_id"] == signed_up["user_id"])
    again = world.http.post("/api/v1/auth/verify", json={"token": fresh})
    assert again.status_code == 422  # single use

    admin = world.log_in(email)
    me = admin.get("/api/v1/me").json()
    assert me["user"]["role"] == "admin" and me["office"]["setup"]["complete"] is False
    assert me["office"]["notation"] == "universal"

    # The one-time setup.
    office = {
        "name": "Bright Smiles Dental",
        "kind": "general_practice",
        "phone": unique_phone(),
        "address": {
            "street": "1 Main St",
            "city": "Ottawa",
            "region": "ON",
            "postal_code": "K1P 1J1",
            "country": "CA",
        },
        "time_zone": "America/Toronto",
        "notation": "fdi",
    }
    assert admin.patch("/api/v1/office", json=office).status_code == 200
    provider = admin.post("/api/v1/office/providers", json={"display_name": "Dr. Ines Park"})
    assert provider.status_code == 201
    terms = admin.post(
        "/api/v1/office/terms", json={"version": me["office"]["setup"]["terms_version"]}
    )
    assert terms.status_code == 200
    me = admin.get("/api/v1/me").json()
    assert me["office"]["setup"]["complete"] is True
    assert me["office"]["name"] == "Bright Smiles Dental" and me["office"]["notation"] == "fdi"
    assert [p["display_name"] for p in me["office"]["providers"]] == ["Dr. Ines Park"]

    # Refresh rotates the refresh token; the old one no longer works, and presenting it
    # again ends the session (someone else holds it).
    first = admin.tokens
    refreshed = world.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    admin.tokens = refreshed.json()
    assert admin.tokens["refresh_token"] != first["refresh_token"]
    assert admin.get("/api/v1/me").status_code == 200

    # Log-out ends the session everywhere within seconds.
    assert admin.post("/api/v1/auth/logout").status_code == 204
    assert_rejected_soon(admin, "log-out")
    reuse = world.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin.tokens["refresh_token"]}
    )
    assert reuse.status_code == 401


def test_reusing_a_rotated_refresh_token_ends_the_session(world: Platform) -> None:
    admin = world.office()
    old = admin.tokens["refresh_token"]
    rotated = world.http.post("/api/v1/auth/refresh", json={"refresh_token": old})
    assert rotated.status_code == 200
    admin.tokens = rotated.json()
    stolen = world.http.post("/api/v1/auth/refresh", json={"refresh_token": old})
    assert stolen.status_code == 401
    assert_rejected_soon(admin, "refresh-token reuse")
    legit = world.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin.tokens["refresh_token"]}
    )
    assert legit.status_code == 401


def test_browser_session_uses_http_only_cookies_and_csrf(world: Platform) -> None:
    admin = world.office()
    login = world.http.post(
        "/api/v1/auth/login",
        json={"email": admin.email, "password": PASSWORD, "session": "cookie"},
    )
    assert login.status_code == 200
    body = login.json()
    assert "access_token" not in body and "refresh_token" not in body
    cookies = {c.split("=", 1)[0]: c for c in login.headers.get_list("set-cookie")}
    for name in ("bw_access", "bw_refresh"):
        flags = cookies[name].lower()
        assert "httponly" in flags and "secure" in flags and "samesite" in flags
    assert "httponly" not in cookies["bw_csrf"].lower()
    jar = {name: value.split(";", 1)[0].split("=", 1)[1] for name, value in cookies.items()}
    cookie_header = "; ".join(f"{name}={value}" for name, value in jar.items())

    # Reading needs only the cookie; changing something needs the CSRF header as well.
    read = world.http.get("/api/v1/office", headers={"Cookie": cookie_header})
    assert read.status_code == 200 and read.json()["id"] == admin.office_id
    provider = {"display_name": "Dr. Cookie"}
    forged = world.http.post(
        "/api/v1/office/providers", json=provider, headers={"Cookie": cookie_header}
    )
    assert forged.status_code == 403 and "csrf" in forged.json()["detail"].lower()
    made = world.http.post(
        "/api/v1/office/providers",
        json=provider,
        headers={"Cookie": cookie_header, "X-CSRF-Token": body["csrf_token"]},
    )
    assert made.status_code == 201, made.text


def test_a_second_sign_up_of_the_same_office_is_refused_naming_only_the_office(
    world: Platform,
) -> None:
    admin = world.office(name="Harbour Oral Surgery")
    office = admin.get("/api/v1/office").json()
    for duplicate in (
        {"email": admin.email.upper(), "phone": unique_phone()},
        {"email": f"other-{token()}@example.com", "phone": office["phone"]},
    ):
        answer = world.http.post("/api/v1/auth/signup", json={**duplicate, "password": PASSWORD})
        assert answer.status_code == 409, answer.text
        detail = answer.json()["detail"]
        assert "Harbour Oral Surgery" in detail and "invit" in detail
        assert admin.email not in detail and office["phone"] not in detail
    assert (
        len(world.events.all("office_registered", lambda d: d["office_id"] == admin.office_id)) == 1
    )


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1Aa", "12 characters"),
        ("alllowercase123", "upper-case"),
        ("ALLUPPERCASE123", "lower-case"),
        ("NoDigitsAtAllHere", "digit"),
        ("Password123456", "common"),
    ],
)
def test_each_password_rule_is_named(world: Platform, password: str, rule: str) -> None:
    email = f"pw-{token()}@example.com"
    answer = world.http.post(
        "/api/v1/auth/signup", json={"email": email, "phone": unique_phone(), "password": password}
    )
    assert answer.status_code == 422
    messages = [e["message"] for e in answer.json()["errors"] if e["field"] == "password"]
    assert len(messages) == 1 and rule in messages[0].lower(), messages


def test_every_broken_password_rule_is_named_at_once(world: Platform) -> None:
    answer = world.http.post(
        "/api/v1/auth/signup",
        json={"email": f"pw-{token()}@example.com", "phone": unique_phone(), "password": "abc"},
    )
    assert answer.status_code == 422
    messages = " ".join(e["message"] for e in answer.json()["errors"]).lower()
    assert "12 characters" in messages and "upper-case" in messages and "digit" in messages


def _failed_login(world: Platform, email: str, password: str) -> tuple[int, str]:
    answer = world.http.post("/api/v1/auth/login", json={"email": email, "password": password})
    return answer.status_code, answer.json()["detail"]


def test_ten_failures_lock_the_account_and_unknown_users_get_the_same_answer(
    world: Platform,
) -> None:
    admin = world.office()
    wrong = _failed_login(world, admin.email, "Wrong-Password-123")
    unknown = _failed_login(world, f"nobody-{token()}@example.com", "Wrong-Password-123")
    assert wrong == unknown and wrong[0] == 401
    for _ in range(9):
        assert _failed_login(world, admin.email, "Wrong-Password-123") == wrong
    world.events.wait("account_locked", lambda d: d["user_id"] == admin.user_id)
    # Locked: even the right password gets the same answer, for 15 minutes.
    assert _failed_login(world, admin.email, PASSWORD) == wrong


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def test_forged_and_expired_tokens_are_rejected(world: Platform) -> None:
    admin = world.office()
    claims = jwt.decode(admin.tokens["access_token"], options={"verify_signature": False})
    assert claims["iss"] == TOKEN_ISSUER and claims["aud"] == TOKEN_AUDIENCE
    kid = jwt.get_unverified_header(admin.tokens["access_token"])["kid"]
    public = base64.urlsafe_b64decode(
        world.rpc.call("identity", "get_public_keys")["keys"][0]["x"] + "=="
    )
    real_key = serialization.load_pem_private_key(world.key_file.read_bytes(), password=None)
    now = int(time.time())

    def signed(key: Any, algorithm: str = "EdDSA", **changes: Any) -> str:
        return jwt.encode({**claims, **changes}, key, algorithm=algorithm, headers={"kid": kid})

    def status(token_: str) -> httpx.Response:
        return world.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token_}"})

    # The harness itself is sound: a token re-signed with the real key is accepted.
    assert status(signed(real_key)).status_code == 200
    unsigned = b".".join(
        [_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), b""]
    )
    forgeries = {
        "alg none": unsigned.decode(),
        "HS256 keyed with the public key": signed(public, "HS256"),
        "another Ed25519 key": signed(Ed25519PrivateKey.generate()),
        "expired": signed(real_key, iat=now - 600, exp=now - 300),
        "another audience": signed(real_key, aud="someone-else"),
        "another issuer": signed(real_key, iss="someone-else"),
    }
    for what, forged in forgeries.items():
        answer = status(forged)
        assert answer.status_code == 401, what
        assert "invalid_token" in answer.headers.get("www-authenticate", ""), what


def test_an_invitation_accepted_makes_the_offices_colleagues(world: Platform) -> None:
    surgeon = world.office(
        name="Lakeside Oral Surgery", kind="specialist", specialty="Oral surgery"
    )
    invitee = f"dentist-{token()}@example.com"
    sent = surgeon.post("/api/v1/invitations", json={"email": invitee})
    assert sent.status_code == 201, sent.text
    link = world.link_token("invitation_sent", invitee)
    preview = world.http.post("/api/v1/invitations/preview", json={"token": link})
    assert preview.json()["from_office_name"] == "Lakeside Oral Surgery"
    assert preview.json()["account_exists"] is False

    accepted = world.http.post(
        "/api/v1/invitations/accept",
        json={"token": link, "phone": unique_phone(), "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["created_account"] is True
    world.events.wait("invitation_accepted", lambda d: d["invitation_id"] == sent.json()["id"])

    dentist = world.log_in(invitee)  # the link proved the address: no separate verification
    theirs = [c["office"]["id"] for c in dentist.get("/api/v1/colleagues").json()]
    ours = [c["office"]["id"] for c in surgeon.get("/api/v1/colleagues").json()]
    assert theirs == [surgeon.office_id] and ours == [dentist.office_id]
    again = world.http.post(
        "/api/v1/invitations/accept", json={"token": link, "password": PASSWORD}
    )
    assert again.status_code == 409

    # An office already on the platform accepts with its account: no new office.
    lab = world.office(name="Precision Guides Lab", kind="lab")
    assert surgeon.post("/api/v1/invitations", json={"email": lab.email}).status_code == 201
    link = world.link_token("invitation_sent", lab.email)
    linked = lab.post("/api/v1/invitations/accept", json={"token": link})
    assert linked.status_code == 200 and linked.json()["created_account"] is False
    ours = [c["office"]["id"] for c in surgeon.get("/api/v1/colleagues").json()]
    assert ours == [lab.office_id, dentist.office_id]  # most recent first


def test_directory_finds_receiving_offices_by_provider_office_specialty_or_city(
    world: Platform,
) -> None:
    marker = token()
    surgeon = world.office(
        name=f"Quillfeather {marker} Surgery",
        kind="specialist",
        specialty="Periodontics",
        city=f"Port{marker}ville",
        providers=(f"Dr. Zed {marker}son",),
    )
    world.office(name=f"Quillfeather {marker} Family Dental", kind="general_practice")
    searcher = world.office()

    def found(q: str) -> list[str]:
        answer = searcher.get("/api/v1/directory", params={"q": q})
        assert answer.status_code == 200
        return [entry["office"]["id"] for entry in answer.json()]

    assert found(f"QUILLFEATHER {marker}") == [surgeon.office_id]  # the GP does not accept
    assert found(f"zed {marker.upper()}") == [surgeon.office_id]
    assert found(f"port{marker}") == [surgeon.office_id]
    assert surgeon.office_id in found("periodont")
    assert found(f"nothing-{marker}") == []
    entry = searcher.get("/api/v1/directory", params={"q": marker}).json()[0]
    assert [p["display_name"] for p in entry["office"]["providers"]] == [f"Dr. Zed {marker}son"]


def _client_token(world: Platform, client_id: str, secret: str) -> httpx.Response:
    return world.http.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )


def test_an_api_client_acts_for_its_office_only_until_revoked(world: Platform) -> None:
    ours, theirs = world.office(), world.office()
    created = ours.post("/api/v1/office/api-clients", json={"name": "PMS sync"})
    assert created.status_code == 201
    client = created.json()
    assert client["client_secret"]
    listed = ours.get("/api/v1/office/api-clients").json()
    assert "client_secret" not in json.dumps(listed) or all(
        c.get("client_secret") is None for c in listed
    )

    granted = _client_token(world, client["client_id"], client["client_secret"])
    assert granted.status_code == 200, granted.text
    assert granted.headers["cache-control"] == "no-store"
    api = Account(world.stack, "", "", "", "", {"access_token": granted.json()["access_token"]})
    assert api.get("/api/v1/office").json()["id"] == ours.office_id
    providers = api.get("/api/v1/office/providers").json()
    assert [p["id"] for p in providers] == [
        p["id"] for p in ours.get("/api/v1/office/providers").json()
    ]
    their_provider = theirs.get("/api/v1/office/providers").json()[0]["id"]
    assert api.get(f"/api/v1/office/providers/{their_provider}").status_code == 404

    wrong = _client_token(world, client["client_id"], "bws_" + "x" * 43)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"

    assert ours.delete(f"/api/v1/office/api-clients/{client['id']}").status_code == 204
    assert_rejected_soon(api, "the client's revocation")
    assert _client_token(world, client["client_id"], client["client_secret"]).status_code == 401


def test_an_office_gets_404_for_every_id_of_another_office(world: Platform) -> None:
    a, b = world.office(), world.office()
    provider = b.get("/api/v1/office/providers").json()[0]["id"]
    user = b.user_id
    invitation = b.post("/api/v1/invitations", json={"email": f"x-{token()}@example.com"})
    api_client = b.post("/api/v1/office/api-clients", json={"name": "theirs"})
    staff = b.post("/api/v1/office/users", json={"email": f"s-{token()}@example.com"})
    ids = {
        "provider": provider,
        "invitation": invitation.json()["id"],
        "api_client": api_client.json()["id"],
    }
    requests = [
        ("GET", f"/api/v1/office/providers/{ids['provider']}", None),
        ("PATCH", f"/api/v1/office/providers/{ids['provider']}", {"display_name": "Mine"}),
        ("DELETE", f"/api/v1/office/providers/{ids['provider']}", None),
        ("GET", f"/api/v1/office/users/{user}", None),
        ("PATCH", f"/api/v1/office/users/{user}", {"role": "staff"}),
        ("DELETE", f"/api/v1/office/users/{user}", None),
        ("DELETE", f"/api/v1/invitations/{ids['invitation']}", None),
        ("DELETE", f"/api/v1/invitations/{staff.json()['id']}", None),
        ("GET", f"/api/v1/office/api-clients/{ids['api_client']}", None),
        ("PATCH", f"/api/v1/office/api-clients/{ids['api_client']}", {"name": "Mine"}),
        ("DELETE", f"/api/v1/office/api-clients/{ids['api_client']}", None),
    ]
    for method, path, body in requests:
        answer = a.request(method, path, json=body)
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code}"
    # ...and nothing of b's changed.
    assert b.get(f"/api/v1/office/providers/{provider}").json()["display_name"] != "Mine"
    assert b.get(f"/api/v1/office/users/{user}").json()["role"] == "admin"
    assert b.get(f"/api/v1/office/api-clients/{ids['api_client']}").json()["revoked_at"] is None


def test_staff_invitation_joins_the_office_with_its_role(world: Platform) -> None:
    admin = world.office()
    email = f"frontdesk-{token()}@example.com"
    invited = admin.post("/api/v1/office/users", json={"email": email, "role": "staff"})
    assert invited.status_code == 201, invited.text
    link = world.link_token("invitation_sent", email)
    accepted = world.http.post(
        "/api/v1/invitations/accept",
        json={"token": link, "name": "Robin Front", "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    staff = world.log_in(email)
    assert staff.office_id == admin.office_id
    me = staff.get("/api/v1/me").json()
    assert me["user"]["role"] == "staff" and me["user"]["name"] == "Robin Front"
    # Staff can read the office but not run it.
    assert staff.get("/api/v1/office/users").status_code == 200
    assert staff.post("/api/v1/office/api-clients", json={"name": "x"}).status_code == 403
    # The admin promotes them; their current token stops carrying the old role.
    promoted = admin.patch(f"/api/v1/office/users/{staff.user_id}", json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert_rejected_soon(staff, "the role change")


def test_password_reset_ends_every_session(world: Platform) -> None:
    admin = world.office()
    asked = world.http.post("/api/v1/auth/password-reset", json={"email": admin.email})
    nobody = world.http.post(
        "/api/v1/auth/password-reset", json={"email": f"nobody-{token()}@example.com"}
    )
    assert asked.status_code == nobody.status_code == 202
    link = world.link_token("password_reset_requested", admin.email)
    new_password = "Bicuspid-Bridge-9931"
    done = world.http.post(
        "/api/v1/auth/password-reset/confirm", json={"token": link, "password": new_password}
    )
    assert done.status_code == 204, done.text
    assert_rejected_soon(admin, "the password reset")
    reused = world.http.post(
        "/api/v1/auth/password-reset/confirm", json={"token": link, "password": new_password}
    )
    assert reused.status_code == 422
    assert world.log_in(admin.email, new_password).office_id == admin.office_id
    assert _failed_login(world, admin.email, PASSWORD)[0] == 401
