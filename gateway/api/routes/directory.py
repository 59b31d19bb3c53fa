"""Finding offices to send work to: the caller's colleagues and the directory of receivers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.api.deps import ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep
from shared.contracts.identity import Colleague, DirectoryEntry, OfficeKind

router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.get(
    "/colleagues",
    response_model=list[Colleague],
    summary="Offices the caller's office invited, was invited by, or sent work to",
    description="Most recent first: shown at the top when choosing where to refer.",
    responses=errors(*SIGNED_IN),
)
async def list_colleagues(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "list_colleagues", caller=caller)


@router.get(
    "/directory",
    response_model=list[DirectoryEntry],
    summary="Search the offices that accept referrals",
    description=(
        "By provider name, office name, specialty or city (case-insensitive, partial), "
        "colleagues first."
    ),
    responses=errors(*SIGNED_IN),
)
async def search_directory(
    caller: CallerDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=100, examples=["okafor"])] = "",
    kind: Annotated[OfficeKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    return await services.call(
        "identity",
        "search_directory",
        caller=caller,
        q=q.strip(),
        kind=kind.value if kind else None,
        limit=limit,
    )
