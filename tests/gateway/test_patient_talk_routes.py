"""Patient Talk's routes: the office's (signed in) and the patient's (a link, then a cookie),
forwarded to the notifications service's README methods with exactly their keyword arguments,
answered in the contract's shape; the patient's page served with its protective headers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.rpc import wire_kwargs
from shared.contracts import patient_talk as contract
from shared.errors import RemoteError
from tests.gateway.conftest import make_app
from tests.gateway.fakes import Call, SigningKey, Subject
from tests.support.readme_rpc import check_call

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
ID = str(uuid.uuid4())
TOKEN = "tK7x" + "A" * 39  # 43 URL-safe characters, like a real link's token
SESSION = "sS9q" + "B" * 39
THREADS = "/api/v1/patient-threads"
T = f"{THREADS}/{ID}"
THREAD_IN = {
    "owner_type": "referral",
    "owner_id": str(uuid.uuid4()),
    "patient_name": "Maya Chen",
    "email": "maya.chen@example.com",
    "mobile_phone": "+1 416 555 0199",
    "date_of_birth": "1988-04-12",
    "preferred_channel": "text",
}


def message(author: str = "office") -> dict[str, Any]:
    return contract.PatientMessageOut(
        id=uuid.uuid4(), author=author, body="See you Tuesday.", at=NOW
    ).model_dump(mode="json")


def thread(office_id: uuid.UUID) -> dict[str, Any]:
    return contract.PatientThreadOut(
        id=uuid.UUID(ID),
        office_id=office_id,
        owner_type="referral",
        owner_id=uuid.uuid4(),
        patient_name="Maya Chen",
        email="maya.chen@example.com",
        mobile_phone="+14165550199",
        date_of_birth="1988-04-12",
        preferred_channel="text",
        created_at=NOW,
        last_message_at=None,
        unread=0,
    ).model_dump(mode="json")


def link() -> dict[str, Any]:
    return contract.LinkOut(
        id=uuid.uuid4(),
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
        revoked_at=None,
        active=True,
    ).model_dump(mode="json")


def answers(office_id: uuid.UUID) -> dict[str, Callable[[], Any]]:
    return {
        "create_patient_thread": lambda: thread(office_id),
        "list_patient_threads": lambda: [thread(office_id)],
        "get_patient_thread": lambda: {**thread(office_id), "messages": [message()], "links": []},
        "send_patient_message": lambda: {
            "message": message(),
            "link": link(),
            "emailed": True,
            "texted": True,
        },
        "revoke_patient_links": lambda: {"revoked": 2},
        "list_patient_access": lambda: [
            {
                "id": 7,
                "link_id": None,
                "action": "opened",
                "ip": "203.0.113.7",
                "at": NOW.isoformat(),
            }
        ],
        "open_patient_link": lambda: {
            "office_name": "Lakeside Oral Surgery",
            "expires_at": (NOW + timedelta(days=7)).isoformat(),
        },
        "verify_patient": lambda: {
            "session_token": SESSION,
            "expires_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat(),
            "office_name": "Lakeside Oral Surgery",
        },
        "get_patient_view": lambda: {
            "office_name": "Lakeside Oral Surgery",
            "patient_name": "Maya Chen",
            "messages": [message(), message("patient")],
            "session_expires_at": (NOW + timedelta(minutes=30)).isoformat(),
        },
        "post_patient_reply": lambda: message("patient"),
        "end_patient_session": lambda: None,
    }


class FakeNotifications:
    """Stands in for gateway.rpc.Services: every call is checked against the notifications
    README's methods and shared/contracts/patient_talk.py."""

    def __init__(self, answers: dict[str, Callable[[], Any]]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.errors: dict[str, Exception] = {}
        self.names = ("notifications",)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        assert service == "notifications", service
        check_call(service, method, kwargs, contract)
        self.calls.append(Call(service, method, kwargs))
        if method in self.errors:
            raise self.errors[method]
        return self.answers[method]()

    def last(self, method: str) -> Call:
        calls = [c for c in self.calls if c.method == method]
        assert calls, f"no call to {method}"
        return calls[-1]


@pytest.fixture
def fake(subject: Subject) -> FakeNotifications:  # type: ignore[override]
    return FakeNotifications(answers(subject.office_id))


@pytest.fixture
def app(fake: FakeNotifications, key: SigningKey) -> FastAPI:
    return make_app(fake, key)  # type: ignore[arg-type]


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


# (HTTP method, path, JSON body, expected status, RPC method, answer model)
OFFICE_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, str, Any]] = [
    ("POST", THREADS, THREAD_IN, 201, "create_patient_thread", contract.PatientThreadOut),
    ("GET", THREADS, None, 200, "list_patient_threads", contract.PatientThreadOut),
    ("GET", T, None, 200, "get_patient_thread", contract.PatientThreadDetail),
    ("POST", f"{T}/messages", {"body": "Hi"}, 201, "send_patient_message", contract.PatientSent),
    ("POST", f"{T}/links/revoke", None, 200, "revoke_patient_links", contract.RevokedLinks),
    ("GET", f"{T}/access", None, 200, "list_patient_access", contract.PatientAccessEntry),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "rpc", "model"), OFFICE_ENDPOINTS)
def test_office_endpoints_forward_as_the_readme_says(
    client: TestClient,
    fake: FakeNotifications,
    bearer: dict[str, str],
    subject: Subject,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    rpc: str,
    model: Any,
) -> None:
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == status, answer.text
    call = fake.last(rpc)
    assert call.kwargs["caller"]["office_id"] == str(subject.office_id)
    if ID in path:
        assert call.kwargs["thread_id"] == ID
    data = answer.json()
    for item in data if isinstance(data, list) else [data]:
        model.model_validate(item)


def test_office_endpoints_need_a_signed_in_caller(
    client: TestClient, fake: FakeNotifications
) -> None:
    for method, path, body, _, _, _ in OFFICE_ENDPOINTS:
        assert client.request(method, path, json=body).status_code == 401, (method, path)
    assert fake.calls == []


def test_create_validates_and_carries_the_idempotency_key(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    headers = {**bearer, "Idempotency-Key": "t-1"}
    assert (
        client.post("/api/v1/patient-threads", json=THREAD_IN, headers=headers).status_code == 201
    )
    call = fake.last("create_patient_thread").kwargs
    assert call["idempotency_key"] == "t-1"
    assert call["payload"]["mobile_phone"] == "+14165550199"  # normalised to E.164

    bad = client.post(
        "/api/v1/patient-threads",
        json={**THREAD_IN, "email": "nope", "owner_type": "invoice"},
        headers=bearer,
    )
    assert bad.status_code == 422
    fields = {error["field"] for error in bad.json()["errors"]}
    assert fields == {"body.email", "body.owner_type"}


def test_listing_one_owner_sends_the_query(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    owner = str(uuid.uuid4())
    answer = client.get(f"/api/v1/patient-threads?owner_type=case&owner_id={owner}", headers=bearer)
    assert answer.status_code == 200
    assert fake.last("list_patient_threads").kwargs["query"] == {
        "owner_type": "case",
        "owner_id": owner,
    }
    client.get("/api/v1/patient-threads", headers=bearer)
    assert fake.last("list_patient_threads").kwargs["query"] == {}


def test_another_offices_thread_is_a_404(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    fake.errors["get_patient_thread"] = RemoteError("No such patient thread.", kind="not_found")
    answer = client.get(T, headers=bearer)
    assert answer.status_code == 404 and answer.json()["detail"] == "No such patient thread."


def test_a_message_carries_its_idempotency_key(
    client: TestClient, fake: FakeNotifications, bearer: dict[str, str]
) -> None:
    headers = {**bearer, "Idempotency-Key": "m-7"}
    sent = client.post(f"{T}/messages", json={"body": "Hello"}, headers=headers)
    assert sent.status_code == 201
    call = fake.last("send_patient_message").kwargs
    assert call["idempotency_key"] == "m-7" and call["payload"] == {"body": "Hello"}
    empty = client.post(f"{T}/messages", json={"body": ""}, headers=bearer)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body.body"


# ----------------------------------------------------------------- the patient's side


def test_patient_opens_verifies_reads_and_replies_with_the_cookie(
    client: TestClient, fake: FakeNotifications
) -> None:
    opened = client.get(f"/api/v1/patient/{TOKEN}")
    assert opened.status_code == 200 and opened.json()["office_name"] == "Lakeside Oral Surgery"
    assert opened.headers["cache-control"] == "no-store"
    assert fake.last("open_patient_link").kwargs == {"token": TOKEN, "client_ip": "testclient"}

    verified = client.post(f"/api/v1/patient/{TOKEN}/verify", json={"date_of_birth": "1988-04-12"})
    assert verified.status_code == 200, verified.text
    assert SESSION not in verified.text  # the token stays in the cookie
    contract.PatientSessionStarted.model_validate(verified.json())
    cookie = verified.headers["set-cookie"]
    assert cookie.startswith(f"bw_patient={SESSION};")
    for flag in ("HttpOnly", "Path=/api/v1/patient", "SameSite=strict", "Secure"):
        assert flag.lower() in cookie.lower(), flag
    max_age = int(cookie.lower().split("max-age=")[1].split(";")[0])
    assert 1700 <= max_age <= 1800
    assert fake.last("verify_patient").kwargs["payload"] == {"date_of_birth": "1988-04-12"}

    view = client.get("/api/v1/patient/thread")
    assert view.status_code == 200
    contract.PatientThreadView.model_validate(view.json())
    assert fake.last("get_patient_view").kwargs["session_token"] == SESSION

    reply = client.post(
        "/api/v1/patient/thread/messages",
        json={"body": "Thanks!"},
        headers={"Idempotency-Key": "r1"},
    )
    assert reply.status_code == 201
    call = fake.last("post_patient_reply").kwargs
    assert (call["session_token"], call["idempotency_key"]) == (SESSION, "r1")
    assert call["payload"] == {"body": "Thanks!"}


def test_patient_logout_ends_the_session_and_clears_the_cookie(
    client: TestClient, fake: FakeNotifications
) -> None:
    client.post(f"/api/v1/patient/{TOKEN}/verify", json={"date_of_birth": "1988-04-12"})
    out = client.post("/api/v1/patient/logout")
    assert out.status_code == 204
    assert fake.last("end_patient_session").kwargs == {
        "session_token": SESSION,
        "client_ip": "testclient",
    }
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith('bw_patient="";') and "max-age=0" in cleared
    assert "path=/api/v1/patient" in cleared
    # Without a session there is nothing to end, and still a 204.
    calls = len(fake.calls)
    assert client.post("/api/v1/patient/logout").status_code == 204
    assert len(fake.calls) == calls


def test_patient_endpoints_without_a_session_are_401(
    client: TestClient, fake: FakeNotifications
) -> None:
    assert client.get("/api/v1/patient/thread").status_code == 401
    assert client.post("/api/v1/patient/thread/messages", json={"body": "x"}).status_code == 401
    assert [c.method for c in fake.calls] == []
    fake.errors["get_patient_view"] = RemoteError("Your session has ended.", kind="unauthenticated")
    client.cookies.set("bw_patient", SESSION, domain="testserver", path="/api/v1/patient")
    assert client.get("/api/v1/patient/thread").status_code == 401


def test_wrong_date_of_birth_and_rate_limit_reach_the_patient(
    client: TestClient, fake: FakeNotifications
) -> None:
    fake.errors["verify_patient"] = RemoteError(
        "Check these fields: date_of_birth.",
        kind="invalid",
        details=[{"field": "date_of_birth", "message": "That date of birth does not match."}],
    )
    wrong = client.post(f"/api/v1/patient/{TOKEN}/verify", json={"date_of_birth": "1990-01-01"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "date_of_birth"
    assert "set-cookie" not in wrong.headers

    fake.errors["verify_patient"] = RemoteError(
        "Too many tries.", kind="rate_limited", details={"retry_after": 842}
    )
    limited = client.post(f"/api/v1/patient/{TOKEN}/verify", json={"date_of_birth": "1988-04-12"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "842"

    fake.errors["open_patient_link"] = RemoteError("This link has expired.", kind="gone")
    assert client.get(f"/api/v1/patient/{TOKEN}").status_code == 410
    # A token that cannot be one is refused here, without a call.
    calls = len(fake.calls)
    assert client.get("/api/v1/patient/short").status_code == 422
    assert len(fake.calls) == calls


def test_the_patient_page_is_served_with_protective_headers(client: TestClient) -> None:
    page = client.get(f"/p/{TOKEN}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="en">' in html and 'for="dob"' in html and 'for="body"' in html
    assert "http://" not in html and "https://" not in html  # no CDN: everything from here
    for asset in ("/patient/patient.js", "/patient/patient.css"):
        assert asset in html
        served = client.get(asset)
        assert served.status_code == 200 and "https://" not in served.text
    assert "innerHTML" not in client.get("/patient/patient.js").text
