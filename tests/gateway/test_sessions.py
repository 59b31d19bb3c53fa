"""Signing in through the gateway: bearer tokens, cookies with CSRF, refresh and logout."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.errors import RemoteError
from tests.gateway.conftest import make_app
from tests.gateway.fakes import FakeServices, SigningKey, Subject

LOGIN = {"email": "frontdesk@brightsmiles.example", "password": "Molar-Crown-2026"}


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """name -> {"value": ..., lower-cased attribute: value ("" for flags)}."""
    cookies: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        cookies[name] = {"value": value}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            cookies[name][key.lower()] = val
    return cookies


def log_in_with_cookies(client: TestClient) -> httpx.Response:
    answer = client.post("/api/v1/auth/login", json={**LOGIN, "session": "cookie"})
    assert answer.status_code == 200, answer.text
    return answer


def test_bearer_token_is_turned_into_the_caller_of_the_rpc(
    client: TestClient, fake: FakeServices, key: SigningKey, subject: Subject
) -> None:
    token = key.sign(subject.claims())
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert fake.last("get_me").kwargs == {"caller": subject.caller()}


def test_api_client_token_passes_a_client_caller(
    client: TestClient, fake: FakeServices, key: SigningKey
) -> None:
    machine = Subject.api_client()
    headers = {"Authorization": f"Bearer {key.sign(machine.claims())}"}
    assert client.get("/api/v1/office", headers=headers).status_code == 200
    caller = fake.last("get_office").kwargs["caller"]
    assert caller["client_id"] == str(machine.client_id) and caller["user_id"] is None


def test_login_token_mode_answers_the_pair_and_sets_no_cookie(
    client: TestClient, fake: FakeServices
) -> None:
    answer = client.post("/api/v1/auth/login", json=LOGIN, headers={"User-Agent": "pms-sync/2.1"})
    assert answer.status_code == 200, answer.text
    assert {"access_token", "refresh_token", "csrf_token"} <= set(answer.json())
    assert answer.headers["cache-control"] == "no-store"
    assert "set-cookie" not in answer.headers
    call = fake.last("log_in")
    assert call.kwargs["payload"] == LOGIN  # "session" is the gateway's, not identity's
    assert call.kwargs["client_ip"] == "testclient"
    assert call.kwargs["user_agent"] == "pms-sync/2.1"


def test_login_cookie_mode_sets_three_cookies_and_no_token_in_the_body(
    client: TestClient, subject: Subject
) -> None:
    answer = log_in_with_cookies(client)
    body = answer.json()
    assert set(body) == {"csrf_token", "expires_in", "session_id"}
    assert body["csrf_token"] == subject.csrf_token
    cookies = set_cookies(answer)
    assert set(cookies) == {"bw_access", "bw_refresh", "bw_csrf"}
    for name, value in [("bw_access", "access"), ("bw_refresh", "refresh")]:
        assert cookies[name]["value"] not in answer.text, f"the {value} token is in the body"
    expected = {
        "bw_access": ("/api", "lax", True, "900"),
        "bw_refresh": ("/api/v1/auth", "strict", True, "43200"),
        "bw_csrf": ("/", "strict", False, "43200"),
    }
    for name, (path, samesite, httponly, max_age) in expected.items():
        attributes = cookies[name]
        assert attributes["path"] == path, name
        assert attributes["samesite"].lower() == samesite, name
        assert ("httponly" in attributes) is httponly, name
        assert "secure" in attributes, name
        assert attributes["max-age"] == max_age, name
    assert cookies["bw_csrf"]["value"] == subject.csrf_token


def test_cookie_secure_setting_can_turn_secure_off(fake: FakeServices, key: SigningKey) -> None:
    client = TestClient(make_app(fake, key, COOKIE_SECURE="false"), base_url="http://testserver")
    answer = client.post("/api/v1/auth/login", json={**LOGIN, "session": "cookie"})
    assert all("secure" not in c for c in set_cookies(answer).values())


def test_cookie_session_reads_with_the_cookie_alone(
    client: TestClient, fake: FakeServices, subject: Subject
) -> None:
    log_in_with_cookies(client)
    assert client.get("/api/v1/me").status_code == 200
    assert fake.last("get_me").kwargs["caller"] == subject.caller()


@pytest.mark.parametrize(
    ("headers", "named"),
    [({}, "missing CSRF token"), ({"X-CSRF-Token": "not-the-token"}, "invalid CSRF token")],
)
def test_cookie_session_writes_need_the_csrf_header(
    client: TestClient, fake: FakeServices, headers: dict[str, str], named: str
) -> None:
    log_in_with_cookies(client)
    answer = client.post(
        "/api/v1/office/providers", json={"display_name": "Dr. A"}, headers=headers
    )
    assert answer.status_code == 403
    assert named in answer.json()["detail"]
    assert "create_provider" not in fake.methods()


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_cookie_session_writes_pass_with_the_csrf_header(
    client: TestClient, fake: FakeServices, method: str
) -> None:
    log_in_with_cookies(client)
    headers = {"X-CSRF-Token": client.cookies["bw_csrf"]}
    path = "/api/v1/office/providers" + ("" if method == "POST" else f"/{uuid.uuid4()}")
    body = {"display_name": "Dr. A"} if method != "DELETE" else None
    answer = client.request(method, path, json=body, headers=headers)
    assert answer.status_code in (200, 201, 204), answer.text


def test_bearer_wins_over_cookies_and_needs_no_csrf_header(
    client: TestClient, fake: FakeServices, key: SigningKey
) -> None:
    log_in_with_cookies(client)  # the cookies belong to the fixture's subject
    other = Subject()
    headers = {"Authorization": f"Bearer {key.sign(other.claims())}"}
    answer = client.post(
        "/api/v1/office/providers", json={"display_name": "Dr. B"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    assert fake.last("create_provider").kwargs["caller"] == other.caller()


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer"),
        ("Bearer not-a-jwt", 'Bearer error="invalid_token"'),
        ("Basic dXNlcjpwYXNz", 'Bearer error="invalid_token"'),
    ],
)
def test_missing_or_bad_credentials_are_401_with_a_challenge(
    client: TestClient, fake: FakeServices, authorization: str | None, challenge: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == challenge
    assert answer.json()["request_id"]
    assert fake.calls == []


def test_an_expired_cookie_is_401(client: TestClient, key: SigningKey, subject: Subject) -> None:
    client.cookies.set("bw_access", key.sign(subject.claims(issued=time.time() - 3600)))
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def test_before_the_keys_arrive_signed_in_endpoints_answer_503(
    fake: FakeServices, key: SigningKey, subject: Subject
) -> None:
    client = TestClient(make_app(fake, None), base_url="https://testserver")
    headers = {"Authorization": f"Bearer {key.sign(subject.claims())}"}
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 503 and "identity" in answer.json()["detail"]
    assert client.post("/api/v1/auth/login", json=LOGIN).status_code == 200


def test_refresh_with_a_token_in_the_body(client: TestClient, fake: FakeServices) -> None:
    answer = client.post("/api/v1/auth/refresh", json={"refresh_token": "r" * 32})
    assert answer.status_code == 200 and "access_token" in answer.json()
    assert fake.last("refresh_session").kwargs == {
        "refresh_token": "r" * 32,
        "client_ip": "testclient",
    }


def test_refresh_by_cookie_needs_the_csrf_cookie_echoed_and_rotates_cookies(
    client: TestClient, fake: FakeServices
) -> None:
    log_in_with_cookies(client)
    refresh_cookie = client.cookies["bw_refresh"]
    assert client.post("/api/v1/auth/refresh").status_code == 403
    wrong = client.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": "x" * 32})
    assert wrong.status_code == 403
    answer = client.post(
        "/api/v1/auth/refresh", headers={"X-CSRF-Token": client.cookies["bw_csrf"]}
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"csrf_token", "expires_in", "session_id"}
    assert set(set_cookies(answer)) == {"bw_access", "bw_refresh", "bw_csrf"}
    assert fake.last("refresh_session").kwargs["refresh_token"] == refresh_cookie


def test_refresh_without_token_or_cookie_is_401(client: TestClient) -> None:
    assert client.post("/api/v1/auth/refresh").status_code == 401


def test_bearer_logout_revokes_the_session_here_at_once(
    client: TestClient, fake: FakeServices, key: SigningKey, subject: Subject
) -> None:
    headers = {"Authorization": f"Bearer {key.sign(subject.claims())}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert fake.last("log_out").kwargs == {
        "session_id": str(subject.session_id),
        "refresh_token": None,
        "client_ip": "testclient",
    }
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_cookie_logout_needs_csrf_and_clears_the_cookies(
    client: TestClient, fake: FakeServices, subject: Subject
) -> None:
    log_in_with_cookies(client)
    assert client.post("/api/v1/auth/logout").status_code == 403
    answer = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": client.cookies["bw_csrf"]})
    assert answer.status_code == 204
    cleared = set_cookies(answer)
    assert set(cleared) == {"bw_access", "bw_refresh", "bw_csrf"}
    assert all(c["max-age"] == "0" for c in cleared.values())
    assert cleared["bw_refresh"]["path"] == "/api/v1/auth"
    call = fake.last("log_out").kwargs
    assert call["session_id"] == str(subject.session_id) and call["refresh_token"]


def test_logout_with_an_expired_access_token_still_names_its_session(
    client: TestClient, fake: FakeServices, key: SigningKey, subject: Subject
) -> None:
    expired = key.sign(subject.claims(issued=time.time() - 7200, lifetime=60))
    answer = client.post(
        "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {expired}"},
        json={"refresh_token": "r" * 32},
    )
    assert answer.status_code == 204
    assert fake.last("log_out").kwargs["session_id"] == str(subject.session_id)


def test_logout_twice_is_not_an_error(client: TestClient, fake: FakeServices) -> None:
    fake.errors["log_out"] = RemoteError("unknown session", kind="unauthenticated")
    answer = client.post("/api/v1/auth/logout", json={"refresh_token": "r" * 32})
    assert answer.status_code == 204


def test_logout_without_any_credential_is_401(client: TestClient) -> None:
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_password_change_passes_the_session_and_clears_cookies(
    client: TestClient, fake: FakeServices, subject: Subject
) -> None:
    log_in_with_cookies(client)
    body: dict[str, Any] = {
        "current_password": "Old-Molar-Crown-2025",
        "new_password": "N" * 8 + "ew-1a",
    }
    answer = client.post(
        "/api/v1/me/password", json=body, headers={"X-CSRF-Token": client.cookies["bw_csrf"]}
    )
    assert answer.status_code == 204, answer.text
    assert fake.last("change_password").kwargs["session_id"] == str(subject.session_id)
    assert all(c["max-age"] == "0" for c in set_cookies(answer).values())


def test_rate_limited_login_is_429_with_retry_after(client: TestClient, fake: FakeServices) -> None:
    fake.errors["log_in"] = RemoteError(
        "too many attempts from this address", kind="rate_limited", details={"retry_after": 12.2}
    )
    answer = client.post("/api/v1/auth/login", json=LOGIN)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "13"
    assert answer.json()["info"] == {"retry_after": 12.2}


def test_login_failures_keep_the_service_message_and_set_no_cookie(
    client: TestClient, fake: FakeServices
) -> None:
    fake.errors["log_in"] = RemoteError("wrong e-mail or password", kind="unauthenticated")
    answer = client.post("/api/v1/auth/login", json={**LOGIN, "session": "cookie"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "wrong e-mail or password"
    assert "set-cookie" not in answer.headers


def test_login_refuses_unknown_fields_and_sessions(client: TestClient) -> None:
    answer = client.post("/api/v1/auth/login", json={**LOGIN, "session": "jar"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["body.session"]
    assert client.post("/api/v1/auth/login", json={**LOGIN, "remember": 1}).status_code == 422


def test_no_token_password_or_e_mail_reaches_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    login = log_in_with_cookies(client)
    secrets = [LOGIN["email"], LOGIN["password"], *client.cookies.values()]
    client.post("/api/v1/office/providers", json={"display_name": "A"})  # 403: no CSRF
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]})
    client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.value"})
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records
    for secret in secrets:
        assert secret not in logged
