"""The gateway's one RPC client, with the request's context on every call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client import Counter, Histogram
from pydantic import BaseModel

from gateway.observability import LATENCY_BUCKETS
from shared.contracts.common import ServiceInfo
from shared.errors import BridgeworkError
from shared.logging import request_id_var
from shared.rpc_client import RpcClient

RPC_CALLS = Counter(
    "bridgework_gateway_rpc_calls_total",
    "RPC calls from the gateway by service, method and outcome.",
    ["service", "method", "outcome"],
)
RPC_SECONDS = Histogram(
    "bridgework_gateway_rpc_seconds",
    "RPC round-trip time seen by the gateway.",
    ["service"],
    buckets=LATENCY_BUCKETS,
)


def wire_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments as they travel: Pydantic models (the caller, a payload) as their JSON form."""
    return {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in kwargs.items()
    }


class Services:
    """Calls the services on behalf of the current HTTP request."""

    def __init__(self, client: RpcClient, *, names: tuple[str, ...], timeout: float) -> None:
        self.client = client
        self.names = names
        self.timeout = timeout

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        """``service.method(**kwargs)``, carrying the request id; errors are BridgeworkErrors.

        Pydantic models among the arguments travel as their JSON form (``wire_kwargs``).
        """
        kwargs = wire_kwargs(kwargs)
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self.client.acall(
                service,
                method,
                kwargs=kwargs,
                timeout=timeout or self.timeout,
                context={"request_id": request_id_var.get()},
            )
        except BridgeworkError as exc:
            outcome = getattr(exc, "remote_kind", exc.kind)
            raise
        finally:
            RPC_CALLS.labels(service, method, outcome).inc()
            RPC_SECONDS.labels(service).observe(time.perf_counter() - started)

    async def ping(self, service: str, *, timeout: float) -> ServiceInfo:
        return ServiceInfo.model_validate(await self.call(service, "ping", timeout=timeout))

    async def ping_all(self, *, timeout: float) -> dict[str, ServiceInfo | BridgeworkError]:
        """Every service's ping answer, or the error it gave, all at once."""
        answers = await asyncio.gather(
            *(self.ping(name, timeout=timeout) for name in self.names), return_exceptions=True
        )
        results: dict[str, ServiceInfo | BridgeworkError] = {}
        for name, answer in zip(self.names, answers, strict=True):
            if isinstance(answer, ServiceInfo | BridgeworkError):
                results[name] = answer
            else:
                raise answer
        return results
