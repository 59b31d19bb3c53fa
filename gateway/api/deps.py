"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.rpc import Services
from gateway.settings import GatewaySettings

USER_AGENT_MAX = 300  # the audit keeps it to tell sessions apart, not to fingerprint


# Dependencies are coroutines: FastAPI would run plain functions in a thread pool,
# a thread hop per request for a dictionary lookup.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_app_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def get_client_ip(request: Request) -> str | None:
    """The peer's address (uvicorn resolves X-Forwarded-For from trusted proxies only)."""
    return request.client.host if request.client else None


async def get_user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:USER_AGENT_MAX] if agent else None


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[GatewaySettings, Depends(get_app_settings)]
ClientIpDep = Annotated[str | None, Depends(get_client_ip)]
UserAgentDep = Annotated[str | None, Depends(get_user_agent)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string: a retry with the same key returns the first result.",
        examples=["3f2c9a7e-5d1b-4f7a-9e0c-1b2d3e4f5a6b"],
    ),
]
