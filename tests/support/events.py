"""Read a service's events off the real broker, as a consumer service would."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from kombu import Connection, Consumer, Queue

from shared.contracts.events import EventEnvelope
from shared.outbox import events_exchange
from tests.support.infra import token


class EventTap:
    """An exclusive queue bound to ``<producer>.events`` that keeps every envelope it receives."""

    def __init__(self, connection: Connection, producer: str) -> None:
        self.connection = connection
        self.received: list[EventEnvelope] = []
        queue = Queue(
            f"bwtest-tap-{producer}-{token()}",
            exchange=events_exchange(producer),
            routing_key="#",
            exclusive=True,
            auto_delete=True,
        )
        self.consumer = Consumer(
            connection.channel(), queues=[queue], callbacks=[self._keep], accept=["json"]
        )
        self.consumer.consume()

    def _keep(self, body: Any, message: Any) -> None:
        self.received.append(EventEnvelope.model_validate(body))
        message.ack()

    def wait(
        self,
        event_type: str,
        where: Callable[[dict[str, Any]], bool] = lambda data: True,
        *,
        timeout: float = 15.0,
    ) -> EventEnvelope:
        """The first ``event_type`` envelope whose data matches ``where``, waiting if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for envelope in self.received:
                if envelope.event_type == event_type and where(envelope.data):
                    return envelope
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [e.event_type for e in self.received]
                raise AssertionError(f"no {event_type} event within {timeout} s (saw {seen})")
            with contextlib.suppress(socket.timeout, TimeoutError):
                self.connection.drain_events(timeout=min(remaining, 0.5))

    def all(self, event_type: str, where: Callable[[dict[str, Any]], bool]) -> list[EventEnvelope]:
        """Every ``event_type`` envelope received so far whose data matches ``where``."""
        with contextlib.suppress(socket.timeout, TimeoutError):
            self.connection.drain_events(timeout=0.2)
        return [e for e in self.received if e.event_type == event_type and where(e.data)]


@contextlib.contextmanager
def event_tap(amqp_uri: str, producer: str) -> Iterator[EventTap]:
    """Listen to ``producer``'s events from now on; the queue goes away afterwards."""
    with Connection(amqp_uri) as connection:
        yield EventTap(connection, producer)
