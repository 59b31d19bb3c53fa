"""Platform status: each service's name, version and whether it answers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.api.deps import ServicesDep, SettingsDep
from shared.contracts.common import ServiceInfo
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["status"])


class ServiceStatus(BaseModel):
    name: str = Field(examples=["referrals"])
    version: str | None = Field(default=None, examples=["0.1.0"])
    ready: bool
    problem: str | None = Field(default=None, examples=["the referrals service is not running"])


class PlatformStatus(BaseModel):
    ready: bool
    services: list[ServiceStatus]


@router.get("/status", response_model=PlatformStatus, summary="Every service's version and state")
async def platform_status(services: ServicesDep, settings: SettingsDep) -> PlatformStatus:
    answers = await services.ping_all(timeout=settings.ready_timeout)
    rows = [
        ServiceStatus(name=name, version=answer.version, ready=True)
        if isinstance(answer, ServiceInfo)
        else ServiceStatus(name=name, ready=False, problem=answer.message)
        for name, answer in answers.items()
    ]
    return PlatformStatus(ready=all(row.ready for row in rows), services=rows)


@router.get(
    "/status/{service}",
    response_model=ServiceStatus,
    summary="One service's version; 503 if it is not running",
    responses={404: {"description": "No such service"}, 503: {"description": "Not running"}},
)
async def service_status(
    service: str, services: ServicesDep, settings: SettingsDep
) -> ServiceStatus:
    if service not in services.names:
        raise NotFound(f"no service named {service!r}", details={"service": service})
    answer = await services.ping(service, timeout=settings.ready_timeout)
    return ServiceStatus(name=answer.name, version=answer.version, ready=True)
