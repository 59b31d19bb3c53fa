"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.rpc import Services
from gateway.settings import GatewaySettings


# Dependencies are coroutines: FastAPI would run plain functions in a thread pool,
# a thread hop per request for a dictionary lookup.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_app_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[GatewaySettings, Depends(get_app_settings)]
