"""Ship dates: each lab's turnaround per stage, counted in business days in the lab's zone.

A stage's rule is ``min_days``-``max_days`` business days (Monday to Friday in
the lab's time zone) from the day the case entered it (for Planning
Scheduled, from the session's day) until it ships. Stages without a rule
(missing files, no-show, on hold, cancelled) have no ship date; a shipped
case shows the day it shipped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cases.models import Case, TurnaroundRule
from shared.contracts.cases import CaseStage, ShipEstimate, TurnaroundIn, TurnaroundRules
from shared.validation import invalid

S = CaseStage
DEFAULT_RULES: dict[CaseStage, tuple[int, int]] = {
    S.processing: (8, 14),
    S.received: (7, 12),
    S.ready_to_plan: (6, 10),
    S.planning_scheduled: (3, 8),
    S.manufacturing: (2, 7),
    S.finished: (0, 1),
}
RULED_STAGES = tuple(DEFAULT_RULES)


def zone(name: str | None) -> ZoneInfo:
    """The zone named, or UTC when it is unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def lab_zone(case: Case) -> ZoneInfo:
    return zone((case.lab_snapshot or {}).get("time_zone"))


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(tz).date()


def add_business_days(start: date, days: int) -> date:
    """``days`` business days after ``start`` (a weekend start counts from the Monday after)."""
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def rules(session: Session, lab_office_id: uuid.UUID) -> dict[CaseStage, tuple[int, int]]:
    """The lab's rules: its own where set, the defaults elsewhere."""
    found = dict(DEFAULT_RULES)
    for rule in session.scalars(
        select(TurnaroundRule).where(TurnaroundRule.lab_office_id == lab_office_id)
    ):
        found[CaseStage(rule.stage)] = (rule.min_days, rule.max_days)
    return found


def estimate(
    session: Session,
    case: Case,
    stage: CaseStage | str,
    *,
    at: datetime,
    booking_day: date | None = None,
) -> tuple[date | None, date | None]:
    """(earliest, latest) ship dates of ``case`` entering ``stage`` at ``at``."""
    stage = CaseStage(stage)
    tz = lab_zone(case)
    if stage == S.shipped:
        day = local_day(case.shipped_at or at, tz)
        return day, day
    if stage not in DEFAULT_RULES:
        return None, None
    low, high = rules(session, case.lab_office_id)[stage]
    start = booking_day if (stage == S.planning_scheduled and booking_day) else local_day(at, tz)
    return add_business_days(start, low), add_business_days(start, high)


def ship_estimate(case: Case) -> ShipEstimate:
    return ShipEstimate(earliest=case.ship_earliest, latest=case.ship_latest)


def rules_out(session: Session, lab_office_id: uuid.UUID) -> TurnaroundRules:
    return TurnaroundRules(
        rules=[
            TurnaroundIn(stage=stage, min_days=low, max_days=high)
            for stage, (low, high) in rules(session, lab_office_id).items()
        ]
    )


def set_rules(session: Session, lab_office_id: uuid.UUID, cmd: TurnaroundRules) -> None:
    """Replace the lab's rules for the stages given (others keep theirs); checked all at once."""
    errors: list[dict[str, str]] = []
    seen: set[CaseStage] = set()
    for i, rule in enumerate(cmd.rules):
        if rule.stage not in DEFAULT_RULES:
            names = ", ".join(s.value for s in RULED_STAGES)
            errors.append(
                {"field": f"rules.{i}.stage", "message": f"Only these stages have one: {names}."}
            )
        elif rule.stage in seen:
            errors.append({"field": f"rules.{i}.stage", "message": "Given twice."})
        seen.add(rule.stage)
        if rule.min_days > rule.max_days:
            errors.append(
                {"field": f"rules.{i}.max_days", "message": "Must not be less than min_days."}
            )
    if errors:
        raise invalid(errors)
    for rule in cmd.rules:
        values: dict[str, Any] = {"min_days": rule.min_days, "max_days": rule.max_days}
        session.execute(
            insert(TurnaroundRule)
            .values(lab_office_id=lab_office_id, stage=rule.stage.value, **values)
            .on_conflict_do_update(
                index_elements=[TurnaroundRule.lab_office_id, TurnaroundRule.stage], set_=values
            )
        )
