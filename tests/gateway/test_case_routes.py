"""Every lab-case and planning endpoint: validated, forwarded to the cases README's RPC method
with its keyword arguments, answered in the contract's shape; the PDF and calendar files with
their headers; the public calendar feed without sign-in and without its token in any log."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.contracts.cases import ARCHIVE_NOTE, CaseListQuery
from shared.errors import RemoteError
from tests.gateway.case_fakes import ICS, PDF, SIGNATURES, FakeCases, default_answers
from tests.gateway.conftest import make_app
from tests.gateway.fakes import SigningKey, Subject
from tests.gateway.file_fakes import FakeFiles, ServerThread, TransferPort
from tests.gateway.test_file_routes import files_app

ID = str(uuid.uuid4())
SLOT = str(uuid.uuid4())
LAB = str(uuid.uuid4())
C = f"/api/v1/cases/{ID}"
TOKEN = "Zq3b0f9mI0rQ2eF9l3F1xw8cNnq7Z3qzVq3b0f9mI0r"  # a made-up feed token
NEW = {
    "lab_office_id": LAB,
    "patient_name": "Maya Chen",
    "description": "Surgical guide",
    "teeth": ["19", "30", "31"],
}
RULES = {"rules": [{"stage": "manufacturing", "min_days": 2, "max_days": 5}]}
NEGATIVE_RULE = {"rules": [{"stage": "finished", "min_days": -1, "max_days": 1}]}
WINDOW = f"lab={LAB}&from=2026-12-01T00:00:00Z&to=2026-12-08T00:00:00Z"
NEW_SLOT = {
    "start": "2026-12-03T14:00:00",
    "end": "2026-12-03T14:45:00",
    "time_zone": "America/Toronto",
}

# (HTTP method, path, JSON body, expected status, RPC method)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
    ("POST", "/api/v1/cases", NEW, 201, "create_case"),
    ("GET", "/api/v1/cases", None, 200, "list_cases"),
    ("GET", C, None, 200, "get_case"),
    ("PATCH", C, {"description": "Guide for 19 only"}, 200, "edit_case"),
    ("GET", f"{C}/edit-preview", None, 200, "preview_edit"),
    ("POST", f"{C}/stage", {"stage": "received"}, 200, "change_stage"),
    ("PUT", f"{C}/archive", None, 200, "archive_case"),
    ("DELETE", f"{C}/archive", None, 200, "unarchive_case"),
    ("GET", f"{C}/rx.pdf", None, 200, "render_rx"),
    ("GET", "/api/v1/lab/turnaround", None, 200, "get_turnaround"),
    ("PUT", "/api/v1/lab/turnaround", RULES, 200, "set_turnaround"),
    ("GET", f"/api/v1/planning/slots?{WINDOW}", None, 200, "list_slots"),
    ("POST", "/api/v1/planning/slots", NEW_SLOT, 201, "publish_slots"),
    ("DELETE", f"/api/v1/planning/slots/{SLOT}", None, 204, "delete_slot"),
    ("POST", f"{C}/booking", {"slot_id": SLOT}, 201, "book_slot"),
    ("GET", f"{C}/booking", None, 200, "get_booking"),
    ("PUT", f"{C}/booking", {"slot_id": SLOT}, 200, "reschedule_booking"),
    ("DELETE", f"{C}/booking", None, 200, "cancel_booking"),
    ("POST", f"{C}/booking/no-show", None, 200, "mark_no_show"),
    ("GET", f"{C}/booking.ics", None, 200, "render_booking_ics"),
    ("POST", "/api/v1/calendar-feed", None, 201, "create_calendar_feed"),
    ("GET", "/api/v1/calendar-feed", None, 200, "get_calendar_feed"),
    ("DELETE", "/api/v1/calendar-feed", None, 204, "revoke_calendar_feed"),
    ("GET", f"{C}/notes", None, 200, "list_notes"),
    ("POST", f"{C}/notes", {"body": "Scan again?"}, 201, "add_note"),
    ("POST", f"{C}/notes/read", None, 204, "mark_notes_read"),
]  # fmt: skip
CASE_FILES = [("GET", f"{C}/files", None, 200, "list_files")]


@pytest.fixture
def fake(subject: Subject) -> FakeCases:  # type: ignore[override]
    return FakeCases(default_answers(subject.office_id))


@pytest.fixture
def app(fake: FakeCases, key: SigningKey) -> FastAPI:
    return make_app(fake, key)  # type: ignore[arg-type]


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


def _ids(endpoints: list[tuple[str, str, Any, int, str]]) -> list[str]:
    return [f"{e[0]} {e[1].replace(ID, '{id}').split('?')[0]}" for e in endpoints]


# ----------------------------------------------------------------- every endpoint


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "rpc"),
    ENDPOINTS + CASE_FILES,
    ids=_ids(ENDPOINTS + CASE_FILES),
)
def test_each_endpoint_calls_its_rpc_with_the_readme_arguments(
    client: TestClient,
    fake: FakeCases,
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
    assert call.kwargs["caller"]["user_id"] == str(subject.user_id)
    if ID in path:
        assert ID in call.kwargs.values()
    if status == 204:
        assert answer.content == b""


def test_the_readme_has_every_method_the_gateway_calls() -> None:
    for _, _, _, _, rpc in ENDPOINTS:
        assert rpc in SIGNATURES, rpc
    assert "render_calendar_feed" in SIGNATURES


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [(m, p, b) for m, p, b, _, _ in ENDPOINTS + CASE_FILES] + [("POST", f"{C}/files", None)],
)
def test_every_endpoint_but_the_feed_needs_a_signed_in_caller(
    client: TestClient, fake: FakeCases, method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = client.request(method, path, json=body)
    assert answer.status_code == 401, answer.text
    assert "www-authenticate" in answer.headers
    assert fake.calls == []


# ----------------------------------------------------------------- 404 for a foreign id

WITH_AN_ID = [e for e in ENDPOINTS + CASE_FILES if ID in e[1] or SLOT in e[1]]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "rpc"), WITH_AN_ID, ids=_ids(WITH_AN_ID)
)
def test_a_foreign_id_is_the_services_404_on_every_endpoint(
    client: TestClient,
    fake: FakeCases,
    bearer: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    rpc: str,
) -> None:
    fake.errors[rpc] = RemoteError("no such case", kind="not_found")
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == "no such case"
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert fake.methods() == [rpc]


def test_every_endpoint_taking_an_id_is_in_the_404_table() -> None:
    templates = {re.sub(r"\{\w+\}", "{}", p) for p in _paths_with_ids()}
    covered = {re.sub(f"{ID}|{SLOT}", "{}", p) for _, p, _, _, _ in WITH_AN_ID}
    assert templates and templates <= covered, templates - covered


def _paths_with_ids() -> list[str]:
    app = make_app(FakeCases({}), None)  # type: ignore[arg-type]
    return [
        path
        for path in app.openapi()["paths"]
        if re.match(r"/api/v1/(cases|planning)/", path) and "{" in path
    ]


# ----------------------------------------------------------------- creating and editing


def test_create_passes_payload_and_idempotency_key_and_answers_with_location(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    body = {**NEW, "notation": "universal", "due_date": "2026-12-18"}
    answer = client.post("/api/v1/cases", json=body, headers={**bearer, "Idempotency-Key": "c-1"})
    assert answer.status_code == 201, answer.text
    call = fake.last("create_case").kwargs
    assert call["idempotency_key"] == "c-1"
    assert call["payload"] == {**body, "lab_office_id": LAB}
    created = answer.json()
    assert answer.headers["location"] == f"/api/v1/cases/{created['case']['id']}"
    assert created["confirmation"].startswith("Case C-2026-00042")
    assert created["rx_pdf_path"].endswith("/rx.pdf")
    assert fake.timeouts[-1] is not None and fake.timeouts[-1] >= 30  # the RX script is made

    again = client.post("/api/v1/cases", json=NEW, headers=bearer)
    assert again.status_code == 201
    assert fake.last("create_case").kwargs["idempotency_key"] is None


def test_an_idempotency_key_longer_than_200_is_refused(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/cases", json=NEW, headers={**bearer, "Idempotency-Key": "k" * 201}
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["header.Idempotency-Key"]
    assert fake.calls == []


def test_publishing_slots_passes_the_idempotency_key(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    body = {**NEW_SLOT, "mode": "remote_control", "join_details": "ID 123", "repeat_weeks": 4}
    answer = client.post(
        "/api/v1/planning/slots", json=body, headers={**bearer, "Idempotency-Key": "slots-7"}
    )
    assert answer.status_code == 201, answer.text
    assert len(answer.json()) == 2
    call = fake.last("publish_slots").kwargs
    assert call["idempotency_key"] == "slots-7"
    assert call["payload"]["repeat_weeks"] == 4 and call["payload"]["mode"] == "remote_control"
    assert call["payload"]["start"] == "2026-12-03T14:00:00"  # local wall time, as sent


# ----------------------------------------------------------------- notes


def test_notes_are_listed_written_with_a_key_and_marked_read(
    client: TestClient, fake: FakeCases, bearer: dict[str, str], subject: Subject
) -> None:
    listed = client.get(f"{C}/notes", headers=bearer)
    assert listed.status_code == 200, listed.text
    assert [n["new"] for n in listed.json()] == [False, True]
    headers = {**bearer, "Idempotency-Key": "note-7"}
    written = client.post(f"{C}/notes", json={"body": " Scan again? "}, headers=headers)
    assert written.status_code == 201, written.text
    assert written.json()["office_id"] == str(subject.office_id)
    call = fake.last("add_note").kwargs
    assert call["idempotency_key"] == "note-7" and call["case_id"] == ID
    assert call["payload"] == {"body": "Scan again?"}
    client.post(f"{C}/notes", json={"body": "Hi"}, headers=bearer)
    assert fake.last("add_note").kwargs["idempotency_key"] is None
    read = client.post(f"{C}/notes/read", headers=bearer)
    assert read.status_code == 204 and fake.last("mark_notes_read").kwargs["case_id"] == ID


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "x" * 10001}, {}, {"body": "hi", "x": 1}])
def test_a_bad_note_names_the_field_and_reaches_no_service(
    client: TestClient, fake: FakeCases, bearer: dict[str, str], body: dict[str, Any]
) -> None:
    answer = client.post(f"{C}/notes", json=body, headers=bearer)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields & {"body.body", "body.x"}, fields
    assert fake.calls == []


def test_a_note_on_a_shipped_case_is_the_services_409(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    details = {"stage": "shipped", "requested": "add_note"}
    fake.errors["add_note"] = RemoteError("The case is shipped.", kind="conflict", details=details)
    answer = client.post(f"{C}/notes", json={"body": "Late"}, headers=bearer)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "The case is shipped."


def test_an_edit_sends_only_what_changes(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.patch(C, json={"teeth": ["16"], "notation": "fdi"}, headers=bearer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stage"] == "processing"
    payload = fake.last("edit_case").kwargs["payload"]
    assert payload["teeth"] == ["16"] and payload["notation"] == "fdi"
    assert payload["description"] is None  # kept by the service


def test_the_edit_preview_is_the_services_ship_estimate(
    client: TestClient, bearer: dict[str, str]
) -> None:
    answer = client.get(f"{C}/edit-preview", headers=bearer)
    assert answer.json() == {"earliest": "2026-11-12", "latest": "2026-11-20"}


def test_shipping_carries_carrier_and_tracking(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    body = {
        "stage": "shipped",
        "carrier": "UPS",
        "tracking_number": "1Z999AA1",
        "tracking_url": "https://ups.example/1Z999AA1",
    }
    assert client.post(f"{C}/stage", json=body, headers=bearer).status_code == 200
    assert fake.last("change_stage").kwargs["payload"] == {**body, "reason": None}


def test_cancelling_a_booking_takes_an_optional_reason(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    plain = client.delete(f"{C}/booking", headers=bearer)
    assert plain.status_code == 200, plain.text
    assert plain.json()["stage"] == "ready_to_plan"
    assert fake.last("cancel_booking").kwargs["payload"] == {"reason": None}
    reason = client.request(
        "DELETE", f"{C}/booking", json={"reason": "Planner ill"}, headers=bearer
    )
    assert reason.status_code == 200
    assert fake.last("cancel_booking").kwargs["payload"] == {"reason": "Planner ill"}


# ----------------------------------------------------------------- the list


def test_list_query_parameters_reach_the_case_list_query(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    params: list[tuple[str, str]] = [
        ("side", "lab"),
        ("archived", "only"),
        ("stage", "received"),
        ("stage", "ready_to_plan"),
        ("colour", "red"),
        ("colour", "yellow"),
        ("q", "  C-2026 "),
        ("sort", "-ship_date"),
        ("page", "3"),
        ("page_size", "50"),
    ]
    answer = client.get("/api/v1/cases", params=params, headers=bearer)
    assert answer.status_code == 200, answer.text
    query = fake.last("list_cases").kwargs["query"]
    assert query == CaseListQuery.model_validate(query).model_dump(mode="json")
    assert query == {
        "side": "lab",
        "archived": "only",
        "stage": ["received", "ready_to_plan"],
        "colour": ["red", "yellow"],
        "q": "C-2026",
        "sort": "-ship_date",
        "page": 3,
        "page_size": 50,
    }


def test_list_defaults_are_the_main_list_by_attention(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    assert client.get("/api/v1/cases", headers=bearer).status_code == 200
    query = fake.last("list_cases").kwargs["query"]
    assert (query["side"], query["archived"], query["sort"]) == (None, "exclude", "attention")
    assert (query["stage"], query["colour"], query["page"], query["page_size"]) == ([], [], 1, 25)


def test_list_query_errors_name_every_field(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.get(
        "/api/v1/cases?side=middle&archived=maybe&stage=lost&colour=blue&page=0&page_size=500"
        "&stages=received",
        headers=bearer,
    )
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"query.side", "query.archived", "query.page", "query.page_size"} <= fields
    assert {"query.stages"} <= fields  # a misspelt filter is named, not ignored
    assert any(f.startswith("query.stage.") for f in fields)
    assert any(f.startswith("query.colour") for f in fields)
    assert fake.calls == []


def test_an_unknown_sort_is_the_services_invalid_naming_sort(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    details = [{"field": "query.sort", "message": "not a column"}]
    fake.errors["list_cases"] = RemoteError("invalid sort", kind="invalid", details=details)
    answer = client.get("/api/v1/cases?sort=colour_of_the_sky", headers=bearer)
    assert answer.status_code == 422
    assert answer.json()["errors"] == details


# ----------------------------------------------------------------- slots


def test_slots_window_and_zone_become_the_slot_query(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.get(f"/api/v1/planning/slots?{WINDOW}&tz=Europe/Berlin", headers=bearer)
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["time_zone"] == "Europe/Berlin"
    query = fake.last("list_slots").kwargs["query"]
    assert query == {
        "lab_office_id": LAB,
        "start": "2026-12-01T00:00:00Z",
        "end": "2026-12-08T00:00:00Z",
        "time_zone": "Europe/Berlin",
    }
    client.get(f"/api/v1/planning/slots?{WINDOW}", headers=bearer)
    assert fake.last("list_slots").kwargs["query"]["time_zone"] is None  # the office's zone


def test_slots_need_lab_from_and_to(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.get("/api/v1/planning/slots?lab=acme&from=monday", headers=bearer)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"query.lab", "query.from", "query.to"}
    assert fake.calls == []


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/cases", {**NEW, "lab_office_id": "acme"}, "body.lab_office_id"),
        ("POST", "/api/v1/cases", {**NEW, "patient_name": ""}, "body.patient_name"),
        ("POST", "/api/v1/cases", {**NEW, "description": ""}, "body.description"),
        ("POST", "/api/v1/cases", {**NEW, "teeth": "19"}, "body.teeth"),
        ("POST", "/api/v1/cases", {**NEW, "notation": "roman"}, "body.notation"),
        ("POST", "/api/v1/cases", {**NEW, "due_date": "soon"}, "body.due_date"),
        ("POST", "/api/v1/cases", {**NEW, "colour": "red"}, "body.colour"),
        ("PATCH", C, {"description": ""}, "body.description"),
        ("PATCH", C, {"stage": "shipped"}, "body.stage"),
        ("POST", f"{C}/stage", {"stage": "teleported"}, "body.stage"),
        ("POST", f"{C}/stage", {"stage": "shipped", "carrier": "U" * 101}, "body.carrier"),
        ("PUT", "/api/v1/lab/turnaround", NEGATIVE_RULE, "body.rules.0.min_days"),
        ("POST", "/api/v1/planning/slots", {**NEW_SLOT, "start": "at noon"}, "body.start"),
        ("POST", "/api/v1/planning/slots", {**NEW_SLOT, "repeat_weeks": 53}, "body.repeat_weeks"),
        ("POST", "/api/v1/planning/slots", {**NEW_SLOT, "mode": "fax"}, "body.mode"),
        ("POST", f"{C}/booking", {"slot_id": "the-first"}, "body.slot_id"),
        ("POST", f"{C}/booking", {}, "body.slot_id"),
        ("PUT", f"{C}/booking", {"slot_id": 7}, "body.slot_id"),
        ("DELETE", f"{C}/booking", {"reason": "x" * 2001}, "body.reason"),
    ],
)  # fmt: skip
def test_a_bad_body_is_a_422_naming_the_field(
    client: TestClient,
    fake: FakeCases,
    bearer: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    answer = client.request(method, path, json=body, headers=bearer)
    assert answer.status_code == 422, answer.text
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert fake.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/cases/not-a-uuid"),
        ("PATCH", "/api/v1/cases/12"),
        ("GET", "/api/v1/cases/x/edit-preview"),
        ("POST", "/api/v1/cases/x/stage"),
        ("PUT", "/api/v1/cases/x/archive"),
        ("DELETE", "/api/v1/cases/x/archive"),
        ("GET", "/api/v1/cases/x/rx.pdf"),
        ("POST", "/api/v1/cases/x/booking"),
        ("GET", "/api/v1/cases/x/booking"),
        ("PUT", "/api/v1/cases/x/booking"),
        ("DELETE", "/api/v1/cases/x/booking"),
        ("POST", "/api/v1/cases/x/booking/no-show"),
        ("GET", "/api/v1/cases/x/booking.ics"),
        ("GET", "/api/v1/cases/x/files"),
        ("DELETE", "/api/v1/planning/slots/x"),
    ],
)
def test_a_bad_id_is_a_422_naming_it(
    client: TestClient, fake: FakeCases, bearer: dict[str, str], method: str, path: str
) -> None:
    body = {"stage": "received"} if path.endswith("/stage") else None
    if method in ("POST", "PUT") and path.endswith("/booking"):
        body = {"slot_id": SLOT}
    answer = client.request(
        method, path, json=body or ({} if method == "PATCH" else None), headers=bearer
    )
    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert fields in (["path.case_id"], ["path.slot_id"]), fields
    assert fake.calls == []


@pytest.mark.parametrize(
    ("kind", "status"),
    [("conflict", 409), ("forbidden", 403), ("invalid", 422), ("unavailable", 503)],
)
def test_service_errors_map_to_http(
    client: TestClient, fake: FakeCases, bearer: dict[str, str], kind: str, status: int
) -> None:
    fake.errors["book_slot"] = RemoteError("the slot was taken", kind=kind)
    answer = client.post(f"{C}/booking", json={"slot_id": SLOT}, headers=bearer)
    assert answer.status_code == status
    assert answer.json()["detail"] == "the slot was taken"


def test_the_client_changing_a_booking_gets_the_services_409(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    fake.errors["reschedule_booking"] = RemoteError(
        "a booking is changed by the lab: contact the lab", kind="conflict"
    )
    answer = client.put(f"{C}/booking", json={"slot_id": SLOT}, headers=bearer)
    assert answer.status_code == 409
    assert "contact the lab" in answer.json()["detail"]


# ----------------------------------------------------------------- files: PDF and calendars


def test_the_rx_script_is_the_decoded_pdf_inline_and_not_cached(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    answer = client.get(f"{C}/rx.pdf", headers=bearer)
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'inline; filename="C-2026-00042-rx.pdf"'
    assert answer.headers["cache-control"] == "no-store"
    assert fake.timeouts[-1] is not None and fake.timeouts[-1] >= 30


def test_an_odd_filename_never_reaches_a_header(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    fake.answers["render_rx"] = lambda: {"filename": 'x"; evil=1.pdf', "content_base64": ""}
    answer = client.get(f"{C}/rx.pdf", headers=bearer)
    assert answer.headers["content-disposition"] == 'inline; filename="rx.pdf"'
    fake.answers["render_booking_ics"] = lambda: {"filename": "a\r\nSet-Cookie: x", "content": ICS}
    answer = client.get(f"{C}/booking.ics", headers=bearer)
    assert answer.headers["content-disposition"] == 'attachment; filename="planning.ics"'
    assert "set-cookie" not in answer.headers


def test_the_booking_calendar_is_an_attachment_of_type_text_calendar(
    client: TestClient, bearer: dict[str, str]
) -> None:
    answer = client.get(f"{C}/booking.ics", headers=bearer)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="C-2026-00042-planning.ics"'
    )
    assert answer.text == ICS


def test_the_public_feed_needs_no_sign_in_and_is_never_cached(
    client: TestClient, fake: FakeCases
) -> None:
    answer = client.get(f"/api/v1/calendar/{TOKEN}.ics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.text == ICS
    assert fake.last("render_calendar_feed").kwargs == {"token": TOKEN}


def test_an_unknown_or_revoked_feed_is_a_404(client: TestClient, fake: FakeCases) -> None:
    fake.errors["render_calendar_feed"] = RemoteError("no such calendar", kind="not_found")
    assert client.get(f"/api/v1/calendar/{TOKEN}.ics").status_code == 404
    calls = len(fake.calls)
    for odd in ("short", "a" * 200, "semi;colon" + "x" * 20, "%00" + "x" * 30):
        assert client.get(f"/api/v1/calendar/{odd}.ics").status_code == 404
    assert len(fake.calls) == calls  # a token that cannot exist never reaches the service


def test_the_feed_token_reaches_no_log(
    client: TestClient, fake: FakeCases, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get(f"/api/v1/calendar/{TOKEN}.ics")
    fake.errors["render_calendar_feed"] = RemoteError("no such calendar", kind="not_found")
    client.get(f"/api/v1/calendar/{TOKEN}.ics")
    fake.errors["render_calendar_feed"] = RemoteError("boom", kind="broken")
    assert client.get(f"/api/v1/calendar/{TOKEN}.ics").status_code == 500
    access = [r for r in caplog.records if r.name == "gateway.access"]
    assert len(access) == 3  # every request was logged, by its route template
    assert all("/api/v1/calendar/{token}.ics" in r.getMessage() for r in access)
    # The test's own HTTP client (httpx) logs the URL it asked for; the gateway logs nothing
    # of it.
    gateway = [r for r in caplog.records if r.name != "httpx"]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in gateway)
    assert TOKEN not in logged


def test_creating_the_feed_shows_the_url_once(
    client: TestClient, fake: FakeCases, bearer: dict[str, str]
) -> None:
    created = client.post("/api/v1/calendar-feed", headers=bearer)
    assert created.status_code == 201
    assert created.json()["url"].endswith(".ics")
    shown = client.get("/api/v1/calendar-feed", headers=bearer)
    assert shown.status_code == 200 and shown.json()["url"] is None


# ----------------------------------------------------------------- case files


@pytest.fixture
def files_gateway(subject: Subject, key: SigningKey) -> Iterator[tuple[FakeFiles, TestClient]]:
    transfer = TransferPort()
    with ServerThread(transfer.app) as server:
        files = FakeFiles(transfer, server.url, subject.office_id)
        app = files_app(files, key)
        client = TestClient(app, base_url="https://testserver")  # no lifespan: no broker
        yield files, client
        client.close()


def test_case_files_upload_as_a_case(
    files_gateway: tuple[FakeFiles, TestClient], bearer: dict[str, str]
) -> None:
    files, client = files_gateway
    answer = client.post(
        f"{C}/files", files={"file": ("ct.dcm", b"DICM" * 100, "application/dicom")}, headers=bearer
    )
    assert answer.status_code == 201, answer.text
    assert files.methods() == ["begin_upload"]
    payload = files.last("begin_upload").kwargs["payload"]
    assert (payload["owner_type"], payload["owner_id"]) == ("case", ID)
    assert payload["filename"] == "ct.dcm"

    listed = client.get(f"{C}/files", headers=bearer)
    assert listed.status_code == 200 and listed.json() == {"ours": [], "theirs": []}
    kwargs = files.last("list_files").kwargs
    assert (kwargs["owner_type"], kwargs["owner_id"]) == ("case", ID)

    files.errors["begin_upload"] = RemoteError("no such case", kind="not_found")
    foreign = client.post(f"{C}/files", files={"file": ("a.stl", b"solid x")}, headers=bearer)
    assert foreign.status_code == 404


# ----------------------------------------------------------------- OpenAPI


def test_openapi_documents_every_route_with_examples_errors_and_the_archive_note(
    app: FastAPI,
) -> None:
    schema = app.openapi()
    paths, components = schema["paths"], schema["components"]["schemas"]
    templates = {re.sub(r"\{\w+\}", "[^/]+", p): p for p in paths}
    for method, path, _, _, _ in ENDPOINTS + CASE_FILES:
        bare = path.split("?")[0]
        [template] = [t for regex, t in templates.items() if re.fullmatch(regex, bare)]
        operation = paths[template][method.lower()]
        assert operation.get("summary"), (method, path)
        assert any(code.startswith("4") for code in operation["responses"]), (method, path)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert body.get("examples"), (method, path)
        if "{case_id}" in template or "{slot_id}" in template:
            assert "404" in operation["responses"], (method, template)
    for model in ("CaseIn", "CaseDetail", "CasePage", "StageChangeIn", "SlotIn", "BookingOut"):
        assert model in components, model
    archive = paths["/api/v1/cases/{case_id}/archive"]
    assert ARCHIVE_NOTE in archive["put"]["description"]
    assert ARCHIVE_NOTE in archive["delete"]["description"]
    assert ARCHIVE_NOTE in paths["/api/v1/cases"]["get"]["description"]
    created = paths["/api/v1/cases"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    listing = {p["name"] for p in paths["/api/v1/cases"]["get"]["parameters"]}
    assert listing >= set(CaseListQuery.model_fields)
    rx = paths["/api/v1/cases/{case_id}/rx.pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in rx["content"]
    ics = paths["/api/v1/cases/{case_id}/booking.ics"]["get"]["responses"]["200"]
    assert "text/calendar" in ics["content"]
    feed = paths["/api/v1/calendar/{token}.ics"]["get"]
    assert "security" not in feed and "401" not in feed["responses"]
    slots = {p["name"] for p in paths["/api/v1/planning/slots"]["get"]["parameters"]}
    assert slots == {"lab", "from", "to", "tz"}
