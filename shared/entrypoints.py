"""Nameko entrypoints with Bridgework's guarantees.

- ``rpc``: nameko's RPC entrypoint, plus
  - a request whose caller's deadline (``nameko.deadline`` header, epoch
    seconds) has passed is dropped unexecuted: no work runs after its caller
    gave up, even if it sat in a stopped process's prefetch buffer;
  - the unit of work is committed (or rolled back) before the reply is sent;
  - an error reply carries the error's ``kind``, ``message`` and ``details``
    beside nameko's own keys, so the gateway maps it in one table. Errors
    that are not ``BridgeworkError`` are reported by type name only: their
    text may hold data that must not leave the service.
- ``event_handler``: a nameko event handler that validates the envelope and
  payload against the contract, skips redeliveries (``claim_event`` in the
  same transaction as the effect), commits before the message is acked, and
  requeues (after a pause) when the handler failed, so a fact is not lost to
  a database outage.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.semaphore
import kombu.serialization
from amqp.exceptions import AMQPError
from kombu import Connection, Producer
from kombu.exceptions import KombuError
from nameko.events import EventHandler as _NamekoEventHandler
from nameko.exceptions import (
    IncorrectSignature,
    MalformedRequest,
    MethodNotFound,
    UnserializableValueError,
    serialize,
)
from nameko.messaging import QueueConsumer as _NamekoQueueConsumer
from nameko.rpc import Rpc as _NamekoRpc
from nameko.rpc import RpcConsumer as _NamekoRpcConsumer
from nameko.rpc import get_rpc_exchange
from pydantic import ValidationError

from shared.contracts.events import DomainEvent, EventEnvelope
from shared.db import finish_units_of_work
from shared.errors import BridgeworkError
from shared.metrics import EVENTS_HANDLED, STALE_REQUESTS_DROPPED
from shared.outbox import claim_event

log = logging.getLogger(__name__)

# What a lost broker connection looks like from py-amqp, kombu or the socket.
BROKER_ERRORS = (OSError, AMQPError, KombuError)
DEADLINE_HEADER = "nameko.deadline"
REQUEUE_PAUSE_SECONDS = 1.0
_PROTOCOL_ERRORS = (MethodNotFound, IncorrectSignature, MalformedRequest)


def wire_error(exc: BaseException) -> dict[str, Any]:
    """The ``error`` member of an RPC reply for ``exc``."""
    if isinstance(exc, BridgeworkError):
        return {**serialize(exc), **exc.to_wire()}
    if isinstance(exc, _PROTOCOL_ERRORS):
        # The caller's mistake in speaking to us (no such method, wrong arguments):
        # the text names only the method, so it may travel.
        return {**serialize(exc), "kind": "error", "message": str(exc), "details": None}
    name = type(exc).__name__
    return {
        "exc_type": name,
        "exc_path": f"{type(exc).__module__}.{name}",
        "exc_args": [],
        "value": f"internal error ({name})",
        "kind": "error",
        "message": "internal error",
        "details": None,
    }


def reply_body(message: Any, result: Any, exc_info: Any) -> tuple[dict[str, Any], Any]:
    """Nameko's reply ``{"result", "error"}`` for ``message``, and the error to report."""
    serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
    error = wire_error(exc_info[1]) if exc_info is not None else None
    try:
        kombu.serialization.dumps(result, serializer)
    except Exception:  # noqa: BLE001 - nameko's own safeguard, kept
        exc_info = sys.exc_info()
        error = wire_error(UnserializableValueError(result))
        result = None
    return {"result": result, "error": error}, exc_info


class ReplyPublisher:
    """One long-lived channel for a process's RPC replies.

    Nameko builds a connection object and takes a pooled producer for every
    reply; on this path that was the largest cost of a call. Replies go
    without publisher confirms: a lost reply ends as the caller's timeout
    either way, and waiting for the broker would add a round trip to every
    call. One broken connection is replaced once per reply.
    """

    def __init__(self, amqp_uri: str, exchange: Any, *, ssl: Any = None) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.ssl = ssl
        self._lock = eventlet.semaphore.Semaphore()
        self._connection: Any = None
        self._producer: Any = None

    def publish(self, body: dict[str, Any], *, message: Any) -> None:
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._open().publish(
                        body,
                        serializer=kombu.serialization.registry.type_to_name[
                            message.properties["content_type"]
                        ],
                        routing_key=message.properties["reply_to"],
                        correlation_id=message.properties.get("correlation_id"),
                        delivery_mode=1,
                        retry=False,
                    )
                    return
                except BROKER_ERRORS:
                    self.close()
                    if attempt == 2:
                        raise

    def _open(self) -> Any:
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, ssl=self.ssl, connect_timeout=5)
            self._producer = Producer(self._connection.channel(), exchange=self.exchange)
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.release()
        self._connection = self._producer = None


class QueueConsumer(_NamekoQueueConsumer):
    """Nameko's consumer, surviving an ack or requeue on a connection that just died.

    Nameko catches only py-amqp's ConnectionError there; a reset socket would
    kill the whole container. The broker redelivers an unacknowledged message
    after it reconnects, and consumers are idempotent.
    """

    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except BROKER_ERRORS as exc:
            log.warning("could not acknowledge a message (%s); it will come again", _name(exc))

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except BROKER_ERRORS as exc:
            log.warning("could not requeue a message (%s); it will come again", _name(exc))


def _name(exc: BaseException) -> str:
    return exc.__class__.__name__


class RpcConsumer(_NamekoRpcConsumer):
    queue_consumer = QueueConsumer()

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.replies = ReplyPublisher(
            config["AMQP_URI"], get_rpc_exchange(config), ssl=config.get("AMQP_SSL")
        )

    def stop(self) -> None:
        super().stop()
        self.replies.close()

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        body, exc_info = reply_body(message, result, exc_info)
        try:
            self.replies.publish(body, message=message)
        except BROKER_ERRORS as exc:
            # The caller times out; a request that is redelivered later is dropped
            # by its deadline if the caller has given up by then.
            log.warning("could not send a reply (%s)", _name(exc))
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(_NamekoRpc):
    rpc_consumer = RpcConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        headers = message.headers or {}
        deadline = headers.get(DEADLINE_HEADER)
        late_by = time.time() - float(deadline) if deadline is not None else 0.0
        if late_by > 0:
            STALE_REQUESTS_DROPPED.inc()
            log.warning(
                "dropped a stale request: its caller stopped waiting",
                extra={
                    "method": self.method_name,
                    "late_by_seconds": round(late_by, 3),
                    "request_id": headers.get("nameko.request_id"),
                },
            )
            self.rpc_consumer.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Any, Any]:
        exc_info = finish_units_of_work(worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = Rpc.decorator


class EventHandler(_NamekoEventHandler):
    queue_consumer = QueueConsumer()

    def handle_result(
        self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None
    ) -> tuple[Any, Any]:
        exc_info = finish_units_of_work(worker_ctx, exc_info)
        if exc_info is not None and self.requeue_on_error:
            eventlet.sleep(REQUEUE_PAUSE_SECONDS)  # no hot loop while a dependency is down
        self.handle_message_processed(message, result, exc_info)
        return result, exc_info


def event_handler(
    source_service: str, event_model: type[DomainEvent], **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Handle ``event_model`` events of ``source_service`` once each.

    The decorated method is called as ``method(self, envelope, event)``
    with the validated envelope and payload; it runs in the transaction of
    ``self.db``, which also records the event id. A payload that breaks the
    contract is logged and dropped (requeueing it could never succeed).
    """
    options.setdefault("requeue_on_error", True)

    def decorate(method: Callable[..., Any]) -> Any:
        def handle(self: Any, payload: Any) -> Any:
            consumer = f"{self.name}.{method.__name__}"
            try:
                envelope = EventEnvelope.model_validate(payload)
                event = envelope.payload(event_model)
            except (ValidationError, ValueError) as exc:
                EVENTS_HANDLED.labels(consumer, "rejected").inc()
                log.error("rejected an event that breaks its contract: %s", exc.__class__.__name__)
                return None
            if not claim_event(self.db, consumer=consumer, event_id=envelope.event_id):
                EVENTS_HANDLED.labels(consumer, "duplicate").inc()
                return None
            result = method(self, envelope, event)
            EVENTS_HANDLED.labels(consumer, "handled").inc()
            return result

        # Not functools.wraps: nameko must see handle's own (payload) signature.
        handle.__name__ = method.__name__
        handle.__qualname__ = method.__qualname__
        handle.__doc__ = method.__doc__
        return EventHandler.decorator(source_service, event_model.event_type, **options)(handle)

    return decorate
