"""Every referrals and procedures endpoint: validated, forwarded to the README's RPC method with
its keyword arguments, answered in the contract's shape."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.contracts.referrals import TEETH_IN_NOTES_WARNING, ListQuery
from shared.errors import RemoteError
from tests.gateway.conftest import make_app
from tests.gateway.fakes import SigningKey, Subject
from tests.gateway.referral_fakes import PDF, SIGNATURES, FakeReferrals, default_answers

ID = str(uuid.uuid4())
R = f"/api/v1/referrals/{ID}"
SEND = {"receiver_office_id": str(uuid.uuid4()), "patient": {"first_name": "Maya"}}

# (HTTP method, path, JSON body, expected status, RPC method)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
    ("POST", "/api/v1/referrals", SEND, 201, "create_referral"),
    ("GET", "/api/v1/referrals?box=sent", None, 200, "list_referrals"),
    ("GET", "/api/v1/referrals/dashboard", None, 200, "get_dashboard"),
    ("GET", R, None, 200, "get_referral"),
    ("PATCH", R, {"urgency": "soon"}, 200, "update_draft"),
    ("POST", f"{R}/send", None, 200, "send_draft"),
    ("DELETE", R, None, 204, "delete_draft"),
    ("POST", f"{R}/stage", {"stage": "accepted"}, 200, "change_stage"),
    ("GET", f"{R}/notes", None, 200, "list_notes"),
    ("POST", f"{R}/notes", {"body": "Tuesday?"}, 201, "add_note"),
    ("POST", f"{R}/notes/read", None, 204, "mark_notes_read"),
    ("GET", f"{R}/pdf", None, 200, "render_pdf"),
    ("GET", f"/api/v1/offices/{ID}/procedures", None, 200, "list_procedures"),
    ("GET", "/api/v1/office/procedures", None, 200, "list_procedures"),
    ("POST", "/api/v1/office/procedures", {"name": "Implant"}, 201, "add_procedure"),
    ("DELETE", f"/api/v1/office/procedures/{ID}", None, 204, "remove_procedure"),
]  # fmt: skip


@pytest.fixture
def fake(subject: Subject) -> FakeReferrals:  # type: ignore[override]
    return FakeReferrals(default_answers(subject.office_id))


@pytest.fixture
def app(fake: FakeReferrals, key: SigningKey) -> FastAPI:
    return make_app(fake, key)  # type: ignore[arg-type]


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "rpc"),
    ENDPOINTS,
    ids=[f"{e[0]} {e[1].replace(ID, '{id}')}" for e in ENDPOINTS],
)
def test_each_endpoint_calls_its_rpc_with_the_readme_arguments(
    client: TestClient,
    fake: FakeReferrals,
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
    assert call.kwargs["caller"]["office_id"] == str(subject.office_id)
    if ID in path:
        assert ID in call.kwargs.values()
    if status == 204:
        assert answer.content == b""


def test_the_fake_knows_every_method_the_gateway_calls() -> None:
    for _, _, _, _, rpc in ENDPOINTS:
        assert rpc in SIGNATURES


def test_every_endpoint_needs_a_signed_in_caller(client: TestClient, fake: FakeReferrals) -> None:
    for method, path, body, _, _ in ENDPOINTS:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 401, (method, path)
    assert fake.calls == []


def test_own_procedures_use_the_callers_office(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str], subject: Subject
) -> None:
    assert client.get("/api/v1/office/procedures", headers=bearer).status_code == 200
    assert fake.last("list_procedures").kwargs["office_id"] == str(subject.office_id)


def test_create_sends_the_payload_draft_flag_and_idempotency_key(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    body = {**SEND, "teeth": ["3"], "notation": "universal", "urgency": "urgent"}
    sent = client.post("/api/v1/referrals", json=body, headers={**bearer, "Idempotency-Key": "k-1"})
    assert sent.status_code == 201, sent.text
    call = fake.last("create_referral").kwargs
    assert call["idempotency_key"] == "k-1" and call["draft"] is False
    assert call["payload"]["teeth"] == ["3"] and call["payload"]["urgency"] == "urgent"
    assert call["payload"]["receiver_office_id"] == SEND["receiver_office_id"]

    draft = client.post("/api/v1/referrals?draft=true", json={}, headers=bearer)
    assert draft.status_code == 201, draft.text
    call = fake.last("create_referral").kwargs
    assert call["draft"] is True and call["idempotency_key"] is None


def test_a_note_carries_its_idempotency_key(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    headers = {**bearer, "Idempotency-Key": "note-7"}
    assert client.post(f"{R}/notes", json={"body": "Hi"}, headers=headers).status_code == 201
    assert fake.last("add_note").kwargs["idempotency_key"] == "note-7"


def test_a_draft_update_sends_the_whole_draft(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    answer = client.patch(R, json={"teeth": ["16"], "notation": "fdi"}, headers=bearer)
    assert answer.status_code == 200, answer.text
    payload = fake.last("update_draft").kwargs["payload"]
    assert (payload["teeth"], payload["notation"], payload["urgency"]) == (["16"], "fdi", "routine")


def test_list_query_parameters_reach_list_query(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    office, procedure = str(uuid.uuid4()), str(uuid.uuid4())
    params: list[tuple[str, str]] = [
        ("box", "received"),
        ("stage", "sent"),
        ("stage", "accepted"),
        ("other_office_id", office),
        ("procedure_id", procedure),
        ("sent_from", "2026-10-01"),
        ("sent_to", "2026-10-31"),
        ("q", "  chen "),
        ("sort", "patient_name"),
        ("page", "3"),
        ("page_size", "50"),
    ]
    answer = client.get("/api/v1/referrals", params=params, headers=bearer)
    assert answer.status_code == 200, answer.text
    query = fake.last("list_referrals").kwargs["query"]
    assert query == ListQuery.model_validate(query).model_dump(mode="json")
    assert query == {
        "box": "received",
        "stage": ["sent", "accepted"],
        "other_office_id": office,
        "procedure_id": procedure,
        "sent_from": "2026-10-01",
        "sent_to": "2026-10-31",
        "q": "chen",
        "sort": "patient_name",
        "page": 3,
        "page_size": 50,
    }


def test_list_defaults(client: TestClient, fake: FakeReferrals, bearer: dict[str, str]) -> None:
    assert client.get("/api/v1/referrals?box=sent", headers=bearer).status_code == 200
    query = fake.last("list_referrals").kwargs["query"]
    assert query["stage"] == [] and query["sort"] == "-sent_at"
    assert (query["page"], query["page_size"]) == (1, 25)


def test_list_query_errors_name_every_field(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    answer = client.get(
        "/api/v1/referrals?stage=lost&page=0&page_size=500&sent_from=yesterday", headers=bearer
    )
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"query.box", "query.page", "query.page_size", "query.sent_from"} <= fields
    assert any(f.startswith("query.stage") for f in fields)
    assert fake.calls == []


def test_pdf_is_the_decoded_slip_inline_and_not_cached(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    answer = client.get(f"{R}/pdf", headers=bearer)
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'inline; filename="R-7K3F9Q.pdf"'
    assert answer.headers["cache-control"] == "no-store"
    assert fake.timeouts[-1] is not None and fake.timeouts[-1] >= 30  # rendering takes time


def test_pdf_filename_never_breaks_the_header(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    fake.answers["render_pdf"] = lambda: {"filename": 'x"; evil=1.pdf', "content_base64": ""}
    answer = client.get(f"{R}/pdf", headers=bearer)
    assert answer.headers["content-disposition"] == 'inline; filename="referral.pdf"'


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/referrals/not-a-uuid", None),
        ("PATCH", "/api/v1/referrals/12", {}),
        ("POST", "/api/v1/referrals/x/send", None),
        ("DELETE", "/api/v1/referrals/x", None),
        ("POST", "/api/v1/referrals/x/stage", {"stage": "accepted"}),
        ("GET", "/api/v1/referrals/x/notes", None),
        ("POST", "/api/v1/referrals/x/notes", {"body": "hi"}),
        ("POST", "/api/v1/referrals/x/notes/read", None),
        ("GET", "/api/v1/referrals/x/pdf", None),
        ("GET", "/api/v1/offices/x/procedures", None),
        ("DELETE", "/api/v1/office/procedures/x", None),
    ],
)
def test_a_bad_id_is_a_422_naming_it(
    client: TestClient,
    fake: FakeReferrals,
    bearer: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert len(fields) == 1 and re.fullmatch(r"path\.\w+_id", fields[0]), fields
    assert fake.calls == []


def test_a_bad_referral_names_every_field_at_once(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    body = {
        "receiver_office_id": "nope",
        "patient": {"date_of_birth": "12/04/1988", "sex": "robot", "nickname": "M"},
        "urgency": "yesterday",
        "teeth": "3",
        "surprise": True,
    }
    answer = client.post("/api/v1/referrals", json=body, headers=bearer)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields >= {
        "body.receiver_office_id",
        "body.patient.date_of_birth",
        "body.patient.sex",
        "body.patient.nickname",
        "body.urgency",
        "body.teeth",
        "body.surprise",
    }
    assert fake.calls == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"{R}/stage", {"stage": "teleported"}, "body.stage"),
        (f"{R}/stage", {"stage": "booked", "appointment_at": "soon"}, "body.appointment_at"),
        (f"{R}/notes", {"body": ""}, "body.body"),
        ("/api/v1/office/procedures", {"name": ""}, "body.name"),
    ],
)
def test_other_bad_bodies_name_the_field(
    client: TestClient,
    fake: FakeReferrals,
    bearer: dict[str, str],
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    answer = client.post(path, json=body, headers=bearer)
    assert answer.status_code == 422
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert fake.calls == []


@pytest.mark.parametrize(
    ("kind", "status"), [("not_found", 404), ("conflict", 409), ("invalid", 422)]
)
def test_service_errors_map_to_http(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str], kind: str, status: int
) -> None:
    details = [{"field": "body.patient.last_name", "message": "required to send"}]
    fake.errors["send_draft"] = RemoteError(
        "the referral is accepted", kind=kind, details=details if kind == "invalid" else None
    )
    answer = client.post(f"{R}/send", headers=bearer)
    assert answer.status_code == status
    assert answer.json()["detail"] == "the referral is accepted"
    if kind == "invalid":
        assert answer.json()["errors"] == details


def test_openapi_documents_the_contracts_examples_and_the_notes_warning(app: FastAPI) -> None:
    schema = app.openapi()
    paths, components = schema["paths"], schema["components"]["schemas"]
    templates = {re.sub(r"\{\w+\}", "[^/]+", p): p for p in paths}
    for method, path, _, _, _ in ENDPOINTS:
        bare = path.split("?")[0]
        matches = [t for regex, t in templates.items() if re.fullmatch(regex, bare)]
        template = bare if bare in paths else matches[0]
        assert len(matches) == 1 or bare in paths, (method, path, matches)
        operation = paths[template][method.lower()]
        assert operation.get("summary"), (method, path)
        assert any(code.startswith("4") for code in operation["responses"]), (method, path)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert body.get("examples"), (method, path)
        if "{referral_id}" in template:
            assert "404" in operation["responses"], (method, template)
    for model in ("ReferralIn", "ReferralDetail", "ReferralPage", "StageChange", "NoteOut"):
        assert model in components, model
    create = paths["/api/v1/referrals"]["post"]
    assert TEETH_IN_NOTES_WARNING in create["description"]
    assert (
        TEETH_IN_NOTES_WARNING in paths["/api/v1/referrals/{referral_id}"]["patch"]["description"]
    )
    assert (
        TEETH_IN_NOTES_WARNING
        in paths["/api/v1/referrals/{referral_id}/notes"]["post"]["description"]
    )
    assert components["ReferralIn"]["properties"]["case_notes"]["description"] == (
        TEETH_IN_NOTES_WARNING
    )
    listing = {p["name"] for p in paths["/api/v1/referrals"]["get"]["parameters"]}
    assert listing >= set(ListQuery.model_fields)
    pdf = paths["/api/v1/referrals/{referral_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_an_unknown_list_parameter_is_named_not_ignored(
    client: TestClient, fake: FakeReferrals, bearer: dict[str, str]
) -> None:
    # ListQuery forbids extra fields: a misspelt filter is an error, not a silently full list.
    answer = client.get("/api/v1/referrals?box=sent&stages=sent", headers=bearer)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.stages"]
    assert fake.calls == []
