"""API clients: other clinics' systems calling the API for an office (OAuth2 client credentials)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, IdempotencyKeyDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep
from shared.contracts.identity import ApiClientCreated, ApiClientIn, ApiClientOut

router = APIRouter(prefix="/api/v1/office/api-clients", tags=["api clients"])


@router.get(
    "",
    response_model=list[ApiClientOut],
    summary="The office's API clients (office admin)",
    responses=errors(*SIGNED_IN),
)
async def list_api_clients(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "list_api_clients", caller=caller)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiClientCreated,
    summary="Create an API client (office admin)",
    description=(
        "Answers the client id and secret; the secret is shown this once (it is stored "
        "hashed). Exchange them at POST /api/v1/oauth/token for an access token that acts for "
        "this office."
    ),
    responses=errors(*SIGNED_IN),
)
async def create_api_client(
    payload: Annotated[ApiClientIn, Body(openapi_examples=schemas.API_CLIENT)],
    response: Response,
    caller: CallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return await services.call(
        "identity",
        "create_api_client",
        caller=caller,
        payload=payload,
        client_ip=client_ip,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/{api_client_id}",
    response_model=ApiClientOut,
    summary="One API client (office admin)",
    responses=errors(*SIGNED_IN, 404),
)
async def get_api_client(api_client_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "identity",
        "get_api_client",
        caller=caller,
        api_client_id=str(api_client_id),
    )


@router.patch(
    "/{api_client_id}",
    response_model=ApiClientOut,
    summary="Rename an API client (office admin)",
    responses=errors(*SIGNED_IN, 404),
)
async def update_api_client(
    api_client_id: UUID,
    payload: Annotated[ApiClientIn, Body(openapi_examples=schemas.API_CLIENT)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "identity",
        "update_api_client",
        caller=caller,
        api_client_id=str(api_client_id),
        payload=payload,
    )


@router.delete(
    "/{api_client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke an API client (office admin)",
    description="Its tokens stop working within seconds.",
    responses=errors(*SIGNED_IN, 404),
)
async def revoke_api_client(
    api_client_id: UUID, caller: CallerDep, services: ServicesDep, client_ip: ClientIpDep
) -> Response:
    await services.call(
        "identity",
        "revoke_api_client",
        caller=caller,
        api_client_id=str(api_client_id),
        client_ip=client_ip,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
