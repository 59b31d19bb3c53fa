"""Tooth notation conversion (Universal, FDI/ISO 3950, Palmer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared import teeth
from shared.errors import InvalidInput

router = APIRouter(prefix="/api/v1/teeth", tags=["teeth"])


class ConvertedTooth(BaseModel):
    tooth: str = Field(description="The tooth in the target notation", examples=["6⏌"])
    fdi: str = Field(description="Its ISO 3950 (FDI) code, as stored", examples=["16"])
    notation: teeth.Notation = Field(description="The target notation", examples=["palmer"])


@router.get(
    "/convert",
    response_model=ConvertedTooth,
    summary="Rewrite one tooth in another notation",
    description=(
        "Permanent teeth (Universal 1-32, FDI 11-48, Palmer 1-8) and primary teeth (Universal "
        "A-T, FDI 51-85, Palmer A-E). Palmer is written with the Unicode dentistry symbols "
        "(`8⏌` upper right, `⎿1` upper left, `1⏋` lower right, `⎾1` lower left) and also read "
        "in box-drawing (`8┘`, `└1`, `1┐`, `┌1`) and ASCII (`UR8`, `UL1`, `LR1`, `LL1`, `URE`) "
        "forms. An unknown tooth or notation is a 422 naming it."
    ),
    responses={422: {"description": "Unknown tooth or notation, named in the answer"}},
)
async def convert(
    tooth: Annotated[str, Query(max_length=16, examples=["3"])],
    source: Annotated[str, Query(alias="from", examples=["universal"])],
    target: Annotated[str, Query(alias="to", examples=["palmer"])],
) -> ConvertedTooth:
    problems: list[dict[str, str]] = []
    source_notation = _notation(source, "query.from", problems)
    target_notation = _notation(target, "query.to", problems)
    fdi = None
    if source_notation is not None:
        try:
            fdi = teeth.to_fdi(tooth, source_notation)
        except teeth.UnknownTooth as exc:
            problems.append({"field": "query.tooth", "message": exc.message})
    if fdi is None or target_notation is None:
        raise InvalidInput("; ".join(p["message"] for p in problems), details=problems)
    return ConvertedTooth(
        tooth=teeth.from_fdi(fdi, target_notation), fdi=fdi, notation=target_notation
    )


def _notation(value: str, field: str, problems: list[dict[str, str]]) -> teeth.Notation | None:
    try:
        return teeth.notation_of(value)
    except teeth.UnknownNotation as exc:
        problems.append({"field": field, "message": exc.message})
        return None
