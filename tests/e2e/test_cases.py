"""Lab cases end to end: every process started as `make run` starts it, driven over HTTP.

A client office (Universal notation, later in Berlin) sends a case with three
teeth to a lab (FDI, Toronto); its CBCT (one of pydicom's own CT files)
moves it from Missing CBCT/Models to Processing; the client previews and
submits an edit; the lab moves it on and publishes planning slots; the
client lists them in its own zone and books; the lab marks a no-show and
the client books again; the lab manufactures, finishes and ships it with
tracking. The calendar file is parsed by two independent parsers, the RX
script read back with pdftotext, the subscription feed fetched without
sign-in. Twenty bookings of one slot at once: one 201, nineteen 409. Two
outsiders (a practice and a lab) get 404 for the case on every endpoint and
for its files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx
import icalendar
import ics
import pydicom.data
import pytest

from tests.support.accounts import Account, Platform, platform
from tests.support.infra import token, wait_for
from tests.support.stack import running_stack

CASES = "/api/v1/cases"
SLOTS = "/api/v1/planning/slots"
LAB_ZONE = ZoneInfo("America/Toronto")  # every office's zone at setup
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def world() -> Iterator[Platform]:
    # Every office here logs in from 127.0.0.1; the per-IP limit has its own service test.
    with running_stack(LOGIN_RATE_LIMIT="10000") as stack, platform(stack) as started:
        yield started


def new_office(
    world: Platform, *, kind: str = "general_practice", notation: str = "fdi"
) -> Account:
    name = f"{'Acme Dental Lab' if kind == 'lab' else 'Bright Smiles'} {token(3)}"
    return world.office(name=name, kind=kind, notation=notation)


@pytest.fixture(scope="module")
def lab(world: Platform) -> Account:
    return new_office(world, kind="lab", notation="fdi")


@pytest.fixture(scope="module")
def client(world: Platform) -> Account:
    """A dental practice that works in Berlin time (its slots are shown in that zone)."""
    admin = new_office(world, notation="universal")
    moved = admin.patch("/api/v1/office", json={"time_zone": "Europe/Berlin"})
    assert moved.status_code == 200, moved.text
    return admin


@pytest.fixture(scope="module")
def outsiders(world: Platform) -> list[Account]:
    return [new_office(world), new_office(world, kind="lab")]


# ----------------------------------------------------------------- helpers


def dicom_bytes() -> bytes:
    path = pydicom.data.get_testdata_file("CT_small.dcm", download=False)
    assert path is not None
    return Path(str(path)).read_bytes()


def create(client: Account, lab: Account, **fields: Any) -> dict[str, Any]:
    body = {
        "lab_office_id": lab.office_id,
        "patient_name": f"Maya Chen {token(3)}",
        "description": "Surgical guide for implants at 19 and 30; sleeve 4.1 mm.",
        "teeth": ["19", "30", "3"],
        "notation": "universal",
        **fields,
    }
    answer = client.post(CASES, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"{CASES}/{created['case']['id']}"
    return created


def case(account: Account, case_id: str) -> dict[str, Any]:
    answer = account.get(f"{CASES}/{case_id}")
    assert answer.status_code == 200, answer.text
    detail: dict[str, Any] = answer.json()
    return detail


def move(lab: Account, case_id: str, stage: str, **fields: Any) -> dict[str, Any]:
    answer = lab.post(f"{CASES}/{case_id}/stage", json={"stage": stage, **fields})
    assert answer.status_code == 200, (stage, answer.text)
    detail: dict[str, Any] = answer.json()
    assert detail["stage"] == stage
    return detail


def upload(account: Account, case_id: str, name: str, data: bytes) -> httpx.Response:
    return account.post(
        f"{CASES}/{case_id}/files", files={"file": (name, data, "application/octet-stream")}
    )


def slot_start(days: int, hour: int) -> datetime:
    """A weekday ``days`` or more from now at ``hour``:00, lab time (naive local wall time)."""
    day = datetime.now(LAB_ZONE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour)


def publish(lab: Account, start: datetime, **fields: Any) -> list[dict[str, Any]]:
    body = {
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=45)).isoformat(),
        "time_zone": "America/Toronto",
        "mode": "video",
        "join_url": "https://meet.example.com/acme-planning",
        **fields,
    }
    answer = lab.post(SLOTS, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    slots: list[dict[str, Any]] = answer.json()
    return slots


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed.astimezone(UTC)


def lab_instant(local: datetime) -> datetime:
    return local.replace(tzinfo=LAB_ZONE).astimezone(UTC)


def free_slots(account: Account, lab: Account, start: datetime, **params: str) -> list[dict]:
    window = {
        "lab": lab.office_id,
        "from": (lab_instant(start) - timedelta(days=1)).isoformat(),
        "to": (lab_instant(start) + timedelta(days=30)).isoformat(),
        **params,
    }
    answer = account.get(SLOTS, params=window)
    assert answer.status_code == 200, answer.text
    slots: list[dict[str, Any]] = answer.json()
    return slots


def pdf_text(content: bytes, folder: Path) -> str:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    pdf = folder / f"{uuid.uuid4().hex}.pdf"
    pdf.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


# ----------------------------------------------------------------- the life of a case


def test_the_life_of_a_case_from_creation_to_shipped(
    world: Platform, client: Account, lab: Account, tmp_path: Path
) -> None:
    created = create(client, lab)
    sent = created["case"]
    cid, reference = sent["id"], sent["reference"]
    assert re.fullmatch(r"C-\d{4}-\d{5,}", reference), reference
    assert reference in created["confirmation"]
    assert created["rx_pdf_path"] == f"{CASES}/{cid}/rx.pdf"
    assert (sent["stage"], sent["colour"], sent["side"]) == ("missing_files", "red", "client")
    assert sent["stage_label"] == "Missing CBCT/Models"
    assert [(t["iso"], t["label"]) for t in sent["teeth"]] == [
        ("36", "19"),
        ("46", "30"),
        ("16", "3"),
    ]
    created_at_modified = sent["last_modified_at"]
    # The lab reads the teeth in its own notation.
    seen = case(lab, cid)
    assert seen["side"] == "lab" and seen["notation"] == "fdi"
    assert [t["label"] for t in seen["teeth"]] == ["36", "46", "16"]

    # The CBCT arrives: Missing CBCT/Models -> Processing.
    cbct = upload(client, cid, "ct.dcm", dicom_bytes())
    assert cbct.status_code == 201, cbct.text
    file_id = cbct.json()["id"]
    processing = wait_for(
        lambda: (d := case(client, cid))["stage"] == "processing" and d,
        timeout=20,
        what="the case to leave missing_files",
    )
    assert processing["colour"] == "yellow"
    assert file_id in processing["file_ids"]
    listed = client.get(f"{CASES}/{cid}/files").json()
    assert [f["id"] for f in listed["ours"]] == [file_id]
    assert [f["id"] for f in lab.get(f"{CASES}/{cid}/files").json()["theirs"]] == [file_id]

    # The lab checks it; the client previews an edit, then submits it: back to Processing,
    # with exactly the ship date the preview promised.
    move(lab, cid, "received")
    preview = client.get(f"{CASES}/{cid}/edit-preview")
    assert preview.status_code == 200, preview.text
    assert preview.json()["latest"] is not None
    edited = client.patch(f"{CASES}/{cid}", json={"description": "Guide for 19 and 30 only."})
    assert edited.status_code == 200, edited.text
    assert edited.json()["stage"] == "processing"
    assert edited.json()["ship"] == preview.json()
    assert instant(edited.json()["last_modified_at"]) > instant(created_at_modified)
    modified = edited.json()["last_modified_at"]

    move(lab, cid, "received")
    ready = move(lab, cid, "ready_to_plan")
    assert ready["colour"] == "red"  # the client must book a session
    illegal = lab.post(f"{CASES}/{cid}/stage", json={"stage": "shipped"})
    assert illegal.status_code == 409, illegal.text
    assert re.search(r"ready_to_plan|ready to plan", illegal.json()["detail"], re.I)
    assert lab.post(f"{CASES}/{cid}/stage", json={"stage": "planning_scheduled"}).status_code == 409
    assert client.post(f"{CASES}/{cid}/stage", json={"stage": "manufacturing"}).status_code == 403

    # The lab publishes slots; the client sees them in Berlin time, the same instants.
    first_local, second_local = slot_start(10, 10), slot_start(12, 15)
    [first] = publish(lab, first_local)
    remote = {"mode": "remote_control", "join_url": None, "join_details": "TeamViewer 123 456 789"}
    [second] = publish(lab, second_local, **remote)
    weekly = publish(lab, slot_start(20, 9), repeat_weeks=2)
    assert len(weekly) == 3
    assert len({instant(s["start"]).astimezone(LAB_ZONE).hour for s in weekly}) == 1
    offered = {s["id"]: s for s in free_slots(client, lab, first_local)}
    assert {first["id"], second["id"], *(s["id"] for s in weekly)} <= set(offered)
    shown = offered[first["id"]]
    assert shown["time_zone"] == "Europe/Berlin" and shown["lab_time_zone"] == "America/Toronto"
    assert instant(shown["start"]) == lab_instant(first_local)
    berlin_offset = lab_instant(first_local).astimezone(BERLIN).utcoffset()
    assert datetime.fromisoformat(shown["start"]).utcoffset() == berlin_offset
    in_tokyo = free_slots(client, lab, first_local, tz="Asia/Tokyo")
    assert {s["time_zone"] for s in in_tokyo} == {"Asia/Tokyo"}

    # The client books: Planning Scheduled (green); the slot is no longer offered.
    booked = client.post(f"{CASES}/{cid}/booking", json={"slot_id": first["id"]})
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert instant(booking["start"]) == lab_instant(first_local)
    assert booking["ics_path"] == f"{CASES}/{cid}/booking.ics"
    assert booking["google_calendar_url"].startswith("https://")
    scheduled = case(client, cid)
    assert (scheduled["stage"], scheduled["colour"]) == ("planning_scheduled", "green")
    assert first["id"] not in {s["id"] for s in free_slots(client, lab, first_local)}
    lab_view = {s["id"]: s for s in free_slots(lab, lab, first_local)}
    assert lab_view[first["id"]]["booked"] is True
    # The client cannot move or cancel it: contact the lab.
    for method, body in (("PUT", {"slot_id": second["id"]}), ("DELETE", None)):
        refused = client.request(method, f"{CASES}/{cid}/booking", json=body)
        assert refused.status_code == 409, refused.text
        assert "contact the lab" in refused.json()["detail"].lower()

    # The calendar file, read by two parsers that share no code.
    _check_calendar(client, cid, booking, lab_instant(first_local))

    # A no-show: Planning No Show (red), and the client books again.
    no_show = lab.post(f"{CASES}/{cid}/booking/no-show")
    assert no_show.status_code == 200, no_show.text
    assert (no_show.json()["stage"], no_show.json()["colour"]) == ("planning_no_show", "red")
    rebooked = client.post(f"{CASES}/{cid}/booking", json={"slot_id": second["id"]})
    assert rebooked.status_code == 201, rebooked.text
    assert rebooked.json()["mode"] == "remote_control"
    assert rebooked.json()["join_details"] == "TeamViewer 123 456 789"
    assert case(lab, cid)["booking"]["slot_id"] == second["id"]

    # Manufacturing, finished, shipped with tracking.
    move(lab, cid, "manufacturing")
    move(lab, cid, "finished")
    no_tracking = lab.post(f"{CASES}/{cid}/stage", json={"stage": "shipped"})
    assert no_tracking.status_code == 422, no_tracking.text
    shipped = move(
        lab,
        cid,
        "shipped",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
    )
    assert shipped["colour"] == "white"
    final = case(client, cid)
    assert final["shipment"]["carrier"] == "UPS"
    assert final["shipment"]["tracking_number"] == "1Z999AA10123456784"
    assert final["shipment"]["tracking_url"].startswith("https://www.ups.com/")
    assert final["ship"]["latest"] is not None  # the day it shipped
    # Only the client's own edit moved Last Modified; none of the lab's changes did.
    assert final["last_modified_at"] == modified
    stages = [entry["stage"] for entry in final["history"]]
    assert stages == [
        "missing_files",
        "processing",
        "received",
        "processing",
        "received",
        "ready_to_plan",
        "planning_scheduled",
        "planning_no_show",
        "planning_scheduled",
        "manufacturing",
        "finished",
        "shipped",
    ]
    by_lab = [e for e in final["history"] if e["stage"] in ("received", "manufacturing")]
    assert {(e["by_office_id"], e["by_user_id"]) for e in by_lab} == {(lab.office_id, lab.user_id)}

    # The RX script: both offices, the patient, the case ID, the teeth in the lab's notation.
    _check_rx(client, lab, final, tmp_path)


def _check_calendar(
    client: Account, case_id: str, booking: dict[str, Any], start_utc: datetime
) -> None:
    answer = client.get(f"{CASES}/{case_id}/booking.ics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.ics"')
    text = answer.text
    calendar = icalendar.Calendar.from_ical(text)
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    [event] = events
    assert str(event["UID"]) == f"{booking['id']}@bridgework"
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert event["DTSTART"].dt.astimezone(UTC) == start_utc
    zones = [str(c["TZID"]) for c in calendar.walk() if c.name == "VTIMEZONE"]
    assert zones == ["America/Toronto"]
    stamp = event["DTSTAMP"].dt
    assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    other = ics.Calendar(text)
    [parsed] = list(other.events)
    assert parsed.uid == f"{booking['id']}@bridgework"
    assert parsed.begin.datetime.astimezone(UTC) == start_utc
    assert client.get(f"{CASES}/{case_id}/booking.ics").text.count("UID:") == 1  # stable
    assert f"UID:{booking['id']}@bridgework" in client.get(f"{CASES}/{case_id}/booking.ics").text


def _check_rx(client: Account, lab: Account, final: dict[str, Any], folder: Path) -> None:
    answer = client.get(f"{CASES}/{final['id']}/rx.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert final["reference"] in answer.headers["content-disposition"]
    text = pdf_text(answer.content, folder)
    flat = " ".join(text.split())
    for expected in (
        final["reference"],
        final["patient_name"],
        "Guide for 19 and 30 only.",
        final["client"]["name"],
        final["lab"]["name"],
    ):
        assert expected in flat, (expected, flat)
    for iso in ("36", "46", "16"):  # FDI is the lab's notation: the label is the ISO code
        assert re.search(rf"\b{iso}\b", flat), (iso, flat)
    assert lab.get(f"{CASES}/{final['id']}/rx.pdf").status_code == 200


# ----------------------------------------------------------------- the booking race


def test_twenty_bookings_at_one_slot_one_wins(client: Account, lab: Account) -> None:
    def ready_case(_: int) -> str:
        cid = create(client, lab, teeth=["8"])["case"]["id"]
        for stage in ("processing", "received", "ready_to_plan"):
            move(lab, cid, stage)
        return cid

    with ThreadPoolExecutor(max_workers=4) as pool:
        case_ids = list(pool.map(ready_case, range(20)))
    [contested] = publish(lab, slot_start(30, 11))
    headers = client.headers
    start = threading.Barrier(20)

    def book(case_id: str) -> int:
        with httpx.Client(base_url=client.stack.url, timeout=60) as http:
            start.wait(timeout=30)
            answer = http.post(
                f"{CASES}/{case_id}/booking", json={"slot_id": contested["id"]}, headers=headers
            )
            return answer.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(book, case_ids))
    assert sorted(statuses) == [201] + [409] * 19, statuses
    winner = case_ids[statuses.index(201)]
    stages = {cid: case(client, cid)["stage"] for cid in case_ids}
    assert stages[winner] == "planning_scheduled"
    assert [cid for cid, stage in stages.items() if stage == "planning_scheduled"] == [winner]
    assert case(client, winner)["booking"]["slot_id"] == contested["id"]


# ----------------------------------------------------------------- idempotent creation


def test_retries_with_one_idempotency_key_make_one_case(client: Account, lab: Account) -> None:
    body = {
        "lab_office_id": lab.office_id,
        "patient_name": f"Retry {token(4)}",
        "description": "Night guard.",
        "teeth": ["8"],
    }
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    def send(_: int) -> httpx.Response:
        return client.post(CASES, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["case"]["id"] for a in answers}) == 1
    listed = client.get(CASES, params={"q": body["patient_name"]}).json()
    assert listed["total"] == 1


# ----------------------------------------------------------------- list and archive


def test_the_list_archive_and_the_labs_view(client: Account, lab: Account) -> None:
    cid = create(client, lab)["case"]["id"]
    ref = case(client, cid)["reference"]

    def ids(account: Account, **params: Any) -> list[str]:
        answer = account.get(CASES, params={"q": ref, **params})
        assert answer.status_code == 200, answer.text
        return [row["id"] for row in answer.json()["items"]]

    assert ids(client) == [cid]
    archived = client.request("PUT", f"{CASES}/{cid}/archive")
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert archived.json()["stage"] == "missing_files"  # nothing changed for the lab
    assert ids(client) == []
    assert ids(client, archived="only") == [cid]
    assert ids(lab) == [cid]  # the lab's list ignores the client's archive
    assert lab.request("PUT", f"{CASES}/{cid}/archive").status_code == 403
    restored = client.delete(f"{CASES}/{cid}/archive")
    assert restored.status_code == 200 and restored.json()["archived"] is False
    assert ids(client) == [cid] and ids(client, archived="only") == []

    page = client.get(CASES, params={"side": "client", "page_size": 100}).json()
    assert page["total"] >= 1
    order = {"red": 0, "yellow": 1, "green": 2, "white": 3}
    colours = [order[row["colour"]] for row in page["items"]]
    assert colours == sorted(colours)  # attention first
    assert client.get(CASES, params={"sort": "colour_of_the_sky"}).status_code == 422


# ----------------------------------------------------------------- calendar text


def test_user_text_in_the_calendar_cannot_start_a_property(client: Account, lab: Account) -> None:
    cid = create(client, lab)["case"]["id"]
    for stage in ("processing", "received", "ready_to_plan"):
        move(lab, cid, stage)
    hostile = "ID 1\r\nATTENDEE:mailto:evil@example.com;a,b\\c\rEND:VEVENT\nBEGIN:VEVENT"
    [slot] = publish(lab, slot_start(50, 10), join_url=None, join_details=hostile)
    booked = client.post(f"{CASES}/{cid}/booking", json={"slot_id": slot["id"]})
    assert booked.status_code == 201, booked.text
    text = client.get(f"{CASES}/{cid}/booking.ics").text
    lines = text.split("\r\n")  # folded lines go on with a space: none starts a property
    assert [line for line in lines if line.startswith("BEGIN:VEVENT")] == ["BEGIN:VEVENT"]
    assert not [line for line in lines if line.startswith(("ATTENDEE", "END:VEVENT "))]
    [event] = [c for c in icalendar.Calendar.from_ical(text).walk() if c.name == "VEVENT"]
    assert "ATTENDEE" not in event
    description = str(event["DESCRIPTION"])
    assert "ATTENDEE:mailto:evil@example.com;a,b\\c" in description
    [parsed] = list(ics.Calendar(text).events)
    assert parsed.uid == f"{booked.json()['id']}@bridgework"
    assert "evil@example.com;a,b\\c" in (parsed.description or "")
    assert not parsed.attendees


# ----------------------------------------------------------------- the subscription feed


def test_the_calendar_feed_lists_booked_sessions_without_sign_in(
    world: Platform, client: Account, lab: Account
) -> None:
    cid = create(client, lab)["case"]["id"]
    for stage in ("processing", "received", "ready_to_plan"):
        move(lab, cid, stage)
    [slot] = publish(lab, slot_start(40, 13))
    booking = client.post(f"{CASES}/{cid}/booking", json={"slot_id": slot["id"]}).json()

    made = client.post("/api/v1/calendar-feed")
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    path = urlparse(url).path
    assert re.fullmatch(r"/api/v1/calendar/[^/]+\.ics", path), url
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert client.get("/api/v1/calendar-feed").json()["url"] is None  # shown once

    feed = world.http.get(path)  # no Authorization header
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "no-store" in feed.headers["cache-control"]
    events = [c for c in icalendar.Calendar.from_ical(feed.text).walk() if c.name == "VEVENT"]
    assert f"{booking['id']}@bridgework" in {str(e["UID"]) for e in events}
    # The lab's own feed lists it too; nobody else's does.
    lab_feed = urlparse(lab.post("/api/v1/calendar-feed").json()["url"]).path
    assert f"{booking['id']}@bridgework" in world.http.get(lab_feed).text

    assert client.delete("/api/v1/calendar-feed").status_code == 204
    assert world.http.get(path).status_code == 404
    assert world.http.get(f"/api/v1/calendar/{secret[:-2]}xx.ics").status_code == 404
    for log in world.stack.log_dir.glob("*.log"):
        assert secret not in log.read_text(errors="replace"), log.name


# ----------------------------------------------------------------- access


def test_outsiders_get_404_on_every_case_endpoint_and_its_files(
    client: Account, lab: Account, outsiders: list[Account]
) -> None:
    cid = create(client, lab)["case"]["id"]
    cbct = upload(client, cid, "ct.dcm", dicom_bytes())
    assert cbct.status_code == 201, cbct.text
    file_id = cbct.json()["id"]
    for stage in ("received", "ready_to_plan"):
        wait_for(lambda: case(lab, cid)["stage"] != "missing_files", timeout=20)
        move(lab, cid, stage)
    [slot] = publish(lab, slot_start(45, 10))
    assert client.post(f"{CASES}/{cid}/booking", json={"slot_id": slot["id"]}).status_code == 201
    path = f"{CASES}/{cid}"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", path, None),
        ("PATCH", path, {"description": "mine now"}),
        ("GET", f"{path}/edit-preview", None),
        ("POST", f"{path}/stage", {"stage": "manufacturing"}),
        ("POST", f"{path}/stage", {"stage": "cancelled", "reason": "mine now"}),
        ("PUT", f"{path}/archive", None),
        ("DELETE", f"{path}/archive", None),
        ("GET", f"{path}/rx.pdf", None),
        ("POST", f"{path}/booking", {"slot_id": slot["id"]}),
        ("GET", f"{path}/booking", None),
        ("PUT", f"{path}/booking", {"slot_id": slot["id"]}),
        ("DELETE", f"{path}/booking", None),
        ("POST", f"{path}/booking/no-show", None),
        ("GET", f"{path}/booking.ics", None),
        ("GET", f"{path}/files", None),
    ]
    for outsider in outsiders:
        for method, url, body in attempts:
            answer = outsider.request(method, url, json=body)
            assert answer.status_code == 404, (method, url, answer.status_code, answer.text)
            missing = outsider.request(method, url.replace(cid, str(uuid.uuid4())), json=body)
            assert missing.status_code == 404, (method, url, missing.text)
        added = upload(outsider, cid, "scan.dcm", dicom_bytes())
        assert added.status_code == 404, added.text
        for url in (f"/api/v1/files/{file_id}", f"/api/v1/files/{file_id}/download"):
            assert outsider.get(url).status_code == 404, url
        assert outsider.get(CASES).json()["total"] == 0
    # Nothing changed for the two offices.
    after = case(client, cid)
    assert after["stage"] == "planning_scheduled" and after["archived"] is False
    assert after["booking"]["slot_id"] == slot["id"]
    assert [f["id"] for f in client.get(f"{path}/files").json()["ours"]] == [file_id]


def test_turnaround_rules_belong_to_the_lab(client: Account, lab: Account) -> None:
    rules = lab.get("/api/v1/lab/turnaround")
    assert rules.status_code == 200, rules.text
    assert {r["stage"] for r in rules.json()["rules"]} >= {"processing", "manufacturing"}
    changed = lab.request(
        "PUT",
        "/api/v1/lab/turnaround",
        json={"rules": [{"stage": "processing", "min_days": 1, "max_days": 2}]},
    )
    assert changed.status_code == 200, changed.text
    created = create(client, lab)["case"]
    processing = move(lab, created["id"], "processing")
    latest = date.fromisoformat(processing["ship"]["latest"])
    assert latest <= datetime.now(UTC).date() + timedelta(days=6)  # 2 business days
    assert client.request("PUT", "/api/v1/lab/turnaround", json={"rules": []}).status_code == 403
