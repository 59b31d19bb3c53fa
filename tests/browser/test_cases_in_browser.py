"""Lab cases in the browser: a dentist sends a case with a file and two teeth, prints the
confirmation; the lab (another notation) moves it to Ready to Plan; the dentist picks a free
planning slot, shown in their own time zone, books it and downloads the calendar file. The case
list sorts by any header, and archiving hides a case without cancelling it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleWatch, screenshot
from tests.support.accounts import PASSWORD, Account, Platform
from tests.support.infra import token

VIEWER_ZONE = ZoneInfo("America/Toronto")  # the browser contexts' zone (conftest)
LAB_ZONE = "Europe/Berlin"  # the lab publishes in another zone


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(out, format="PNG")
    return out.getvalue()


@dataclass
class Offices:
    client: Account
    client_name: str
    lab: Account
    lab_name: str


@pytest.fixture(scope="module")
def offices(world: Platform) -> Offices:
    """A general practice charting in Universal and a lab charting in FDI, made over the API."""
    client_name = f"Harbour Dental {token()}"
    lab_name = f"Precision Guides Lab {token()}"
    client = world.office(name=client_name, notation="universal")
    lab = world.office(name=lab_name, kind="lab", notation="fdi", providers=("Sam Tech",))
    return Offices(client, client_name, lab, lab_name)


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Lab cases")).to_be_visible()


def api_case(offices: Offices, patient: str) -> dict[str, Any]:
    created = offices.client.post(
        "/api/v1/cases",
        json={
            "lab_office_id": offices.lab.office_id,
            "patient_name": patient,
            "description": "Night guard, upper arch.",
        },
    )
    assert created.status_code == 201, created.text
    case: dict[str, Any] = created.json()["case"]
    return case


def move(lab: Account, case_id: str, *stages: str) -> None:
    for stage in stages:
        moved = lab.post(f"/api/v1/cases/{case_id}/stage", json={"stage": stage})
        assert moved.status_code == 200, moved.text


def publish_slot(lab: Account) -> tuple[str, datetime]:
    """A free slot a week from now at 16:00 in the lab's zone; answers its id and UTC start."""
    day = (datetime.now(ZoneInfo(LAB_ZONE)) + timedelta(days=7)).date()
    local = f"{day.isoformat()}T16:00:00"
    answer = lab.post(
        "/api/v1/planning/slots",
        json={
            "start": local,
            "end": f"{day.isoformat()}T17:00:00",
            "time_zone": LAB_ZONE,
            "mode": "video",
            "join_url": "https://meet.example.com/guides",
        },
    )
    assert answer.status_code == 201, answer.text
    start = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(LAB_ZONE)).astimezone(UTC)
    return answer.json()[0]["id"], start


def test_a_case_from_creation_to_a_booked_planning_session(
    new_page: Callable[[], Page], offices: Offices
) -> None:
    page = new_page()
    log_in(page, offices.client.email)
    expect(page.locator('[data-box="cases"] [data-count="cases-attention"] strong')).to_have_text(
        "0"
    )

    # The new case: lab from the directory, patient, prescription, two teeth, due date, a file.
    page.get_by_role("link", name="Send a case").click()
    expect(page.get_by_role("heading", name="Send a new case")).to_be_visible()
    page.get_by_label(re.compile(r"^Lab\b")).select_option(value=offices.lab.office_id)
    page.get_by_label("Patient's name").fill("Nadia Rahman")
    page.get_by_label("Description").fill("Surgical guide for implants at the lower first molars.")
    for fdi in ("36", "46"):
        page.locator(f'svg.odontogram .tooth[data-tooth="{fdi}"]').click()
    expect(page.locator(".teeth-list")).to_have_text("Selected teeth (Universal): 19, 30")
    due = (datetime.now(VIEWER_ZONE) + timedelta(days=30)).date()
    page.get_by_label("Requested due date").fill(due.isoformat())
    page.locator("input[type=file]").set_input_files(
        [{"name": "cbct-preview.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    screenshot(page, "20-new-case")
    page.get_by_role("button", name="Send the case").click()

    # The printable confirmation.
    expect(page.get_by_role("heading", name="Case sent")).to_be_visible()
    reference = page.locator(".case-reference").inner_text()
    assert re.fullmatch(r"C-\d{4}-\d{5,}", reference), reference
    expect(page.get_by_text(f"Case {reference} was sent to {offices.lab_name}.")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.locator(".confirmation")).to_contain_text("19, 30")
    case_href = page.get_by_role("link", name="View the case").get_attribute("href")
    assert case_href and case_href.startswith("/cases/")
    case_id = case_href.rsplit("/", 1)[1]
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    screenshot(page, "21-case-confirmation-print")
    page.emulate_media(media="screen")

    # The file moved it on; the lab (over the API) checks it and makes it Ready to Plan.
    detail = offices.client.get(f"/api/v1/cases/{case_id}").json()
    assert detail["stage"] == "processing"
    assert [t["iso"] for t in detail["teeth"]] == ["36", "46"]
    assert detail["due_date"] == due.isoformat()
    move(offices.lab, case_id, "received", "ready_to_plan")
    slot_id, slot_start = publish_slot(offices.lab)

    # The client picks the slot, shown in Toronto time, and books it.
    page.get_by_role("link", name="View the case").click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(page.locator(".case-stage .chip")).to_contain_text("Ready to Plan")
    expect(page.locator(".case-stage .chip")).to_have_attribute("data-colour", "red")
    expect(page.locator(".teeth-list")).to_have_text("Teeth (Universal): 19, 30")
    expect(page.get_by_role("region", name="Sent by us")).to_contain_text("cbct-preview.png")
    expect(page.locator(".case-history")).to_contain_text("Ready to Plan")
    choice = page.locator(f'input[name="slot_id"][value="{slot_id}"]')
    local_start = slot_start.astimezone(VIEWER_ZONE)
    day_name = f"{local_start:%A}, {local_start:%B} {local_start.day}"
    expect(page.locator(".slot-day", has=choice).locator("legend")).to_contain_text(day_name)
    expect(page.locator("label.slot", has=choice)).to_contain_text(
        f"{local_start.hour % 12 or 12}:{local_start:%M}"
    )
    screenshot(page, "22-slot-picker")
    choice.check()
    page.get_by_role("button", name="Book this session").click()

    expect(page.get_by_role("heading", name="Add to calendar")).to_be_visible()
    expect(page.locator(".case-stage .chip")).to_contain_text("Planning Scheduled")
    google = page.get_by_role("link", name="Add to Google Calendar")
    expect(google).to_have_attribute("href", re.compile(r"^https://calendar\.google\.com/"))
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Download the calendar file")).click()
    ics = download.value
    assert ics.suggested_filename.endswith(".ics")
    with open(ics.path(), "rb") as handle:
        calendar = icalendar.Calendar.from_ical(handle.read())
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    start = events[0].decoded("DTSTART")
    assert start.astimezone(UTC) == slot_start
    assert reference in str(events[0].get("SUMMARY")) + str(events[0].get("DESCRIPTION"))
    screenshot(page, "23-case-booked")
    # A note to the lab, written under the case.
    page.get_by_label("Write a note to the lab").fill("Please check the upper scan.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".notes .note.ours")).to_contain_text("Please check the upper scan.")
    # The office's calendar subscription: its URL shown once, then revoked.
    page.get_by_text("Calendar subscription for all your office's sessions").click()
    page.get_by_role("button", name="Create a calendar subscription URL").click()
    feed_url = page.locator(".feed-url")
    expect(feed_url).to_have_text(re.compile(r"/api/v1/calendar/[A-Za-z0-9_-]+\.ics$"))
    assert offices.client.get("/api/v1/calendar-feed").json()["active"] is True
    page.get_by_role("button", name="Revoke the subscription URL").click()
    expect(page.locator(".calendar-feed")).to_contain_text("revoked")
    expect(feed_url).to_have_count(0)

    # The lab sees the session and the teeth in FDI, and starts manufacturing in the browser.
    lab_page = new_page()
    log_in(lab_page, offices.lab.email)
    # The lab's list marks the case that has a note new to it.
    lab_page.goto("/cases")
    row = lab_page.locator(f'tr[data-case="{case_id}"]')
    expect(row.locator(".badge.new")).to_have_text("New")
    row.get_by_role("link", name=re.compile(r"^C-\d{4}-\d{5,}$")).click()
    expect(lab_page.locator(".teeth-list")).to_have_text("Teeth (FDI): 36, 46")
    expect(lab_page.locator(".booking-when")).to_be_visible()
    # The client's note is new to the lab, and is read once shown.
    note = lab_page.locator(".notes .note.theirs.is-new")
    expect(note).to_contain_text("Please check the upper scan.")
    expect(note.locator(".badge.new")).to_have_text("New")
    notes = offices.lab.get(f"/api/v1/cases/{case_id}/notes").json()
    assert [(n["body"], n["new"]) for n in notes] == [("Please check the upper scan.", False)]
    rows = offices.lab.get("/api/v1/cases", params={"q": reference}).json()["items"]
    assert [row["new_notes"] for row in rows] == [0]
    lab_page.get_by_role("button", name="Manufacturing").click()
    expect(lab_page.locator(".case-stage .chip")).to_contain_text("Manufacturing")
    expect(lab_page.locator(".case-stage .chip")).to_have_attribute("data-colour", "white")
    lab_page.get_by_role("button", name="Finished").click()
    lab_page.get_by_role("button", name="Shipped…").click()
    lab_page.get_by_role("button", name="Mark as shipped").click()
    expect(lab_page.locator('[data-field="carrier"] .field-error')).to_be_visible()
    lab_page.get_by_label("Carrier").fill("UPS")
    lab_page.get_by_label("Tracking number").fill("1Z999AA10123456784")
    lab_page.get_by_role("button", name="Mark as shipped").click()
    expect(lab_page.locator(".case-stage .chip")).to_contain_text("Shipped")
    screenshot(lab_page, "24-lab-case")


def test_the_list_sorts_by_header_and_archiving_hides_without_cancelling(
    new_page: Callable[[], Page], offices: Offices
) -> None:
    first = api_case(offices, f"Aaron Abbott {token()}")
    second = api_case(offices, f"Zoe Zimmer {token()}")
    move(offices.lab, first["id"], "processing")  # a file arrived elsewhere: yellow

    page = new_page()
    log_in(page, offices.client.email)
    # The dashboard counts cases by colour; a colour opens the list of those.
    block = page.locator('[data-box="cases"]')
    expect(block.locator('[data-count="cases-attention"] strong')).to_have_text("1")  # red
    block.locator('li[data-colour="yellow"] a').click()
    expect(page.locator(f'tr[data-case="{first["id"]}"]')).to_be_visible()
    expect(page.locator(f'tr[data-case="{second["id"]}"]')).to_have_count(0)
    page.get_by_role("link", name="Show every colour").click()
    expect(page.locator(f'tr[data-case="{second["id"]}"]')).to_be_visible()
    legend = page.locator(".legend")
    for colour, words in (
        ("red", "You must act"),
        ("yellow", "not evaluated"),
        ("green", "Progressing"),
        ("white", "In the lab's hands"),
    ):
        expect(legend.locator(f'li[data-colour="{colour}"]')).to_contain_text(words)
    # The attention order: red (missing files) before yellow.
    rows = page.locator("tbody tr")
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.case)")
    assert ids.index(second["id"]) < ids.index(first["id"])
    screenshot(page, "25-case-list")

    patient = page.locator('th[data-sort="patient"]')
    expect(patient).to_have_attribute("aria-sort", "none")
    patient.get_by_role("button").click()
    expect(patient).to_have_attribute("aria-sort", "ascending")
    names = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, key=str.casefold) and len(names) >= 2
    page.locator('th[data-sort="patient"]').get_by_role("button").click()
    expect(page.locator('th[data-sort="patient"]')).to_have_attribute("aria-sort", "descending")
    names = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, key=str.casefold, reverse=True)

    # An edit shows the ship date it will get before it is submitted.
    page.locator(f'tr[data-case="{first["id"]}"]').get_by_role("link").click()
    page.get_by_role("button", name="Edit the case…").click()
    estimate = offices.client.get(f"/api/v1/cases/{first['id']}/edit-preview").json()
    shown = page.locator(".ship-preview")
    expect(shown).to_contain_text("New ship date if you submit this change")
    latest = datetime.fromisoformat(estimate["latest"])
    expect(shown).to_contain_text(f"{latest:%b} {latest.day}, {latest.year}")
    page.locator(".edit-form").get_by_label("Description").fill("Night guard, both arches.")
    page.get_by_role("button", name="Submit the change").click()
    expect(page.get_by_role("status").filter(has_text="sent to the lab")).to_be_visible()
    expect(page.locator(".case-notes").first).to_have_text("Night guard, both arches.")
    screenshot(page, "25b-case-edited")
    page.get_by_role("link", name="All cases").click()
    expect(page.get_by_role("heading", name="Lab cases", exact=True)).to_be_visible()

    # Archive the second: gone from the list, there under "show only archived", not cancelled.
    row = page.locator(f'tr[data-case="{second["id"]}"]')
    row.get_by_role("button", name=f"Archive {second['reference']}").click()
    expect(row).to_have_count(0)
    note = page.locator("#archive-note")
    expect(note).to_contain_text("does not cancel the case or put it on hold")
    page.get_by_label("Show only archived cases").check()
    expect(page.get_by_role("heading", name="Archived lab cases")).to_be_visible()
    expect(page.locator(f'tr[data-case="{second["id"]}"]')).to_be_visible()
    expect(page.locator(f'tr[data-case="{first["id"]}"]')).to_have_count(0)
    screenshot(page, "26-archived-cases")
    still = offices.lab.get(f"/api/v1/cases/{second['id']}").json()
    assert still["stage"] == "missing_files"


def test_the_lab_publishes_slots_and_sets_its_turnaround(
    new_page: Callable[[], Page], console: ConsoleWatch, offices: Offices
) -> None:
    console.expect(r"status of 422")  # the slot without a way to join
    page = new_page()
    log_in(page, offices.lab.email)
    page.get_by_role("link", name="Slots and turnaround").click()
    expect(page.get_by_role("heading", name="Slots and turnaround")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("America/Toronto")
    day = (datetime.now(VIEWER_ZONE) + timedelta(days=10)).date()
    page.get_by_label(re.compile(r"^Day\b")).fill(day.isoformat())
    page.get_by_label("Starts at").fill("09:00")
    page.get_by_label("Ends at").fill("10:00")
    page.get_by_label("Repeat weekly for this many more weeks").fill("2")
    page.get_by_role("button", name="Publish").click()
    # Neither a link nor joining details: said next to the join fields.
    expect(page.locator("#publish .form-alert")).to_be_visible()
    expect(page.locator("#publish .field-error").filter(has_text="how to join")).to_be_visible()
    page.get_by_label("Join link").fill("https://meet.example.com/planning")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish [role=status]")).to_have_text("Published 3 slots.")
    page.get_by_label("Processing: most days").fill("15")
    page.get_by_role("button", name="Save the turnaround").click()
    expect(page.get_by_text("Saved: new ship dates use these rules.")).to_be_visible()
    rules = offices.lab.get("/api/v1/lab/turnaround").json()["rules"]
    assert {r["stage"]: r["max_days"] for r in rules}["processing"] == 15
    screenshot(page, "27-lab-slots")

    # A client books one of them; the lab moves the session, then cancels it.
    case = api_case(offices, f"Omar Haddad {token()}")
    move(offices.lab, case["id"], "processing", "received", "ready_to_plan")
    now = datetime.now(UTC)
    free = offices.lab.get(
        "/api/v1/planning/slots",
        params={
            "lab": offices.lab.office_id,
            "from": now.isoformat(),
            "to": (now + timedelta(days=40)).isoformat(),
        },
    ).json()
    free = [s for s in free if not s["booked"]]
    assert len(free) >= 2
    booked = offices.client.post(
        f"/api/v1/cases/{case['id']}/booking", json={"slot_id": free[0]["id"]}
    )
    assert booked.status_code == 201, booked.text
    page.goto(f"/cases/{case['id']}")
    expect(page.locator(".case-stage .chip")).to_contain_text("Planning Scheduled")
    page.get_by_role("button", name="Reschedule…").click()
    page.locator(f'input[name="slot_id"][value="{free[1]["id"]}"]').check()
    page.get_by_role("button", name="Move the session here").click()
    expect(page.get_by_role("status").filter(has_text="The session is moved.")).to_be_visible()
    moved = offices.client.get(f"/api/v1/cases/{case['id']}/booking").json()
    assert moved["slot_id"] == free[1]["id"]
    page.get_by_role("button", name="Cancel the session…").click()
    page.get_by_label("Reason (the client sees it)").fill("Our planner is ill; please book again.")
    page.get_by_role("button", name="Cancel the session", exact=True).click()
    expect(page.locator(".case-stage .chip")).to_contain_text("Ready to Plan")
    expect(page.locator(".case-history")).to_contain_text("Our planner is ill")


def test_what_the_api_refuses_in_a_new_case_is_said_next_to_its_field(
    new_page: Callable[[], Page], console: ConsoleWatch, offices: Offices
) -> None:
    console.expect(r"status of 422")  # the refused case
    page = new_page()
    log_in(page, offices.client.email)
    page.goto("/cases/new")
    page.get_by_label("Description").fill("Crown, upper right first molar.")
    page.get_by_role("button", name="Send the case").click()
    lab = page.locator('[data-field="lab_office_id"] .field-error')
    expect(lab).to_have_text("Choose the lab.")
    expect(page.locator('[data-field="patient_name"] .field-error')).to_have_text("Required.")
    expect(page.locator('[data-field="description"] .field-error')).to_be_hidden()
    expect(page.get_by_label(re.compile(r"^Lab\b"))).to_be_focused()
    screenshot(page, "28-new-case-refused")
    assert offices.client.get("/api/v1/cases", params={"q": "Crown"}).json()["total"] == 0
