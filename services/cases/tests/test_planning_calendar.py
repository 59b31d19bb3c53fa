"""Calendar export on the real broker and database: the .ics read by two independent parsers
across a daylight-saving change, no injection from user text, no patient data, the Google
link, and each office's private subscription."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
import ics

from .planning_support import PUBLIC_URL, Office, Planner


def unfolded(content: str) -> list[str]:
    """The calendar's content lines (RFC 5545 folding undone)."""
    return content.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def publish(planner: Planner, lab: Office, start: str, end: str, **extra: Any) -> dict[str, Any]:
    payload = {"start": start, "end": end, "time_zone": lab.time_zone, **extra}
    payload.setdefault("join_url", "https://meet.example.com/plan-42")
    return planner.publish_slots(caller=lab.caller, payload=payload)[0]


def book(planner: Planner, client: Office, lab: Office, slot: dict[str, Any], **kw: Any) -> str:
    case_id = planner.ready_case(client, lab, **kw)
    planner.book_slot(caller=client.caller, case_id=case_id, payload={"slot_id": slot["id"]})
    return case_id


def test_ics_read_by_two_parsers_gives_the_right_instants_across_dst(planner: Planner) -> None:
    lab = planner.lab(time_zone="America/Toronto", name="Acme Dental Lab")
    client = planner.office(time_zone="America/Vancouver")
    # Toronto's clocks go back on 2027-11-07: 10:00 is 14:00 UTC before, 15:00 UTC after.
    before = publish(planner, lab, "2027-10-31T10:00:00", "2027-10-31T11:00:00")
    after = publish(planner, lab, "2027-11-07T10:00:00", "2027-11-07T11:00:00")
    expected = {
        before["id"]: datetime(2027, 10, 31, 14, 0, tzinfo=UTC),
        after["id"]: datetime(2027, 11, 7, 15, 0, tzinfo=UTC),
    }
    for slot in (before, after):
        case_id = book(planner, client, lab, slot, patient="Maya Chen")
        booking = planner.get_booking(caller=client.caller, case_id=case_id)
        case = planner.get_case(caller=client.caller, case_id=case_id)
        rendered = planner.render_booking_ics(caller=client.caller, case_id=case_id)
        assert rendered["filename"] == f"{case['reference']}-planning.ics"
        content = rendered["content"]
        lines = unfolded(content)
        for required in ("VERSION:2.0", "METHOD:PUBLISH", "BEGIN:VTIMEZONE"):
            assert required in lines
        assert any(line.startswith("PRODID:") for line in lines)
        assert f"UID:{booking['id']}@bridgework" in lines
        assert (
            "DTSTART;TZID=America/Toronto:"
            + ("20271031T100000" if slot is before else "20271107T100000")
            in lines
        )
        assert "Maya" not in content and "Surgical" not in content

        # icalendar
        parsed = icalendar.Calendar.from_ical(content)
        events = list(parsed.walk("VEVENT"))
        assert len(events) == 1
        event = events[0]
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == expected[slot["id"]]
        assert event["dtstart"].params["TZID"] == "America/Toronto"
        assert event.decoded("dtend") - start == timedelta(hours=1)
        stamp = [line for line in lines if line.startswith("DTSTAMP:")]
        assert len(stamp) == 1 and stamp[0].endswith("Z")
        zones = [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")]
        assert zones == ["America/Toronto"]
        summary = str(event["summary"])
        assert summary == f"Planning session {case['reference']} · Acme Dental Lab"
        description = str(event["description"])
        assert case["reference"] in description
        assert "https://meet.example.com/plan-42" in description
        assert str(event["url"]) == f"{PUBLIC_URL}/cases/{case_id}"

        # ics-py, an independent reader
        other = ics.Calendar(content)
        (only,) = list(other.events)
        assert only.begin.to("UTC").datetime == expected[slot["id"]]
        assert only.end.to("UTC").datetime == expected[slot["id"]] + timedelta(hours=1)
        assert only.name == summary and only.uid == f"{booking['id']}@bridgework"

        # The Google Calendar link: the same instants in UTC, the same text.
        link = urlsplit(booking["google_calendar_url"])
        assert f"{link.scheme}://{link.netloc}{link.path}" == (
            "https://calendar.google.com/calendar/render"
        )
        query = parse_qs(link.query)
        utc_start = expected[slot["id"]].strftime("%Y%m%dT%H%M%SZ")
        assert query["action"] == ["TEMPLATE"]
        assert query["dates"][0].startswith(f"{utc_start}/")
        assert query["text"] == [summary]
        assert case["reference"] in query["details"][0] and "Maya" not in query["details"][0]
        assert query["location"] == ["https://meet.example.com/plan-42"]


def test_user_text_cannot_inject_a_property(planner: Planner) -> None:
    evil_name = "Evil\r\nATTENDEE:mailto:a@evil.example\rORGANIZER:x;y,z\\w\nEND:VEVENT"
    lab = planner.lab(name=evil_name)
    client = planner.office()
    details = "ID 1;2,3\\4\r\nATTENDEE:mailto:b@evil.example\r\nBEGIN:VEVENT\rUID:evil\nX:1"
    slot = publish(
        planner,
        lab,
        "2027-05-03T10:00:00",
        "2027-05-03T10:30:00",
        mode="remote_control",
        join_url=None,
        join_details=details,
    )
    case_id = book(planner, client, lab, slot, patient="Joe\r\nATTENDEE:mailto:c@evil.example")
    content = planner.render_booking_ics(caller=client.caller, case_id=case_id)["content"]
    lines = unfolded(content)

    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines if line]
    assert not {"ATTENDEE", "ORGANIZER", "X"} & set(names)
    assert names.count("UID") == 1 and "evil" not in next(
        line for line in lines if line.startswith("UID:")
    )
    assert "Joe" not in content

    event = next(iter(icalendar.Calendar.from_ical(content).walk("VEVENT")))
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    reference = planner.get_case(caller=client.caller, case_id=case_id)["reference"]
    flat_name = evil_name.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    assert str(event["summary"]) == f"Planning session {reference} · {flat_name}"
    assert "ID 1;2,3\\4\nATTENDEE:mailto:b@evil.example\nBEGIN:VEVENT\nUID:evil\nX:1" in str(
        event["description"]
    )

    (only,) = list(ics.Calendar(content).events)
    assert only.name == str(event["summary"])
    assert only.uid.endswith("@bridgework") and not only.attendees and only.organizer is None


def test_calendar_feed_lists_the_offices_sessions_until_revoked(planner: Planner) -> None:
    lab, client, other_client = planner.lab(), planner.office(), planner.office()
    mine = book(
        planner, client, lab, publish(planner, lab, "2027-06-01T10:00:00", "2027-06-01T11:00:00")
    )
    theirs = book(
        planner,
        other_client,
        lab,
        publish(planner, lab, "2027-06-02T10:00:00", "2027-06-02T11:00:00"),
    )
    assert planner.error("get_calendar_feed", caller=client.caller).remote_kind == "not_found"

    created = planner.create_calendar_feed(caller=client.caller)
    prefix = f"{PUBLIC_URL}/api/v1/calendar/"
    assert created["url"].startswith(prefix) and created["url"].endswith(".ics")
    token = created["url"][len(prefix) : -len(".ics")]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    stored = planner.sql("SELECT token_sha256 FROM calendar_feeds WHERE revoked_at IS NULL")
    assert [bytes(r[0]) for r in stored] == [hashlib.sha256(token.encode()).digest()]
    shown = planner.get_calendar_feed(caller=client.caller)
    assert shown["url"] is None and shown["active"] is True

    def uids(content: str) -> set[str]:
        return {str(e["uid"]) for e in icalendar.Calendar.from_ical(content).walk("VEVENT")}

    def booking_uid(case_id: str) -> str:
        return f"{planner.get_booking(caller=lab.caller, case_id=case_id)['id']}@bridgework"

    feed = planner.render_calendar_feed(token=token)["content"]
    assert uids(feed) == {booking_uid(mine)}
    assert len(list(ics.Calendar(feed).events)) == 1

    # The lab's feed has both; a cancelled session leaves it.
    lab_token = planner.create_calendar_feed(caller=lab.caller)["url"][len(prefix) : -4]
    assert uids(planner.render_calendar_feed(token=lab_token)["content"]) == {
        booking_uid(mine),
        booking_uid(theirs),
    }
    gone = booking_uid(theirs)
    planner.cancel_booking(caller=lab.caller, case_id=theirs, payload={})
    assert gone not in uids(planner.render_calendar_feed(token=lab_token)["content"])

    # A new URL replaces the old one; revoking ends it; unknown tokens are not found.
    renewed = planner.create_calendar_feed(caller=client.caller)["url"][len(prefix) : -4]
    assert renewed != token
    assert planner.error("render_calendar_feed", token=token).remote_kind == "not_found"
    assert uids(planner.render_calendar_feed(token=renewed)["content"]) == {booking_uid(mine)}
    assert planner.revoke_calendar_feed(caller=client.caller) is None
    assert planner.error("render_calendar_feed", token=renewed).remote_kind == "not_found"
    assert planner.error("get_calendar_feed", caller=client.caller).remote_kind == "not_found"
    assert planner.error("render_calendar_feed", token="x" * 43).remote_kind == "not_found"
    assert planner.error("render_calendar_feed", token="").remote_kind == "not_found"
