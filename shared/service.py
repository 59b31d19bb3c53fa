"""What every Bridgework service has: ping, health, metrics, request context.

A service class inherits ``ServiceBase`` and sets ``name`` and ``version``::

    class ReferralsService(ServiceBase):
        name = "referrals"
        version = referrals.__version__

and gets a session per worker as ``self.db``, the ``ping`` RPC, and on its
own HTTP port (``WEB_SERVER_ADDRESS``) ``/health/live``, ``/health/ready``
and ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler, http
from werkzeug.wrappers import Request, Response

from shared.contracts.common import ServiceInfo
from shared.db import Database, check_database
from shared.entrypoints import rpc
from shared.errors import BridgeworkError
from shared.logging import new_request_id, request_id_var
from shared.metrics import ENTRYPOINT_CALLS, ENTRYPOINT_SECONDS, exposition

log = logging.getLogger(__name__)


class RequestContext(DependencyProvider):
    """Puts the request id on the worker's log lines and records entrypoint metrics."""

    def __init__(self) -> None:
        # Start times live here, not in worker_ctx.data: that travels on as context data.
        self._started: WeakKeyDictionary[Any, float] = WeakKeyDictionary()

    def worker_setup(self, worker_ctx: Any) -> None:
        request_id = worker_ctx.data.get("request_id")
        if not request_id:
            # A worker nobody asked for (a timer) still gets one id for its log lines
            # and everything it calls.
            request_id = new_request_id()
            worker_ctx.data["request_id"] = request_id
        request_id_var.set(request_id)
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        name = worker_ctx.entrypoint.method_name
        elapsed = time.perf_counter() - self._started.pop(worker_ctx, time.perf_counter())
        outcome = "ok" if exc_info is None else _error_kind(exc_info[1])
        ENTRYPOINT_SECONDS.labels(name).observe(elapsed)
        ENTRYPOINT_CALLS.labels(name, outcome).inc()
        # One line per worker (health and metrics scrapes only at debug level).
        quiet = isinstance(worker_ctx.entrypoint, HttpRequestHandler)
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s",
            name,
            outcome,
            extra={"entrypoint": name, "outcome": outcome, "duration_ms": round(elapsed * 1000, 2)},
        )

    def worker_teardown(self, worker_ctx: Any) -> None:
        request_id_var.set(None)


class Operations(DependencyProvider):
    """What the health and metrics endpoints look at: the service's own dependencies."""

    def get_dependency(self, worker_ctx: Any) -> Operations:
        return self

    def _databases(self) -> list[Database]:
        return [
            provider
            for provider in self.container.dependencies
            if isinstance(provider, Database) and provider.engine is not None
        ]

    def check(self) -> dict[str, str]:
        """Each dependency's state: "ok" or why it is not."""
        checks: dict[str, str] = {}
        for database in self._databases():
            checks["database"] = _outcome(check_database, database.engine)
        checks["broker"] = _outcome(_check_broker, self.container.config["AMQP_URI"])
        return checks

    def refresh_gauges(self) -> None:
        """Read the values that gauges report at scrape time (the outbox backlog)."""
        for database in self._databases():
            if database.relay is not None:
                _outcome(database.relay.pending)


def _error_kind(exc: BaseException) -> str:
    return exc.kind if isinstance(exc, BridgeworkError) else "error"


def _outcome(check: Any, *args: Any) -> str:
    try:
        check(*args)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", named below
        return f"unreachable ({exc.__class__.__name__})"
    return "ok"


def _check_broker(amqp_uri: str) -> None:
    with Connection(amqp_uri, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class ServiceBase:
    """Base of every service class: ping, health and metrics entrypoints."""

    name: str = "service"
    version: str = "0.0.0"

    db = Database()
    request_context = RequestContext()
    operations = Operations()

    @rpc
    def ping(self) -> dict[str, Any]:
        """The service's name and version."""
        return ServiceInfo(name=self.name, version=self.version).model_dump(mode="json")

    @http("GET", "/health/live")
    def health_live(self, request: Request) -> Response:
        """The process is up; checks nothing else."""
        return _json(200, {"status": "live", "service": self.name})

    @http("GET", "/health/ready")
    def health_ready(self, request: Request) -> Response:
        """200 when the database and the broker answer, else 503 naming what failed."""
        checks = self.operations.check()
        failed = sorted(name for name, state in checks.items() if state != "ok")
        status = "not_ready" if failed else "ready"
        body = {"status": status, "service": self.name, "checks": checks, "failed": failed}
        return _json(503 if failed else 200, body)

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        """Prometheus text exposition of this process's metrics."""
        self.operations.refresh_gauges()
        payload, content_type = exposition()
        return Response(payload, status=200, content_type=content_type)
