"""Checks every service passes, shared by the services' own test folders."""

from __future__ import annotations

from typing import Any

import httpx
from nameko.standalone.rpc import ServiceRpcProxy

from shared.contracts.common import ServiceInfo


def assert_service_starts_and_answers(run_service: Any, service_cls: type) -> None:
    """The service starts on its migrated database, answers ping and reports ready."""
    _container, config = run_service(service_cls)
    with ServiceRpcProxy(service_cls.name, config, timeout=10) as proxy:
        info = ServiceInfo.model_validate(proxy.ping())
    assert info == ServiceInfo(name=service_cls.name, version=service_cls.version)
    base = f"http://{config['WEB_SERVER_ADDRESS']}"
    ready = httpx.get(f"{base}/health/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "service": service_cls.name,
        "checks": {"database": "ok", "broker": "ok"},
        "failed": [],
    }
    assert httpx.get(f"{base}/health/live", timeout=10).json()["status"] == "live"
