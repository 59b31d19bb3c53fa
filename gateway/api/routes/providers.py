"""The office's providers (doctors), with the display names the office chooses."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import IdempotencyKeyDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep
from shared.contracts.identity import ProviderIn, ProviderOut, ProviderUpdate

router = APIRouter(prefix="/api/v1/office/providers", tags=["office"])


@router.get(
    "",
    response_model=list[ProviderOut],
    summary="The office's providers",
    responses=errors(*SIGNED_IN),
)
async def list_providers(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "list_providers", caller=caller)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProviderOut,
    summary="Add a provider (office admin)",
    responses=errors(*SIGNED_IN),
)
async def create_provider(
    payload: Annotated[ProviderIn, Body(openapi_examples=schemas.PROVIDER)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "identity",
        "create_provider",
        caller=caller,
        payload=payload,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/{provider_id}",
    response_model=ProviderOut,
    summary="One provider",
    responses=errors(*SIGNED_IN, 404),
)
async def get_provider(provider_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "identity",
        "get_provider",
        caller=caller,
        provider_id=str(provider_id),
    )


@router.patch(
    "/{provider_id}",
    response_model=ProviderOut,
    summary="Rename a provider or change their specialty (office admin)",
    responses=errors(*SIGNED_IN, 404),
)
async def update_provider(
    provider_id: UUID,
    payload: Annotated[ProviderUpdate, Body(openapi_examples=schemas.PROVIDER_UPDATE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "identity",
        "update_provider",
        caller=caller,
        provider_id=str(provider_id),
        payload=payload.model_dump(mode="json", exclude_unset=True),
    )


@router.delete(
    "/{provider_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a provider (office admin)",
    responses=errors(*SIGNED_IN, 404),
)
async def delete_provider(provider_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    await services.call(
        "identity",
        "delete_provider",
        caller=caller,
        provider_id=str(provider_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
