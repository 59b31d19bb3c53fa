"""The in-app notification and e-mail preference routes: signed in, validated, forwarded to
the notifications README's RPC methods with exactly their keyword arguments, answered in the
contract's shape; a foreign id is the service's 404, security e-mails cannot be turned off."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.errors import RemoteError
from tests.gateway.conftest import make_app
from tests.gateway.fakes import SigningKey, Subject
from tests.gateway.notification_fakes import SIGNATURES, FakeNotifications, default_answers

ID = str(uuid.uuid4())
PREFS = "/api/v1/me/notification-preferences"

# (HTTP method, path, JSON body, expected status, RPC method)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
    ("GET", "/api/v1/notifications", None, 200, "list_notifications"),
    ("POST", f"/api/v1/notifications/{ID}/read", None, 200, "mark_read"),
    ("POST", "/api/v1/notifications/read-all", None, 200, "mark_all_read"),
    ("GET", PREFS, None, 200, "get_preferences"),
    ("PUT", PREFS, {"files": False}, 200, "update_preferences"),
]


@pytest.fixture
def fake() -> FakeNotifications:  # type: ignore[override]
    return FakeNotifications(default_answers())


@pytest.fixture
def app(fake: FakeNotifications, key: SigningKey) -> FastAPI:
    return make_app(fake, key)  # type: ignore[arg-type]


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "rpc"), ENDPOINTS, ids=[e[4] for e in ENDPOINTS]
)
def test_each_endpoint_calls_its_rpc_with_the_readme_arguments(
    client: TestClient,
    fake: FakeNotifications,
    bearer: dict[str, str],
    subject: Subject,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    rpc: str,
) -> None:
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == status, answer.text
    assert fake.methods() == [rpc]  # the fake checked the kwargs against the README
    call = fake.last()
    assert call.kwargs["caller"] == subject.caller()
    assert set(answer.json()) == set(fake.answers[rpc]())  # the contract's shape


def test_the_readme_has_every_method_the_gateway_calls() -> None:
    for _, _, _, _, rpc in ENDPOINTS:
        assert rpc in SIGNATURES, rpc


@pytest.mark.parametrize(("method", "path", "body"), [(m, p, b) for m, p, b, _, _ in ENDPOINTS])
def test_every_endpoint_needs_a_signed_in_caller(
    client: TestClient, fake: FakeNotifications, method: str, path: str, body: Any
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == 401, answer.text
    assert fake.calls == []


def test_the_feed_answers_items_and_the_unread_count(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    answer = client.get("/api/v1/notifications", headers=bearer)
    body = answer.json()
    assert body["unread_count"] == 1
    assert [item["read"] for item in body["items"]] == [False, True]
    assert body["items"][0]["reference"] == "R-7K3F9Q"
    assert fake.last().kwargs["query"] == {"page": 1, "page_size": 25, "unread_only": False}


def test_feed_query_parameters_reach_the_feed_query(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    answer = client.get(
        "/api/v1/notifications?page=2&page_size=10&unread_only=true", headers=bearer
    )
    assert answer.status_code == 200, answer.text
    assert fake.last().kwargs["query"] == {"page": 2, "page_size": 10, "unread_only": True}


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=0", "page"), ("page_size=101", "page_size"), ("unread_only=maybe", "unread_only")],
)
def test_a_bad_feed_query_is_a_422_naming_it(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str], query: str, field: str
) -> None:
    answer = client.get(f"/api/v1/notifications?{query}", headers=bearer)
    assert answer.status_code == 422, answer.text
    assert any(e["field"].endswith(field) for e in answer.json()["errors"])
    assert fake.calls == []


def test_a_foreign_notification_is_the_services_404(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    fake.errors["mark_read"] = RemoteError("No such notification.", kind="not_found")
    answer = client.post(f"/api/v1/notifications/{ID}/read", headers=bearer)
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == "No such notification."
    assert fake.last().kwargs["notification_id"] == ID


def test_a_bad_notification_id_is_a_422_naming_it(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    answer = client.post("/api/v1/notifications/not-an-id/read", headers=bearer)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["path.notification_id"]
    assert fake.calls == []


def test_preferences_put_passes_only_what_changes(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    answer = client.put(PREFS, json={"files": False, "cases": True}, headers=bearer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["files"] is False
    payload = fake.last().kwargs["payload"]
    assert {k: v for k, v in payload.items() if v is not None} == {"files": False, "cases": True}


def test_turning_security_mail_off_is_the_services_422_naming_security(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    fake.errors["update_preferences"] = RemoteError(
        "Check these fields: security.",
        kind="invalid",
        details=[{"field": "security", "message": "Security e-mails cannot be turned off."}],
    )
    answer = client.put(PREFS, json={"security": False}, headers=bearer)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["security"]


@pytest.mark.parametrize(
    ("body", "field"), [({"sms": False}, "sms"), ({"files": "sometimes"}, "files")]
)
def test_a_bad_preferences_body_is_a_422_naming_the_field(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str], body: Any, field: str
) -> None:
    answer = client.put(PREFS, json=body, headers=bearer)
    assert answer.status_code == 422, answer.text
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}
    assert fake.calls == []
