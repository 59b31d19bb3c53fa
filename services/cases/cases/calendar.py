"""Calendar files (RFC 5545) and Google Calendar links for planning sessions.

What ends up in a calendar leaves Bridgework for third-party calendars, so a
session carries no patient data: the case ID, the lab's name, how to join
(the lab's own text) and the link to the case in the portal. Every text value
goes through icalendar's TEXT escaping (``\\``, ``;``, ``,``, newlines), so
no office name or join detail can start a property of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Bridgework//Planning sessions//EN"
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
# Control characters other than tab and line feed have no place in a calendar's text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Session:
    """One booked planning session, as a calendar shows it."""

    booking_id: UUID
    sequence: int
    reference: str
    lab_name: str | None
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    join_url: str | None
    join_details: str | None
    case_url: str | None

    @property
    def uid(self) -> str:
        return f"{self.booking_id}@bridgework"

    @property
    def summary(self) -> str:
        lab = clean(self.lab_name).replace("\n", " ").strip()
        return f"Planning session {self.reference}" + (f" · {lab}" if lab else "")

    @property
    def description(self) -> str:
        lines = [f"Case ID: {self.reference}"]
        if self.join_url:
            lines.append(f"Join: {clean(self.join_url)}")
        if self.join_details:
            lines.append(f"How to join: {clean(self.join_details)}")
        if self.case_url:
            lines.append(f"The case in Bridgework: {self.case_url}")
        return "\n".join(lines)

    @property
    def location(self) -> str | None:
        return clean(self.join_url) if self.join_url else None


def clean(value: str | None) -> str:
    """User text with CR LF and lone CR as LF and no other control characters."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def _event(session: Session, *, stamp: datetime) -> icalendar.Event:
    zone = ZoneInfo(session.time_zone)
    event = icalendar.Event()
    event.add("uid", session.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", session.sequence)
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    event.add("summary", session.summary)
    event.add("description", session.description)
    if session.location:
        event.add("location", session.location)
    if session.case_url:
        event.add("url", session.case_url)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def calendar(
    sessions: Iterable[Session], *, name: str | None = None, stamp: datetime | None = None
) -> str:
    """A VCALENDAR (METHOD:PUBLISH) with one VEVENT per session and a VTIMEZONE per zone."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", clean(name).replace("\n", " "))
    stamp = stamp or datetime.now(UTC)
    for session in sessions:
        cal.add_component(_event(session, stamp=stamp))
    cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")


def google_calendar_url(session: Session) -> str:
    """Google Calendar's "add event" link for the session (times in UTC)."""

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = {
        "action": "TEMPLATE",
        "text": session.summary,
        "dates": f"{utc(session.starts_at)}/{utc(session.ends_at)}",
        "details": session.description,
        "ctz": session.time_zone,
    }
    if session.location:
        query["location"] = session.location
    return f"{GOOGLE_TEMPLATE}?{urlencode(query, safe='/')}"
