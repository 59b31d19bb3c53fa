"""Expected ship dates, counted here independently of the service's code."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def today(time_zone: str = "America/Toronto") -> date:
    return datetime.now(ZoneInfo(time_zone)).date()


def business_days_after(start: date, days: int) -> date:
    """The day ``days`` weekdays after ``start`` (a Saturday or Sunday start counts from Monday)."""
    day = start
    if day.isoweekday() > 5:
        day += timedelta(days=8 - day.isoweekday())
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.isoweekday() <= 5:
            counted += 1
    return day


def window(min_days: int, max_days: int, start: date | None = None) -> dict[str, str]:
    start = start or today()
    return {
        "earliest": business_days_after(start, min_days).isoformat(),
        "latest": business_days_after(start, max_days).isoformat(),
    }
