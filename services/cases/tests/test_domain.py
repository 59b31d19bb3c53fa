"""The pure rules: colours, the lab's moves, business days and ship estimates across zones."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cases.colours import colour_of
from cases.models import Case
from cases.shipdates import add_business_days, estimate
from cases.stages import lab_moves
from shared.contracts.cases import CaseStage, Colour

S = CaseStage


@pytest.mark.parametrize(
    ("stage", "booked", "colour"),
    [
        (S.missing_files, False, Colour.red),
        (S.processing, False, Colour.yellow),
        (S.received, False, Colour.yellow),
        (S.ready_to_plan, False, Colour.red),
        (S.ready_to_plan, True, Colour.green),
        (S.planning_scheduled, True, Colour.green),
        (S.planning_no_show, False, Colour.red),
        (S.manufacturing, False, Colour.white),
        (S.finished, False, Colour.white),
        (S.shipped, False, Colour.white),
        (S.cancelled, False, Colour.white),
        (S.on_hold, False, Colour.white),
    ],
)
def test_colour_of_each_stage(stage: CaseStage, booked: bool, colour: Colour) -> None:
    assert colour_of(stage, booked) == colour


def test_business_days_skip_weekends() -> None:
    friday, saturday = date(2026, 11, 20), date(2026, 11, 21)
    assert add_business_days(friday, 0) == friday
    assert add_business_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_business_days(saturday, 0) == date(2026, 11, 23)
    assert add_business_days(saturday, 1) == date(2026, 11, 24)
    assert add_business_days(friday, 10) == date(2026, 12, 4)


class _NoRules:
    """A session in which the lab has set no rules of its own (the defaults apply)."""

    def scalars(self, *_: Any) -> list[Any]:
        return []


NO_RULES: Any = _NoRules()


def _case(time_zone: str) -> Case:
    return Case(
        id=uuid.uuid4(),
        lab_office_id=uuid.uuid4(),
        lab_snapshot={"time_zone": time_zone},
        stage="processing",
    )


def test_the_estimate_counts_in_the_labs_zone() -> None:
    # Friday 22:00 in Toronto is already Saturday in UTC and in Berlin.
    at = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    toronto = estimate(NO_RULES, _case("America/Toronto"), S.manufacturing, at=at)
    berlin = estimate(NO_RULES, _case("Europe/Berlin"), S.manufacturing, at=at)
    assert toronto == (date(2026, 11, 24), date(2026, 12, 1))  # Fri + 2 / + 7
    assert berlin == (date(2026, 11, 25), date(2026, 12, 2))  # Mon + 2 / + 7
    on_hold = estimate(NO_RULES, _case("UTC"), S.on_hold, at=at)
    assert on_hold == (None, None)
    session_day = date(2026, 12, 7)
    planned = estimate(
        NO_RULES,
        _case("UTC"),
        S.planning_scheduled,
        at=at,
        booking_day=session_day,
    )
    assert planned == (date(2026, 12, 10), date(2026, 12, 17))


def test_on_hold_returns_only_to_the_stage_it_was_held_in() -> None:
    case = Case(stage="on_hold", held_from_stage="manufacturing")
    assert lab_moves(case) == [S.manufacturing, S.cancelled]
    assert lab_moves(Case(stage="shipped")) == []
    assert lab_moves(Case(stage="planning_no_show")) == [S.cancelled, S.on_hold]
