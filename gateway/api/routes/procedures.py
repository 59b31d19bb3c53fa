"""Procedure lists: each receiving office keeps the procedures senders choose from when referring.
Forwarded to the referrals service, which owns them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from gateway.api.deps import ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.api.schemas import example
from gateway.auth.deps import CallerDep
from shared.contracts.referrals import ProcedureIn, ProcedureOut

router = APIRouter(prefix="/api/v1", tags=["procedures"])

PROCEDURE = example("A procedure the office performs", {"name": "Third molar extraction"})


@router.get(
    "/offices/{office_id}/procedures",
    response_model=list[ProcedureOut],
    summary="An office's procedure list, to choose from when referring to it",
    responses=errors(*SIGNED_IN, 404),
)
async def list_office_procedures(office_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "referrals", "list_procedures", caller=caller, office_id=str(office_id)
    )


@router.get(
    "/office/procedures",
    response_model=list[ProcedureOut],
    summary="The caller's office's own procedure list",
    responses=errors(*SIGNED_IN),
)
async def list_own_procedures(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "referrals", "list_procedures", caller=caller, office_id=str(caller.office_id)
    )


@router.post(
    "/office/procedures",
    status_code=status.HTTP_201_CREATED,
    response_model=ProcedureOut,
    summary="Add a procedure to the office's list",
    responses=errors(*SIGNED_IN, 409),
)
async def add_procedure(
    payload: Annotated[ProcedureIn, Body(openapi_examples=PROCEDURE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call("referrals", "add_procedure", caller=caller, payload=payload)


@router.delete(
    "/office/procedures/{procedure_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a procedure from the office's list",
    description="Referrals that already name it keep it.",
    responses=errors(*SIGNED_IN, 404),
)
async def remove_procedure(
    procedure_id: UUID, caller: CallerDep, services: ServicesDep
) -> Response:
    await services.call(
        "referrals", "remove_procedure", caller=caller, procedure_id=str(procedure_id)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
