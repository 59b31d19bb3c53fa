"""A multiplexed client for nameko's AMQP RPC protocol, for callers outside nameko.

One connection, one exclusive reply queue bound to the ``nameko-rpc``
exchange, and any number of concurrent calls matched to their replies by
correlation id. The connection lives in one asyncio event loop: the
gateway's own (``await client.start_async()``), or a private loop in a
background thread for synchronous callers (``client.start()``, then
``client.call(...)`` from any thread). Reading is driven by the loop
(``add_reader`` on the socket), so in the gateway a call costs no thread
hand-off at all.

Why kombu/py-amqp: the design names kombu, nameko itself speaks through it,
and one library on both sides keeps the protocol details (exchanges,
properties, heartbeats) in one place. A py-amqp connection is not
thread-safe; here only the loop's thread touches it (a nameko
``ClusterRpcProxy`` shared between threads deadlocks for that reason).

Guarantees:
- a request carries ``expiration`` = the time its caller still waits and a
  ``nameko.deadline`` header (epoch seconds): RabbitMQ drops it if it is
  still queued when the caller gives up, and the service drops it if it was
  already delivered but not started (``shared.entrypoints.Rpc``);
- requests are published with ``mandatory`` on a channel in confirm mode,
  the confirms handled as they arrive rather than waited for one by one (so
  calls in flight pipeline): a service whose queue does not exist answers
  "unavailable" at once (basic.return), a request the broker refuses
  (basic.nack) fails at once, and a queue with no consumer (the service is
  stopped) is detected by a passive declare cached for ``presence_ttl``
  seconds, so callers fail fast instead of waiting for their timeout;
- a lost connection fails every call in flight with ``Unavailable`` and the
  client reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import select
import threading
import time
import uuid
from collections.abc import Coroutine
from typing import Any

from amqp.exceptions import NotFound as QueueNotFound
from kombu import Connection, Consumer, Exchange, Producer, Queue

from shared.errors import BridgeworkError, DeadlineExceeded, RemoteError, Unavailable

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"


class RpcClient:
    """Calls nameko RPC methods, many at a time, over one connection."""

    def __init__(
        self,
        amqp_uri: str,
        *,
        name: str = "client",
        exchange: str = RPC_EXCHANGE,
        default_timeout: float = 10.0,
        heartbeat: int = 30,
        presence_ttl: float = 1.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.name = name
        self.exchange = Exchange(exchange, type="topic", durable=True)
        self.default_timeout = default_timeout
        self.heartbeat = heartbeat
        self.presence_ttl = presence_ttl
        self.connect_timeout = connect_timeout
        self.reply_to = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connected = threading.Event()
        self._lost: asyncio.Event | None = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._presence: dict[str, tuple[float, int]] = {}
        self._unconfirmed: dict[int, str] = {}
        self._delivery_tag = 0
        self._connection: Any = None
        self._amqp: Any = None
        self._sock: Any = None
        self._producer: Any = None
        self._check_channel: Any = None

    # -- life cycle -------------------------------------------------------

    async def start_async(self) -> None:
        """Run in the current event loop; connects (and reconnects) in the background."""
        if self._supervisor is None:
            self._loop = asyncio.get_running_loop()
            self._supervisor = self._loop.create_task(self._supervise())

    async def stop_async(self) -> None:
        """Fail what is in flight and close the connection."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    def start(self) -> None:
        """Run in a private event loop on a background thread (for synchronous callers)."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start_async())
            started.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"rpc-{self.name}", daemon=True)
        self._thread.start()
        started.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the private loop started by ``start()``."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()
        self._thread = None

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the broker connection is up; False if it is not within ``timeout``."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- calling ----------------------------------------------------------

    async def acall(
        self,
        service: str,
        method: str,
        *,
        args: tuple[Any, ...] | list[Any] = (),
        kwargs: dict[str, Any] | None = None,
        timeout: float | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any:
        """Call and await the answer; errors are BridgeworkErrors.

        Raises DeadlineExceeded after ``timeout`` seconds, Unavailable when the
        broker or the service is not there, RemoteError for the service's errors.
        """
        timeout = timeout or self.default_timeout
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # another loop or thread: hand over to the client's loop
            assert self._loop is not None, "start the client first"
            coroutine = self.acall(
                service, method, args=args, kwargs=kwargs, timeout=timeout, context=context
            )
            return await asyncio.wrap_future(self._submit(coroutine))
        if not self._connected.is_set():
            raise Unavailable("the message broker is not reachable")
        correlation_id = uuid.uuid4().hex
        reply: asyncio.Future[Any] = loop.create_future()
        self._pending[correlation_id] = reply
        try:
            self._publish(service, method, args, kwargs, timeout, context, correlation_id)
            async with asyncio.timeout(timeout):
                return await reply
        except TimeoutError:
            raise _deadline(service, method, timeout) from None
        finally:
            self._pending.pop(correlation_id, None)

    def call(
        self, service: str, method: str, *, timeout: float | None = None, **options: Any
    ) -> Any:
        """Call and wait, from any thread but the client's loop; like ``acall``."""
        timeout = timeout or self.default_timeout
        future = self._submit(self.acall(service, method, timeout=timeout, **options))
        return future.result(timeout + 5)  # acall's own timeout fires first

    def _submit(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None, "start the client first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def _publish(
        self,
        service: str,
        method: str,
        args: tuple[Any, ...] | list[Any],
        kwargs: dict[str, Any] | None,
        timeout: float,
        context: dict[str, Any] | None,
        correlation_id: str,
    ) -> None:
        deadline = time.time() + timeout
        headers = {f"nameko.{key}": value for key, value in (context or {}).items() if value}
        headers["nameko.call_id_stack"] = [f"{self.name}.{method}.{correlation_id}"]
        headers["nameko.deadline"] = deadline
        try:
            present = self._has_consumers(service)
            if present:
                self._publish_request(
                    json.dumps({"args": list(args), "kwargs": kwargs or {}}),
                    routing_key=f"{service}.{method}",
                    headers=headers,
                    correlation_id=correlation_id,
                    expiration=timeout,
                )
        except Exception as exc:  # noqa: BLE001 - the socket or the protocol broke
            self._connection_lost(exc)
            raise Unavailable("lost the connection to the message broker") from None
        if not present:
            raise _not_running(service)

    def _publish_request(self, body: str, *, correlation_id: str, **properties: Any) -> None:
        self._producer.publish(
            body,
            content_type="application/json",
            content_encoding="utf-8",
            reply_to=self.reply_to,
            correlation_id=correlation_id,
            delivery_mode=1,
            mandatory=True,
            retry=False,
            **properties,
        )
        self._delivery_tag += 1
        self._unconfirmed[self._delivery_tag] = correlation_id

    def _has_consumers(self, service: str) -> bool:
        now = time.monotonic()
        cached = self._presence.get(service)
        if cached is not None and now - cached[0] < self.presence_ttl:
            return cached[1] > 0
        try:
            consumers = self._check_channel.queue_declare(
                queue=f"rpc-{service}", passive=True
            ).consumer_count
        except QueueNotFound:
            consumers = 0
            self._check_channel = self._connection.channel()  # the broker closed the old one
        self._presence[service] = (now, consumers)
        return consumers > 0

    # -- the connection ----------------------------------------------------

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.2
        try:
            while True:
                self._lost = asyncio.Event()
                try:
                    # Connecting blocks (up to connect_timeout): not on the loop's thread.
                    await loop.run_in_executor(None, self._open)
                except Exception as exc:  # noqa: BLE001 - any failure means: try again later
                    log.warning("rpc client cannot reach the broker: %s", exc.__class__.__name__)
                    self._close()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.2
                loop.add_reader(self._sock, self._on_readable)
                self._connected.set()
                log.info("rpc client connected", extra={"reply_to": self.reply_to})
                await self._keep_alive()
                await asyncio.sleep(delay)
        finally:
            self._teardown(Unavailable("the rpc client stopped"))

    async def _keep_alive(self) -> None:
        """Send and check heartbeats until the connection is lost."""
        assert self._lost is not None
        tick = max(0.5, self.heartbeat / 4) if self.heartbeat else 3600.0
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):
                    await self._lost.wait()
            if self.heartbeat and not self._lost.is_set():
                try:
                    self._connection.heartbeat_check(rate=2)
                except Exception as exc:  # noqa: BLE001 - a missed heartbeat is a lost connection
                    self._connection_lost(exc)

    def _open(self) -> None:
        connection = Connection(
            self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=self.connect_timeout
        )
        self._connection = connection
        connection.connect()
        self._amqp = connection.connection
        self._sock = self._amqp.sock
        # Timeout mode, not blocking mode: Python then waits with poll() on a
        # non-blocking descriptor, which is also what uvloop's add_reader makes it.
        self._sock.settimeout(self.connect_timeout)
        publish_channel = connection.channel()
        publish_channel.confirm_select()
        publish_channel.events["basic_return"].add(self._on_return)
        publish_channel.events["basic_ack"].add(self._on_ack)
        publish_channel.events["basic_nack"].add(self._on_nack)
        self._delivery_tag = 0
        self._unconfirmed.clear()
        self._producer = Producer(publish_channel, exchange=self.exchange)
        self._check_channel = connection.channel()
        self._presence.clear()
        self.reply_to = uuid.uuid4().hex
        reply_queue = Queue(
            f"rpc.reply-{self.name}-{self.reply_to}",
            exchange=self.exchange,
            routing_key=self.reply_to,
            exclusive=True,
            auto_delete=True,
        )
        Consumer(
            connection.channel(),
            queues=[reply_queue],
            callbacks=[self._on_reply],
            no_ack=True,
            accept=["json"],
        ).consume()

    def _on_readable(self) -> None:
        try:
            while True:
                try:
                    self._amqp.drain_events(timeout=0.05)
                except TimeoutError:
                    return
                readable, _, _ = select.select([self._sock], [], [], 0)
                if not readable:
                    return
        except Exception as exc:  # noqa: BLE001 - the socket or the protocol broke
            self._connection_lost(exc)

    def _connection_lost(self, exc: BaseException) -> None:
        if self._lost is not None and not self._lost.is_set():
            log.warning("rpc client lost the broker: %s", exc.__class__.__name__)
            self._teardown(Unavailable("lost the connection to the message broker"))
            self._lost.set()

    def _teardown(self, error: BridgeworkError) -> None:
        self._connected.clear()
        if self._sock is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._sock)
        self._close()
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(error)

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.release()
        self._connection = self._amqp = self._sock = self._producer = self._check_channel = None

    # -- what the broker sends ---------------------------------------------

    def _on_reply(self, body: Any, message: Any) -> None:
        future = self._pending.get(message.properties.get("correlation_id", ""))
        if future is None or future.done():
            return  # its caller stopped waiting
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            future.set_exception(RemoteError.from_wire(error))
        else:
            future.set_result(body.get("result") if isinstance(body, dict) else None)

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        service = routing_key.split(".", 1)[0]
        self._presence.pop(service, None)
        self._fail(message.properties.get("correlation_id", ""), _not_running(service))

    def _confirmed(self, delivery_tag: int, multiple: bool) -> list[str]:
        """The correlation ids a broker ack/nack covers, forgotten as unconfirmed."""
        tags = [t for t in self._unconfirmed if t <= delivery_tag] if multiple else [delivery_tag]
        return [cid for cid in (self._unconfirmed.pop(t, None) for t in tags) if cid]

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._confirmed(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        for correlation_id in self._confirmed(delivery_tag, multiple):
            self._fail(correlation_id, Unavailable("the message broker refused the request"))

    def _fail(self, correlation_id: str, error: BridgeworkError) -> None:
        future = self._pending.get(correlation_id)
        if future is not None and not future.done():
            future.set_exception(error)


def _not_running(service: str) -> Unavailable:
    return Unavailable(f"the {service} service is not running", details={"service": service})


def _deadline(service: str, method: str, timeout: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the {service} service did not answer {method} within {timeout:g} s",
        details={"service": service, "method": method, "timeout": timeout},
    )
