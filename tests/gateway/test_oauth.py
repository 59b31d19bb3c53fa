"""POST /api/v1/oauth/token: the client-credentials grant, RFC 6749 4.4 and 5.2."""

from __future__ import annotations

import base64

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.errors import RemoteError
from tests.gateway.fakes import FakeServices

URL = "/api/v1/oauth/token"
GRANT = {"grant_type": "client_credentials"}
IN_FORM = {**GRANT, "client_id": "a", "client_secret": "b"}
NO_COLON = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def oauth_error(answer: httpx.Response, status: int, error: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error
    assert answer.headers["cache-control"] == "no-store"


def test_basic_auth_gets_a_token(client: TestClient, fake: FakeServices) -> None:
    answer = client.post(URL, data=GRANT, headers=basic("bwc_123", "s3cret"))
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"access_token", "token_type", "expires_in"}
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    assert fake.last("issue_client_token").kwargs == {
        "payload": {"client_id": "bwc_123", "client_secret": "s3cret"},
        "client_ip": "testclient",
    }


def test_basic_credentials_are_form_decoded(client: TestClient, fake: FakeServices) -> None:
    # RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
    client.post(URL, data=GRANT, headers=basic("bwc%3A1", "a+b%2Bc"))
    assert fake.last().kwargs["payload"] == {"client_id": "bwc:1", "client_secret": "a b+c"}


def test_credentials_in_the_form_body_get_a_token(client: TestClient, fake: FakeServices) -> None:
    data = {**GRANT, "client_id": "bwc_123", "client_secret": "s3cret", "scope": "anything"}
    assert client.post(URL, data=data).status_code == 200
    assert fake.last().kwargs["payload"] == {"client_id": "bwc_123", "client_secret": "s3cret"}


def test_the_token_works_as_a_bearer(client: TestClient, fake: FakeServices) -> None:
    token = client.post(URL, data=GRANT, headers=basic("bwc_1", "s")).json()["access_token"]
    answer = client.get("/api/v1/office", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert fake.last("get_office").kwargs["caller"]["client_id"]


def test_wrong_credentials_are_invalid_client_401(client: TestClient, fake: FakeServices) -> None:
    fake.errors["issue_client_token"] = RemoteError("unknown client", kind="unauthenticated")
    answer = client.post(URL, data=GRANT, headers=basic("bwc_1", "wrong"))
    oauth_error(answer, 401, "invalid_client")
    assert answer.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("data", "headers", "status", "error"),
    [
        ({}, basic("a", "b"), 400, "invalid_request"),
        ({"grant_type": "password"}, basic("a", "b"), 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, {}, 400, "unsupported_grant_type"),
        (GRANT, {}, 401, "invalid_client"),
        ({**GRANT, "client_id": "a"}, {}, 401, "invalid_client"),
        (IN_FORM, basic("a", "b"), 400, "invalid_request"),
        (GRANT, {"Authorization": "Basic !!!not-base64"}, 401, "invalid_client"),
        (GRANT, NO_COLON, 401, "invalid_client"),
        (GRANT, {"Authorization": "Bearer abc"}, 401, "invalid_client"),
        ({**GRANT, "client_id": "x" * 101, "client_secret": "b"}, {}, 401, "invalid_client"),
    ],
)  # fmt: skip
def test_errors_have_the_rfc_shape(
    client: TestClient,
    fake: FakeServices,
    data: dict[str, str],
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    oauth_error(client.post(URL, data=data, headers=headers), status, error)
    assert fake.calls == []


def test_a_json_body_is_invalid_request(client: TestClient) -> None:
    answer = client.post(URL, json={**GRANT, "client_id": "a", "client_secret": "b"})
    oauth_error(answer, 400, "invalid_request")
    assert "x-www-form-urlencoded" in answer.json()["error_description"]


def test_rate_limited_token_requests_are_429_with_retry_after(
    client: TestClient, fake: FakeServices
) -> None:
    fake.errors["issue_client_token"] = RemoteError(
        "too many attempts", kind="rate_limited", details={"retry_after": 4}
    )
    answer = client.post(URL, data=GRANT, headers=basic("a", "b"))
    assert answer.status_code == 429 and answer.headers["retry-after"] == "4"
