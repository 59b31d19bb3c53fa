"""Services that exist for the reliability suite, built from the same shared parts as ours.

They use ``ServiceBase`` (Database, outbox relay, request context, health),
``shared.entrypoints.rpc`` and ``event_handler`` exactly as the real
services do, with a few methods that make the behaviour observable.
"""

from __future__ import annotations

from typing import Any, ClassVar

import eventlet
import eventlet.event
from sqlalchemy import text

from shared.contracts.events import EventEnvelope
from shared.entrypoints import event_handler, rpc
from shared.errors import Conflict
from shared.outbox import record_event
from shared.service import ServiceBase
from tests.reliability.probe_contracts import ProbeEmitted


class ProbeProducer(ServiceBase):
    name = "probe_producer"
    version = "0.0.1"

    @rpc
    def emit(self, batch: str, count: int, fail: bool = False) -> int:
        """Write ``count`` events in one transaction; raise afterwards when ``fail``."""
        for seq in range(count):
            record_event(self.db, ProbeEmitted(batch=batch, seq=seq))
        if fail:
            raise Conflict("asked to fail after writing", details={"batch": batch})
        return count

    @rpc
    def record_call(self, token: str) -> str:
        """Leave a trace that this call ran."""
        self.db.execute(text("INSERT INTO probe_calls (token) VALUES (:token)"), {"token": token})
        return token

    _arrived: ClassVar[dict[str, int]] = {}
    _everyone_here: ClassVar[dict[str, eventlet.event.Event]] = {}

    @rpc
    def rendezvous(self, group: str, size: int) -> int:
        """Return only once ``size`` calls of ``group`` are running at the same time."""
        self._arrived[group] = self._arrived.get(group, 0) + 1
        everyone_here = self._everyone_here.setdefault(group, eventlet.event.Event())
        if self._arrived[group] == size:
            everyone_here.send(True)
        with eventlet.Timeout(10):
            everyone_here.wait()
        return self._arrived[group]

    @rpc
    def echo(self, value: Any, delay: float = 0.0) -> Any:
        if delay:
            eventlet.sleep(delay)
        return value


class ProbeConsumer(ServiceBase):
    name = "probe_consumer"
    version = "0.0.1"

    @event_handler("probe_producer", ProbeEmitted)
    def handle_probe_emitted(self, envelope: EventEnvelope, event: ProbeEmitted) -> None:
        # No unique key here on purpose: a duplicate delivery would show as a second row.
        self.db.execute(
            text("INSERT INTO probe_received (event_id, batch, seq) VALUES (:id, :batch, :seq)"),
            {"id": envelope.event_id, "batch": event.batch, "seq": event.seq},
        )
