"""Operator endpoints: liveness, readiness and metrics of the gateway."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import ServicesDep, SettingsDep
from shared.contracts.common import ServiceInfo

router = APIRouter(tags=["operations"])


@router.get("/health/live", summary="The gateway process is up (checks nothing else)")
async def live() -> dict[str, str]:
    return {"status": "live", "service": "gateway"}


@router.get(
    "/health/ready",
    summary="Ready when the broker is connected and every service answers ping",
    responses={503: {"description": "Names the services (or the broker) that failed"}},
)
async def ready(services: ServicesDep, settings: SettingsDep) -> JSONResponse:
    if not services.client.connected:
        checks = {"broker": "unreachable"}
    else:
        answers = await services.ping_all(timeout=settings.ready_timeout)
        checks = {
            name: "ok" if isinstance(answer, ServiceInfo) else answer.message
            for name, answer in answers.items()
        }
    failed = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "not_ready" if failed else "ready", "checks": checks, "failed": failed}
    return JSONResponse(status_code=503 if failed else 200, content=body)


@router.get("/metrics", summary="Prometheus text exposition", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
