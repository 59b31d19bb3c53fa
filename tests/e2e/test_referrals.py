"""Referrals end to end: every process started as `make run` starts it, driven over HTTP.

Offices with different notations (teeth arrive in each reader's notation),
the whole path from sent to closed with its timeline, drafts, notes with
each office's read state, procedure lists, the PDF slip read back with
pdftotext, idempotent creation under concurrent retries, and a third office
that gets 404 for the referral on every endpoint.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.accounts import Account, Platform, platform, unique_phone
from tests.support.infra import token
from tests.support.stack import running_stack

API = "/api/v1/referrals"


@pytest.fixture(scope="module")
def world() -> Iterator[Platform]:
    # Every office here logs in from 127.0.0.1; the per-IP limit has its own service test.
    with running_stack(LOGIN_RATE_LIMIT="10000") as stack, platform(stack) as started:
        yield started


# ----------------------------------------------------------------- helpers


def receiver(world: Platform, notation: str = "fdi") -> Account:
    """A specialist office that accepts referrals, in ``notation``."""
    admin = world.office(
        kind="specialist",
        specialty="Oral surgery",
        providers=("Dr. Amara Okafor",),
        notation=notation,
    )
    answer = admin.patch("/api/v1/office", json={"accepts_referrals": True})
    assert answer.status_code == 200, answer.text
    return admin


def provider_id(account: Account) -> str:
    providers = account.get("/api/v1/office/providers")
    assert providers.status_code == 200, providers.text
    return str(providers.json()[0]["id"])


def referral_body(sender: Account, to: Account, **fields: Any) -> dict[str, Any]:
    """A complete referral from ``sender`` to ``to``, with a patient nobody else has."""
    patient = {
        "first_name": "Maya",
        "last_name": f"Chen{token()}",
        "date_of_birth": "1988-04-12",
        "sex": "female",
        "phones": [unique_phone()],
        "preferred_contact": "text",
    }
    return {
        "receiver_office_id": to.office_id,
        "referring_provider_id": provider_id(sender),
        "patient": patient,
        "urgency": "soon",
        "teeth": ["3"],
        "notation": "universal",
        "case_notes": "Pain on 3 since March.",
        **fields,
    }


def send(sender: Account, to: Account, **fields: Any) -> dict[str, Any]:
    answer = sender.post(API, json=referral_body(sender, to, **fields))
    assert answer.status_code == 201, answer.text
    sent: dict[str, Any] = answer.json()
    assert sent["stage"] == "sent"
    return sent


def move(account: Account, referral_id: str, stage: str, **fields: Any) -> httpx.Response:
    return account.post(f"{API}/{referral_id}/stage", json={"stage": stage, **fields})


def moved(account: Account, referral_id: str, stage: str, **fields: Any) -> dict[str, Any]:
    answer = move(account, referral_id, stage, **fields)
    assert answer.status_code == 200, answer.text
    detail: dict[str, Any] = answer.json()
    assert detail["stage"] == stage
    return detail


def row(account: Account, box: str, referral: dict[str, Any]) -> dict[str, Any]:
    """The referral's row in ``account``'s box (found by its reference)."""
    listed = account.get(API, params={"box": box, "q": referral["reference"]})
    assert listed.status_code == 200, listed.text
    [found] = [r for r in listed.json()["items"] if r["id"] == referral["id"]]
    return dict(found)


@pytest.fixture(scope="module")
def sender(world: Platform) -> Account:
    return world.office(notation="universal", providers=("Dr. Ada Lovelace",))


@pytest.fixture(scope="module")
def fdi(world: Platform) -> Account:
    return receiver(world, "fdi")


# ----------------------------------------------------------------- teeth


def test_teeth_arrive_in_each_readers_notation(
    world: Platform, sender: Account, fdi: Account
) -> None:
    sent = send(sender, fdi, teeth=["3"])
    assert sent["teeth"] == [{"iso": "16", "label": "3"}] and sent["notation"] == "universal"
    assert sent["reference"].startswith("R-")

    seen = fdi.get(f"{API}/{sent['id']}")
    assert seen.status_code == 200, seen.text
    assert seen.json()["notation"] == "fdi"
    assert seen.json()["teeth"] == [{"iso": "16", "label": "16"}]
    # Typed in the notes, a tooth number stays as written.
    assert seen.json()["case_notes"] == "Pain on 3 since March."

    palmer = receiver(world, "palmer")
    to_palmer = send(sender, palmer, teeth=["3"])
    read = palmer.get(f"{API}/{to_palmer['id']}").json()
    assert read["notation"] == "palmer"
    assert read["teeth"] == [{"iso": "16", "label": "6⏌"}]
    assert sender.get(f"{API}/{to_palmer['id']}").json()["teeth"][0]["label"] == "3"


def test_teeth_written_in_another_notation_than_the_offices(sender: Account, fdi: Account) -> None:
    sent = send(sender, fdi, teeth=["16", "48"], notation="fdi")
    assert [t["label"] for t in sent["teeth"]] == ["3", "32"]
    assert [t["label"] for t in fdi.get(f"{API}/{sent['id']}").json()["teeth"]] == ["16", "48"]


# ----------------------------------------------------------------- stages


def test_accept_contact_book_complete_close_with_the_timeline(
    sender: Account, fdi: Account
) -> None:
    sent = send(sender, fdi)
    rid = sent["id"]
    assert "accepted" in fdi.get(f"{API}/{rid}").json()["allowed_stages"]
    assert "accepted" not in sent["allowed_stages"]

    too_soon = move(fdi, rid, "completed")
    assert too_soon.status_code == 409 and "sent" in too_soon.json()["detail"].lower()

    moved(fdi, rid, "accepted")
    moved(fdi, rid, "contacted")
    appointment = (datetime.now(UTC) + timedelta(days=14)).replace(microsecond=0)
    booked = moved(fdi, rid, "booked", appointment_at=appointment.isoformat())
    assert datetime.fromisoformat(booked["appointment_at"]) == appointment

    # The sender sees the appointment, and may no longer cancel.
    progress = sender.get(f"{API}/{rid}").json()
    assert progress["stage"] == "booked"
    assert datetime.fromisoformat(progress["appointment_at"]) == appointment
    assert row(sender, "sent", sent)["stage"] == "booked"
    late = move(sender, rid, "cancelled", reason="Patient moved")
    assert late.status_code == 409 and "booked" in late.json()["detail"].lower()

    moved(fdi, rid, "completed")
    closed = moved(fdi, rid, "closed")
    assert closed["allowed_stages"] == []

    timeline = sender.get(f"{API}/{rid}").json()["timeline"]
    stages = ["sent", "accepted", "contacted", "booked", "completed", "closed"]
    assert [entry["stage"] for entry in timeline] == stages
    assert timeline[0]["by_office_id"] == sender.office_id
    assert timeline[0]["by_user_id"] == sender.user_id
    for entry in timeline[1:]:
        assert entry["by_office_id"] == fdi.office_id
        assert entry["by_user_id"] == fdi.user_id
    times = [datetime.fromisoformat(entry["at"]) for entry in timeline]
    assert times == sorted(times)

    # Closed: no more notes.
    assert fdi.post(f"{API}/{rid}/notes", json={"body": "One more"}).status_code == 409


def test_the_sender_cancels_and_the_receiver_declines_with_reasons(
    sender: Account, fdi: Account
) -> None:
    cancelled = moved(sender, send(sender, fdi)["id"], "cancelled", reason="Patient moved")
    assert cancelled["timeline"][-1]["reason"] == "Patient moved"
    no_reason = move(fdi, send(sender, fdi)["id"], "declined")
    assert no_reason.status_code == 422
    declined = moved(fdi, send(sender, fdi)["id"], "declined", reason="No implants here")
    assert declined["timeline"][-1]["by_office_id"] == fdi.office_id


def test_forwarding_makes_a_new_referral_from_the_same_sender(
    world: Platform, sender: Account, fdi: Account
) -> None:
    sent = send(sender, fdi, teeth=["3"])
    onward = receiver(world, "palmer")
    forwarded = moved(fdi, sent["id"], "forwarded", forward_to_office_id=onward.office_id)
    [new] = onward.get(API, params={"box": "received"}).json()["items"]
    # The timeline links the new referral (the service's reading of `forwarded_to`).
    assert forwarded["timeline"][-1]["forwarded_to"] == new["id"]
    assert new["id"] != sent["id"] and new["sender_office_id"] == sender.office_id
    detail = onward.get(f"{API}/{new['id']}").json()
    assert detail["forwarded_from_id"] == sent["id"] and detail["stage"] == "sent"
    assert detail["teeth"] == [{"iso": "16", "label": "6⏌"}]
    assert sender.get(f"{API}/{new['id']}").status_code == 200
    assert move(fdi, sent["id"], "accepted").status_code == 409  # over for the forwarder


def test_draft_resume_send_and_cancel(sender: Account, fdi: Account) -> None:
    body = referral_body(sender, fdi)
    draft = sender.post(API, params={"draft": "true"}, json={"receiver_office_id": fdi.office_id})
    assert draft.status_code == 201, draft.text
    rid = draft.json()["id"]
    assert draft.json()["stage"] == "draft"

    # Not complete yet: sending names every missing field at once.
    incomplete = sender.post(f"{API}/{rid}/send")
    assert incomplete.status_code == 422
    fields = {e["field"] for e in incomplete.json()["errors"]}
    assert {"patient.first_name", "patient.last_name"} <= {f.removeprefix("body.") for f in fields}
    # The receiver does not see a draft.
    assert fdi.get(f"{API}/{rid}").status_code == 404

    resumed = sender.patch(f"{API}/{rid}", json=body)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["patient"]["last_name"] == body["patient"]["last_name"]
    sent = sender.post(f"{API}/{rid}/send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["stage"] == "sent"
    assert fdi.get(f"{API}/{rid}").status_code == 200
    assert sender.delete(f"{API}/{rid}").status_code == 409  # no longer a draft

    other = sender.post(API, params={"draft": "true"}, json={})
    assert other.status_code == 201, other.text
    assert sender.delete(f"{API}/{other.json()['id']}").status_code == 204
    assert sender.get(f"{API}/{other.json()['id']}").status_code == 404


def test_bad_payloads_name_every_field(sender: Account, fdi: Account) -> None:
    body = referral_body(sender, fdi, teeth=["3", "99"], urgency="whenever")
    body["patient"]["sex"] = "robot"
    answer = sender.post(API, json=body)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"body.urgency", "body.patient.sex"} <= fields
    unknown_tooth = sender.post(API, json=referral_body(sender, fdi, teeth=["3", "99"]))
    assert unknown_tooth.status_code == 422
    assert any("teeth" in e["field"] for e in unknown_tooth.json()["errors"])
    assert sender.get(f"{API}/not-an-id").status_code == 422


# ----------------------------------------------------------------- notes


def test_notes_are_new_for_the_other_office_until_it_reads_them(
    world: Platform, sender: Account
) -> None:
    to = receiver(world, "fdi")  # its own office: the counts below are exact
    sent = send(sender, to)
    rid = sent["id"]
    for body in ("Patient prefers mornings.", "X-ray attached later."):
        written = sender.post(f"{API}/{rid}/notes", json={"body": body})
        assert written.status_code == 201, written.text
        assert written.json()["office_id"] == sender.office_id
        assert written.json()["new"] is False

    notes = to.get(f"{API}/{rid}/notes").json()
    assert [n["body"] for n in notes] == ["Patient prefers mornings.", "X-ray attached later."]
    assert all(n["new"] for n in notes)
    assert not any(n["new"] for n in sender.get(f"{API}/{rid}/notes").json())
    assert row(to, "received", sent)["new_notes"] == 2
    assert row(sender, "sent", sent)["new_notes"] == 0
    assert to.get(f"{API}/dashboard").json()["received"]["unread_notes"] == 2

    assert to.post(f"{API}/{rid}/notes/read").status_code == 204
    assert not any(n["new"] for n in to.get(f"{API}/{rid}/notes").json())
    assert row(to, "received", sent)["new_notes"] == 0
    assert to.get(f"{API}/dashboard").json()["received"]["unread_notes"] == 0

    note, once = {"body": "Booked for Tuesday."}, {"Idempotency-Key": "n1"}
    reply = to.post(f"{API}/{rid}/notes", json=note, headers=once)
    again = to.post(f"{API}/{rid}/notes", json=note, headers=once)
    assert reply.status_code == again.status_code == 201
    assert reply.json()["id"] == again.json()["id"]
    assert row(sender, "sent", sent)["new_notes"] == 1
    detail = sender.get(f"{API}/{rid}").json()
    assert [n["new"] for n in detail["notes"]] == [False, False, True]
    assert detail["notes"][-1]["office_id"] == to.office_id


# ----------------------------------------------------------------- lists and procedures


def test_procedure_lists_and_list_filters(world: Platform, sender: Account) -> None:
    to = receiver(world, "universal")
    added = to.post("/api/v1/office/procedures", json={"name": "Third molar extraction"})
    assert added.status_code == 201, added.text
    procedure = added.json()
    assert to.get("/api/v1/office/procedures").json() == [procedure]
    assert sender.get(f"/api/v1/offices/{to.office_id}/procedures").json() == [procedure]

    with_procedure = send(sender, to, procedure_ids=[procedure["id"]])
    assert [p["name"] for p in with_procedure["procedures"]] == ["Third molar extraction"]
    plain = send(sender, to)
    moved(to, plain["id"], "accepted")

    def ids(account: Account, **params: Any) -> set[str]:
        answer = account.get(API, params={"box": "received", **params})
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["items"]}

    assert ids(to) == {with_procedure["id"], plain["id"]}
    assert ids(to, procedure_id=procedure["id"]) == {with_procedure["id"]}
    assert ids(to, stage=["accepted"]) == {plain["id"]}
    assert ids(to, stage=["sent", "accepted"]) == {with_procedure["id"], plain["id"]}
    assert ids(to, q=plain["reference"]) == {plain["id"]}
    assert ids(to, q=plain["patient"]["last_name"]) == {plain["id"]}
    assert ids(to, other_office_id=sender.office_id) == {with_procedure["id"], plain["id"]}
    paged = to.get(API, params={"box": "received", "page_size": 1, "sort": "-sent_at"}).json()
    assert paged["total"] == 2 and [r["id"] for r in paged["items"]] == [plain["id"]]

    removed = to.delete(f"/api/v1/office/procedures/{procedure['id']}")
    assert removed.status_code == 204
    assert to.get("/api/v1/office/procedures").json() == []
    assert [p["name"] for p in to.get(f"{API}/{with_procedure['id']}").json()["procedures"]] == [
        "Third molar extraction"
    ]


# ----------------------------------------------------------------- access


def test_a_third_office_gets_404_on_every_endpoint(
    world: Platform, sender: Account, fdi: Account
) -> None:
    sent = send(sender, fdi)
    rid = sent["id"]
    outsider = world.office()
    path = f"{API}/{rid}"
    attempts = [
        ("GET", path, None),
        ("PATCH", path, {}),
        ("POST", f"{path}/send", None),
        ("DELETE", path, None),
        ("POST", f"{path}/stage", {"stage": "accepted"}),
        ("POST", f"{path}/stage", {"stage": "cancelled", "reason": "mine now"}),
        ("GET", f"{path}/notes", None),
        ("POST", f"{path}/notes", {"body": "hello"}),
        ("POST", f"{path}/notes/read", None),
        ("GET", f"{path}/pdf", None),
    ]
    for method, url, body in attempts:
        answer = outsider.request(method, url, json=body)
        assert answer.status_code == 404, (method, url, answer.status_code, answer.text)
        # And the same for an id that does not exist at all: nothing tells them apart.
        missing = outsider.request(method, url.replace(rid, str(uuid.uuid4())), json=body)
        assert missing.status_code == 404, (method, url, missing.text)
    for box in ("sent", "received"):
        assert outsider.get(API, params={"box": box}).json()["total"] == 0
    # Nothing changed for the two offices.
    assert sender.get(path).json()["stage"] == "sent"
    assert fdi.get(f"{path}/notes").json() == []


# ----------------------------------------------------------------- the slip


def test_pdf_slip_text(sender: Account, fdi: Account, tmp_path: Path) -> None:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    sent = send(sender, fdi)
    last_name = sent["patient"]["last_name"]
    for reader in (sender, fdi):
        answer = reader.get(f"{API}/{sent['id']}/pdf")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"] == (
            f'inline; filename="{sent["reference"]}.pdf"'
        )
        assert answer.headers["cache-control"] == "no-store"
        assert answer.content.startswith(b"%PDF")
        pdf = tmp_path / f"{reader.office_id}.pdf"
        pdf.write_bytes(answer.content)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert sent["reference"] in text
        assert "Maya" in text and last_name in text


# ----------------------------------------------------------------- idempotency


def test_ten_concurrent_retries_with_one_key_create_one_referral(
    world: Platform, sender: Account, fdi: Account
) -> None:
    body = referral_body(sender, fdi)
    key = f"retry-{uuid.uuid4()}"
    headers = {**sender.headers, "Idempotency-Key": key}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=world.stack.url, timeout=30) as client:
            return client.post(API, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(10)))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    reference = answers[0].json()["reference"]
    listed = sender.get(API, params={"box": "sent", "q": body["patient"]["last_name"]}).json()
    assert listed["total"] == 1 and listed["items"][0]["reference"] == reference
    assert fdi.get(API, params={"box": "received", "q": reference}).json()["total"] == 1
