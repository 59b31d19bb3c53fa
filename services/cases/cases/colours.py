"""The urgency colour of a stage (see the README's "Stages and colours")."""

from __future__ import annotations

from shared.contracts.cases import CaseStage, Colour

S = CaseStage
RANK: dict[Colour, int] = {Colour.red: 0, Colour.yellow: 1, Colour.green: 2, Colour.white: 3}
COLOUR_OF_RANK: dict[int, Colour] = {rank: colour for colour, rank in RANK.items()}

_COLOURS: dict[CaseStage, Colour] = {
    S.missing_files: Colour.red,
    S.processing: Colour.yellow,
    S.received: Colour.yellow,
    S.ready_to_plan: Colour.red,  # green once a session is booked
    S.planning_scheduled: Colour.green,
    S.planning_no_show: Colour.red,
    S.manufacturing: Colour.white,
    S.finished: Colour.white,
    S.shipped: Colour.white,
    S.cancelled: Colour.white,
    S.on_hold: Colour.white,
}


def colour_of(stage: str, booked: bool) -> Colour:
    """Red: the client must act; yellow: may need attention; green: progressing; white: the
    lab's hands or over. Ready to Plan is red until a session is booked, then green."""
    stage = CaseStage(stage)
    if stage == S.ready_to_plan and booked:
        return Colour.green
    return _COLOURS[stage]


def rank_of(stage: str, booked: bool) -> int:
    """The colour's place in the attention order (0 red ... 3 white)."""
    return RANK[colour_of(stage, booked)]
