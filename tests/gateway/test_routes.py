"""Every identity endpoint: validated, forwarded to the README's RPC method, answered."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.errors import RemoteError
from tests.gateway.fakes import FakeServices, SigningKey, Subject

ID = str(uuid.uuid4())
LINK = {"token": "Vq3b0f9mI0rQ2eF9l3F1xw8cNnq7Z3qz"}
EMAIL = {"email": "a@b.example"}
SIGN_UP = {**EMAIL, "phone": "+1 416 555 0134", "password": "x"}
RESET = "/api/v1/auth/password-reset"

# (HTTP method, path, JSON body, expected status, RPC method)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
    ("POST", "/api/v1/auth/signup", SIGN_UP, 201, "sign_up"),
    ("POST", "/api/v1/auth/verify", LINK, 200, "verify_email"),
    ("POST", "/api/v1/auth/resend", {"email": "a@b.example"}, 202, "resend_verification"),
    ("POST", RESET, EMAIL, 202, "request_password_reset"),
    ("POST", f"{RESET}/confirm", {**LINK, "password": "x"}, 204, "reset_password"),
    ("GET", "/api/v1/me", None, 200, "get_me"),
    ("GET", "/api/v1/office", None, 200, "get_office"),
    ("PATCH", "/api/v1/office", {"name": "Bright Smiles"}, 200, "update_office"),
    ("POST", "/api/v1/office/terms", {"version": "2026-11"}, 200, "accept_terms"),
    ("GET", "/api/v1/office/audit", None, 200, "list_audit"),
    ("GET", "/api/v1/office/providers", None, 200, "list_providers"),
    ("POST", "/api/v1/office/providers", {"display_name": "Dr. A"}, 201, "create_provider"),
    ("GET", f"/api/v1/office/providers/{ID}", None, 200, "get_provider"),
    ("PATCH", f"/api/v1/office/providers/{ID}", {"specialty": "Endo"}, 200, "update_provider"),
    ("DELETE", f"/api/v1/office/providers/{ID}", None, 204, "delete_provider"),
    ("GET", "/api/v1/office/users", None, 200, "list_users"),
    ("POST", "/api/v1/office/users", {"email": "a@b.example"}, 201, "invite_staff"),
    ("GET", f"/api/v1/office/users/{ID}", None, 200, "get_user"),
    ("PATCH", f"/api/v1/office/users/{ID}", {"role": "admin"}, 200, "change_role"),
    ("DELETE", f"/api/v1/office/users/{ID}", None, 204, "remove_user"),
    ("POST", "/api/v1/invitations", {"email": "a@b.example"}, 201, "create_invitation"),
    ("GET", "/api/v1/invitations", None, 200, "list_invitations"),
    ("DELETE", f"/api/v1/invitations/{ID}", None, 204, "revoke_invitation"),
    ("POST", "/api/v1/invitations/preview", LINK, 200, "get_invitation"),
    ("POST", "/api/v1/invitations/accept", LINK, 200, "accept_invitation"),
    ("GET", "/api/v1/colleagues", None, 200, "list_colleagues"),
    ("GET", "/api/v1/directory?q=okafor", None, 200, "search_directory"),
    ("GET", "/api/v1/office/api-clients", None, 200, "list_api_clients"),
    ("POST", "/api/v1/office/api-clients", {"name": "PMS"}, 201, "create_api_client"),
    ("GET", f"/api/v1/office/api-clients/{ID}", None, 200, "get_api_client"),
    ("PATCH", f"/api/v1/office/api-clients/{ID}", {"name": "PMS 2"}, 200, "update_api_client"),
    ("DELETE", f"/api/v1/office/api-clients/{ID}", None, 204, "revoke_api_client"),
]  # fmt: skip


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "rpc"), ENDPOINTS, ids=[e[4] for e in ENDPOINTS]
)
def test_each_endpoint_calls_its_rpc_with_the_readme_arguments(
    client: TestClient,
    fake: FakeServices,
    bearer: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    rpc: str,
) -> None:
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == status, answer.text
    assert fake.methods() == [rpc]  # the fake checked the kwargs against the README
    if "{" not in path and ID in path:
        assert ID in fake.last().kwargs.values()


def test_every_identity_endpoint_of_the_issue_is_documented(app: FastAPI) -> None:
    schema = app.openapi()
    paths = schema["paths"]
    templates = {re.sub(r"\{\w+\}", "[^/]+", p): p for p in paths}
    for method, path, _, _, _ in ENDPOINTS:
        documented = [
            t for regex, t in templates.items() if re.fullmatch(regex, path.split("?")[0])
        ]
        assert any(method.lower() in paths[t] for t in documented), (method, path)
    for path in ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"]:
        assert "post" in paths[path]
    for path, operations in paths.items():
        if not path.startswith("/api/v1/") or "/status" in path or "/teeth" in path:
            continue
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert any(code.startswith(("4", "5")) for code in operation["responses"]), path
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert body.get("examples"), (method, path)
    assert paths["/api/v1/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"]


@pytest.mark.parametrize(
    ("path", "body", "rpc"),
    [
        ("/api/v1/office/providers", {"display_name": "Dr. A"}, "create_provider"),
        ("/api/v1/office/users", {"email": "a@b.example"}, "invite_staff"),
        ("/api/v1/invitations", {"email": "a@b.example"}, "create_invitation"),
        ("/api/v1/office/api-clients", {"name": "PMS"}, "create_api_client"),
    ],
)
def test_idempotency_key_is_forwarded_on_create_calls(
    client: TestClient,
    fake: FakeServices,
    bearer: dict[str, str],
    path: str,
    body: dict[str, Any],
    rpc: str,
) -> None:
    key = f"retry-{uuid.uuid4()}"
    answer = client.post(path, json=body, headers={**bearer, "Idempotency-Key": key})
    assert answer.status_code == 201, answer.text
    assert fake.last(rpc).kwargs["idempotency_key"] == key
    client.post(path, json=body, headers=bearer)
    assert fake.last(rpc).kwargs["idempotency_key"] is None


def test_an_overlong_idempotency_key_is_422_naming_the_header(
    client: TestClient, fake: FakeServices, bearer: dict[str, str]
) -> None:
    headers = {**bearer, "Idempotency-Key": "k" * 201}
    answer = client.post("/api/v1/office/providers", json={"display_name": "A"}, headers=headers)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["header.Idempotency-Key"]
    assert fake.calls == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/office/providers/42", "path.provider_id"),
        ("/api/v1/office/users/not-a-uuid", "path.user_id"),
        ("/api/v1/office/api-clients/x", "path.api_client_id"),
    ],
)
def test_a_malformed_id_is_422_naming_it(
    client: TestClient, fake: FakeServices, bearer: dict[str, str], path: str, field: str
) -> None:
    answer = client.get(path, headers=bearer)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert fake.calls == []


def test_a_foreign_id_is_the_services_404(
    client: TestClient, fake: FakeServices, bearer: dict[str, str]
) -> None:
    fake.errors["get_provider"] = RemoteError("no such provider", kind="not_found")
    answer = client.get(f"/api/v1/office/providers/{uuid.uuid4()}", headers=bearer)
    assert answer.status_code == 404 and answer.json()["detail"] == "no such provider"


@pytest.mark.parametrize(
    ("path", "body", "rpc"),
    [
        ("/api/v1/auth/signup", {"email": "a@b.example", "phone": "1", "password": "x"}, "sign_up"),
        ("/api/v1/auth/resend", {"email": "a@b.example"}, "resend_verification"),
        ("/api/v1/auth/password-reset", {"email": "a@b.example"}, "request_password_reset"),
    ],
)
def test_rate_limits_answer_429_with_retry_after(
    client: TestClient, fake: FakeServices, path: str, body: dict[str, Any], rpc: str
) -> None:
    fake.errors[rpc] = RemoteError("slow down", kind="rate_limited", details={"retry_after": 30})
    answer = client.post(path, json=body)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "30"


def test_signup_conflict_names_only_the_office(client: TestClient, fake: FakeServices) -> None:
    fake.errors["sign_up"] = RemoteError(
        "this office already has an account: ask its admin for an invitation",
        kind="conflict",
        details={"office_name": "Bright Smiles"},
    )
    body = {"email": "a@b.example", "phone": "1", "password": "x"}
    answer = client.post("/api/v1/auth/signup", json=body)
    assert answer.status_code == 409
    assert answer.json()["info"] == {"office_name": "Bright Smiles"}


def test_an_expired_link_is_410(client: TestClient, fake: FakeServices) -> None:
    fake.errors["verify_email"] = RemoteError(
        "the link has expired", kind="gone", details={"expired": True}
    )
    answer = client.post("/api/v1/auth/verify", json=LINK)
    assert answer.status_code == 410 and answer.json()["info"] == {"expired": True}


def test_accepting_an_invitation_signed_out_passes_no_caller(
    client: TestClient, fake: FakeServices, bearer: dict[str, str], subject: Subject
) -> None:
    body = {**LINK, "password": "Molar-Crown-2026", "phone": "+1 905 555 0199"}
    assert client.post("/api/v1/invitations/accept", json=body).status_code == 200
    call = fake.last("accept_invitation")
    assert call.kwargs["caller"] is None
    assert call.kwargs["payload"] == {**body, "name": None}
    client.post("/api/v1/invitations/accept", json=LINK, headers=bearer)
    assert fake.last("accept_invitation").kwargs["caller"] == subject.caller()


def test_office_update_forwards_only_the_fields_sent(
    client: TestClient, fake: FakeServices, bearer: dict[str, str]
) -> None:
    body = {"name": "Bright Smiles", "accepts_referrals": True}
    assert client.patch("/api/v1/office", json=body, headers=bearer).status_code == 200
    assert fake.last("update_office").kwargs["payload"] == body  # omitted fields stay as they are


def test_directory_passes_its_query(
    client: TestClient, fake: FakeServices, bearer: dict[str, str]
) -> None:
    answer = client.get(
        "/api/v1/directory",
        params={"q": " okafor ", "kind": "specialist", "limit": 5},
        headers=bearer,
    )
    assert answer.status_code == 200
    kwargs = fake.last("search_directory").kwargs
    assert (kwargs["q"], kwargs["kind"], kwargs["limit"]) == ("okafor", "specialist", 5)
    bad = client.get("/api/v1/directory", params={"kind": "pharmacy", "limit": 0}, headers=bearer)
    assert {e["field"] for e in bad.json()["errors"]} == {"query.kind", "query.limit"}


def test_a_new_api_client_secret_is_not_cached(client: TestClient, bearer: dict[str, str]) -> None:
    answer = client.post("/api/v1/office/api-clients", json={"name": "PMS"}, headers=bearer)
    assert answer.status_code == 201 and answer.json()["client_secret"]
    assert answer.headers["cache-control"] == "no-store"


def test_a_contract_breaking_answer_is_a_500_not_a_leak(
    client: TestClient, fake: FakeServices, bearer: dict[str, str]
) -> None:
    fake.answers["get_office"] = lambda: {"id": "not an office", "password_hash": "x"}
    answer = client.get("/api/v1/office", headers=bearer)
    assert answer.status_code == 500
    assert "password_hash" not in answer.text
