"""Planning slots' times and how to join: wall times to instants, DST-correct, and validation.

A slot is written in the lab's wall time; a weekly pattern keeps that wall
time every week (10:00 stays 10:00 across a daylight-saving change, so the UTC
instant moves by an hour). A wall time that does not exist in the zone (the
hour skipped in spring) is refused rather than silently shifted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cases.models import now
from shared.contracts.cases import SlotIn
from shared.errors import Conflict, NotFound
from shared.validation import field_error, invalid

MAX_SLOT_LENGTH = timedelta(hours=12)


def zone_of(name: str, *, field: str) -> ZoneInfo:
    """The IANA zone called ``name``; InvalidInput naming ``field`` otherwise."""
    try:
        if not name or name != name.strip() or name.startswith(("/", ".")):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise field_error(field, "Not a known IANA time zone (e.g. America/Toronto).") from None


def local_instant(moment: datetime, tz: ZoneInfo, *, field: str) -> datetime:
    """An aware instant (UTC): a naive ``moment`` is a wall time in ``tz``, which must exist."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    aware = moment.replace(tzinfo=tz)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != moment:
        raise field_error(
            field, f"{moment:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip it)."
        )
    return instant


def slot_instants(cmd: SlotIn) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC for the slot and each repeat, at the same wall time every week."""
    tz = zone_of(cmd.time_zone, field="time_zone")
    # An aware start or end is read as the wall time it shows in the lab's zone.
    start = cmd.start.astimezone(tz).replace(tzinfo=None) if cmd.start.tzinfo else cmd.start
    end = cmd.end.astimezone(tz).replace(tzinfo=None) if cmd.end.tzinfo else cmd.end
    first = (local_instant(start, tz, field="start"), local_instant(end, tz, field="end"))
    if first[1] <= first[0]:
        raise field_error("end", "Must be after start.")
    if first[1] - first[0] > MAX_SLOT_LENGTH:
        raise field_error("end", "A slot lasts at most 12 hours.")
    if first[0] <= now():
        raise field_error("start", "Must be in the future.")
    instants = [first]
    for week in range(1, cmd.repeat_weeks + 1):
        shift = timedelta(weeks=week)
        instants.append(
            (
                local_instant(start + shift, tz, field="start"),
                local_instant(end + shift, tz, field="end"),
            )
        )
    return instants


def validate_join(cmd: SlotIn) -> None:
    """How to join: a http(s) link, details, or both; at least one."""
    errors = []
    if cmd.join_url:
        parts = urlsplit(cmd.join_url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(c in cmd.join_url for c in " \r\n\t")
        ):
            errors.append({"field": "join_url", "message": "Must be an http(s) link."})
    if not cmd.join_url and not cmd.join_details:
        errors.append(
            {"field": "join_url", "message": "Say how to join: a link or the session details."}
        )
    if errors:
        raise invalid(errors)


def check_bookable(starts_at: datetime) -> None:
    """A slot that has started cannot be booked."""
    if starts_at <= now():
        raise Conflict("This slot has already started; choose a later one.")


def lab_day(slot: object) -> date:
    """The slot's day in the lab's zone (Planning Scheduled counts its ship date from it)."""
    starts_at: datetime = slot.starts_at  # type: ignore[attr-defined]
    return starts_at.astimezone(ZoneInfo(slot.time_zone)).date()  # type: ignore[attr-defined]


class SlotNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such planning slot.")


class BookingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No planning session is booked for this case.")


class SlotTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("This slot was just booked by someone else; choose another one.")


class LabOnly(Conflict):
    """The client asked to change or cancel a booking: only the lab can."""

    def __init__(self) -> None:
        super().__init__(
            "A booked planning session can only be changed by the lab: contact the lab."
        )
