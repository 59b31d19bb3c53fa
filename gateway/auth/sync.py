"""Keeps the gateway's keys and revocations in step with the identity service.

Two background tasks, started with the app: one fetches the public keys (retrying
until identity answers, then every ``KEY_REFRESH_INTERVAL``), the other polls the
revocations every ``REVOCATION_POLL_INTERVAL``. Requests do not wait on them; only a
signed-in request arriving before the first fetches succeeded tries them itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

from pydantic import ValidationError

from gateway.auth.keys import KeyStore
from gateway.auth.revocations import RevocationList
from gateway.auth.tokens import TokenVerifier
from shared.contracts.identity import Revocations
from shared.errors import BridgeworkError

log = logging.getLogger(__name__)

#: A background call gives up sooner than a request would: it is retried anyway.
FETCH_TIMEOUT = 5.0
RETRY_FIRST, RETRY_MAX = 0.5, 5.0
#: A request waits this long at most for a fetch it set off itself (see Auth._catch_up).
CATCH_UP_TIMEOUT, CATCH_UP_INTERVAL = 2.0, 1.0


class RpcCaller(Protocol):
    """What the tasks need of ``gateway.rpc.Services``."""

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any: ...


class Auth:
    """The keys, the revocation list and the verifier built on them, kept fresh."""

    def __init__(self, *, key_refresh_interval: float, revocation_poll_interval: float) -> None:
        self.keys = KeyStore()
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(self.keys, self.revocations)
        self.key_refresh_interval = key_refresh_interval
        self.revocation_poll_interval = revocation_poll_interval
        self._services: RpcCaller | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._catch_up_lock = asyncio.Lock()
        self._last_catch_up = -CATCH_UP_INTERVAL

    async def start(self, services: RpcCaller) -> None:
        """Start the two tasks; they run until ``stop()``."""
        self._services = services
        self.keys.fetch = self._fetch_keys
        self.verifier.catch_up = self._catch_up
        self._tasks = [
            asyncio.create_task(self._keep_keys(), name="auth-keys"),
            asyncio.create_task(self._poll_revocations(), name="auth-revocations"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _fetch_keys(self, timeout: float = FETCH_TIMEOUT) -> Any:
        assert self._services is not None
        return await self._services.call("identity", "get_public_keys", timeout=timeout)

    async def _fetch_revocations(self, timeout: float = FETCH_TIMEOUT) -> None:
        assert self._services is not None
        answer = await self._services.call(
            "identity", "list_revocations", since=self.revocations.cursor, timeout=timeout
        )
        self.revocations.apply(Revocations.model_validate(answer))

    async def _keep_keys(self) -> None:
        retry = RETRY_FIRST
        health = _Health("the token keys")
        while True:
            try:
                await self.keys.refresh()
            except (BridgeworkError, ValueError) as exc:
                health.failed(exc)
                await asyncio.sleep(retry)
                retry = min(retry * 2, RETRY_MAX)
                continue
            health.ok(kids=self.keys.kids)
            retry = RETRY_FIRST
            await asyncio.sleep(self.key_refresh_interval)

    async def _poll_revocations(self) -> None:
        health = _Health("the revocations")
        while True:
            try:
                await self._fetch_revocations()
            except (BridgeworkError, ValidationError) as exc:
                health.failed(exc)
            else:
                health.ok(cursor=self.revocations.cursor)
            await asyncio.sleep(self.revocation_poll_interval)

    async def _catch_up(self) -> None:
        """A signed-in request came before the first fetches succeeded: try them now (at most
        once a second) rather than answer 503 until the next retry, since identity may have
        just started."""
        async with self._catch_up_lock:
            if self.verifier.ready:
                return
            if time.monotonic() - self._last_catch_up < CATCH_UP_INTERVAL:
                return
            self._last_catch_up = time.monotonic()
            with contextlib.suppress(BridgeworkError, ValueError, ValidationError):
                if not self.keys.ready:
                    self.keys.load(await self._fetch_keys(timeout=CATCH_UP_TIMEOUT))
                if not self.revocations.loaded:
                    await self._fetch_revocations(timeout=CATCH_UP_TIMEOUT)


class _Health:
    """Logs when fetching starts failing and when it works again, not on every attempt:
    a poll every two seconds would otherwise flood the log while identity is down."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing: bool | None = None  # None: never tried

    def failed(self, exc: Exception) -> None:
        if self.failing is not True:
            log.warning("cannot fetch %s; retrying", self.what, extra={"error": _describe(exc)})
        self.failing = True

    def ok(self, **extra: Any) -> None:
        if self.failing is not False:
            log.info("fetched %s", self.what, extra=extra)
        self.failing = False


def _describe(exc: Exception) -> str:
    return exc.message if isinstance(exc, BridgeworkError) else type(exc).__name__
