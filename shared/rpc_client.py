"""A multiplexed client for nameko's AMQP RPC protocol, for callers outside nameko.

One connection, one I/O thread that owns it, one exclusive reply queue
bound to the ``nameko-rpc`` exchange, and any number of concurrent calls
matched to their replies by correlation id. Callers in any thread (or an
asyncio loop) hand requests to the I/O thread through a queue and a wake-up
pipe, and wait on a ``concurrent.futures.Future``.

Why a single owner thread: a py-amqp connection is not thread-safe, and a
nameko ``ClusterRpcProxy`` shared between threads deadlocks. Why kombu: the
design names it, nameko itself speaks through it, and one well-kept client
for both sides keeps the protocol details (exchanges, properties,
heartbeats) in one library.

Guarantees:
- a request carries ``expiration`` = the time its caller still waits and a
  ``nameko.deadline`` header (epoch seconds): RabbitMQ drops it if it is
  still queued when the caller gives up, and the service drops it if it was
  already delivered but not started (``shared.entrypoints.Rpc``);
- requests are published with confirms and ``mandatory``: a service whose
  queue does not exist answers "unavailable" at once (basic.return), and a
  queue with no consumer (the service is stopped) is detected by a passive
  declare cached for ``presence_ttl`` seconds, so callers fail fast instead
  of waiting for their timeout;
- a lost connection fails every call in flight with ``Unavailable`` and the
  client reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import queue
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from amqp.exceptions import NotFound as QueueNotFound
from kombu import Connection, Consumer, Exchange, Producer, Queue

from shared.errors import DeadlineExceeded, RemoteError, Unavailable

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"


@dataclass(slots=True)
class _Request:
    future: concurrent.futures.Future[Any]
    correlation_id: str
    service: str
    method: str
    body: str
    deadline: float
    headers: dict[str, Any] = field(default_factory=dict)


class RpcClient:
    """Calls nameko RPC methods from threads or asyncio, many at a time, over one connection."""

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
        self._pending: dict[str, concurrent.futures.Future[Any]] = {}
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._presence: dict[str, tuple[float, int]] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._amqp: Any = None
        self._producer: Any = None
        self._check_channel: Any = None
        self.reply_to = ""

    # -- life cycle -------------------------------------------------------

    def start(self) -> None:
        """Start the I/O thread; it connects (and reconnects) in the background."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"rpc-{self.name}", daemon=True)
            self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the broker connection is up; False if it is not within ``timeout``."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        """Fail what is in flight, close the connection and end the I/O thread."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- calling ----------------------------------------------------------

    def submit(
        self,
        service: str,
        method: str,
        *,
        args: tuple[Any, ...] | list[Any] = (),
        kwargs: dict[str, Any] | None = None,
        timeout: float | None = None,
        context: dict[str, Any] | None = None,
    ) -> concurrent.futures.Future[Any]:
        """Send a call; the future holds the result or a BridgeworkError."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if not self._connected.is_set():
            future.set_exception(Unavailable("the message broker is not reachable"))
            return future
        correlation_id = uuid.uuid4().hex
        deadline = time.time() + (timeout or self.default_timeout)
        headers = {f"nameko.{key}": value for key, value in (context or {}).items() if value}
        headers["nameko.call_id_stack"] = [f"{self.name}.{method}.{correlation_id}"]
        headers["nameko.deadline"] = deadline
        request = _Request(
            future=future,
            correlation_id=correlation_id,
            service=service,
            method=method,
            body=json.dumps({"args": list(args), "kwargs": kwargs or {}}),
            deadline=deadline,
            headers=headers,
        )
        self._pending[correlation_id] = future
        future.add_done_callback(lambda _: self._pending.pop(correlation_id, None))
        self._requests.put(request)
        self._wake()
        return future

    def call(
        self, service: str, method: str, *, timeout: float | None = None, **options: Any
    ) -> Any:
        """Call and wait (blocking); raises DeadlineExceeded after ``timeout`` seconds."""
        timeout = timeout or self.default_timeout
        future = self.submit(service, method, timeout=timeout, **options)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise _deadline(service, method, timeout) from None

    async def acall(
        self, service: str, method: str, *, timeout: float | None = None, **options: Any
    ) -> Any:
        """Call and await; raises DeadlineExceeded after ``timeout`` seconds."""
        timeout = timeout or self.default_timeout
        future = self.submit(service, method, timeout=timeout, **options)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            future.cancel()
            raise _deadline(service, method, timeout) from None

    # -- the I/O thread ---------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already means "wake up"
            os.write(self._wake_w, b"x")

    def _run(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            try:
                self._open()
                delay = 0.2
                self._connected.set()
                log.info("rpc client connected", extra={"reply_to": self.reply_to})
                self._serve()
            except Exception as exc:  # noqa: BLE001 - any failure means: reconnect
                if not self._stopping.is_set():
                    log.warning("rpc client lost the broker: %s", exc.__class__.__name__)
            finally:
                self._connected.clear()
                self._close()
                self._fail_all(Unavailable("lost the connection to the message broker"))
            self._stopping.wait(delay)
            delay = min(delay * 2, 5.0)
        self._fail_all(Unavailable("the rpc client is stopping"))

    def _open(self) -> None:
        connection = Connection(
            self.amqp_uri,
            heartbeat=self.heartbeat,
            connect_timeout=self.connect_timeout,
            transport_options={"confirm_publish": True},
        )
        self._connection = connection
        connection.connect()
        self._amqp = connection.connection
        publish_channel = connection.channel()
        publish_channel.events["basic_return"].add(self._on_return)
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
        consumer = Consumer(
            connection.channel(),
            queues=[reply_queue],
            callbacks=[self._on_reply],
            no_ack=True,
            accept=["json"],
        )
        consumer.consume()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.release()
        self._connection = self._amqp = self._producer = self._check_channel = None

    def _serve(self) -> None:
        sock = self._amqp.sock
        tick = max(0.5, self.heartbeat / 4) if self.heartbeat else 1.0
        while not self._stopping.is_set():
            self._flush()
            readable, _, _ = select.select([sock, self._wake_r], [], [], tick)
            if self._wake_r in readable:
                os.read(self._wake_r, 65536)
            if sock in readable:
                self._drain(sock)
            if self.heartbeat:
                self._connection.heartbeat_check(rate=2)

    def _drain(self, sock: socket.socket) -> None:
        while True:
            try:
                self._amqp.drain_events(timeout=0.05)
            except TimeoutError:
                return
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return

    def _flush(self) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            remaining = request.deadline - time.time()
            if request.future.done() or remaining <= 0:
                continue  # the caller gave up: do not send work nobody waits for
            if not self._has_consumers(request.service):
                _settle(request.future, error=_not_running(request.service))
                continue
            self._producer.publish(
                request.body,
                routing_key=f"{request.service}.{request.method}",
                content_type="application/json",
                content_encoding="utf-8",
                headers=request.headers,
                reply_to=self.reply_to,
                correlation_id=request.correlation_id,
                expiration=remaining,
                delivery_mode=1,
                mandatory=True,
                retry=False,
            )

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

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        service = routing_key.split(".", 1)[0]
        self._presence.pop(service, None)
        future = self._pending.get(message.properties.get("correlation_id", ""))
        if future is not None:
            _settle(future, error=_not_running(service))

    def _on_reply(self, body: Any, message: Any) -> None:
        future = self._pending.get(message.properties.get("correlation_id", ""))
        if future is None:
            return  # its caller stopped waiting
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            _settle(future, error=RemoteError.from_wire(error))
        else:
            _settle(future, result=body.get("result") if isinstance(body, dict) else None)

    def _fail_all(self, error: Exception) -> None:
        while True:
            try:
                _settle(self._requests.get_nowait().future, error=error)
            except queue.Empty:
                break
        for future in list(self._pending.values()):
            _settle(future, error=error)


def _settle(
    future: concurrent.futures.Future[Any], *, result: Any = None, error: Exception | None = None
) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # cancelled by its caller
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


def _not_running(service: str) -> Unavailable:
    return Unavailable(f"the {service} service is not running", details={"service": service})


def _deadline(service: str, method: str, timeout: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the {service} service did not answer {method} within {timeout:g} s",
        details={"service": service, "method": method, "timeout": timeout},
    )
