"""The transactional outbox and the idempotent-consumer record.

Producer side: ``record_event(session, event)`` inserts the event into the
``outbox_messages`` table in the caller's transaction, so the fact and the
change it describes commit or roll back together. ``OutboxRelay`` then
publishes committed rows to the producer's ``<service>.events`` exchange
(topic, durable, the exchange nameko's ``event_handler`` binds to) with
publisher confirms and the mandatory flag, and marks them published. A crash
between publish and mark re-publishes the row later: delivery is at least
once, so consumers must be idempotent.

Consumer side: ``claim_event(session, consumer=..., event_id=...)`` records
the event id in ``processed_events`` in the consumer's transaction and says
whether this is its first delivery; a redelivery finds the row and is skipped.

An event that no queue is bound for comes back from the broker
(``basic.return``); the relay marks it published with ``routed = false`` and
counts it, rather than retrying forever a fact nobody subscribed to yet.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection, Exchange, Producer
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shared.contracts.events import DomainEvent, EventEnvelope
from shared.metrics import (
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
    OUTBOX_UNROUTED,
)

log = logging.getLogger(__name__)

messaging_metadata = MetaData()

outbox_messages = Table(
    "outbox_messages",
    messaging_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("routed", Boolean),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
)
Index(
    "ix_outbox_messages_unpublished",
    outbox_messages.c.id,
    postgresql_where=outbox_messages.c.published_at.is_(None),
)

processed_events = Table(
    "processed_events",
    messaging_metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Session.info keys the Database provider fills in for each worker's session.
PRODUCER_KEY = "bridgework.producer"
CONTEXT_KEY = "bridgework.context_data"
OUTBOX_WRITTEN_KEY = "bridgework.outbox_written"

CONFIRM_TIMEOUT_SECONDS = 10.0

# Test hook for the reliability suite: make the relay die at one exact point.
_CRASH_POINT = os.environ.get("BRIDGEWORK_OUTBOX_CRASH", "")


def record_event(session: Session, event: DomainEvent) -> EventEnvelope:
    """Write ``event`` to the outbox in ``session``'s transaction; returns its envelope."""
    producer = session.info.get(PRODUCER_KEY)
    if not producer:
        raise RuntimeError("record_event needs a session from the Database provider")
    envelope = EventEnvelope.wrap(event, producer=producer)
    context = session.info.get(CONTEXT_KEY) or {}
    headers = {
        f"nameko.{key}": value
        for key, value in context.items()
        if key in ("request_id", "call_id_stack") and value is not None
    }
    session.execute(
        insert(outbox_messages).values(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            payload=envelope.model_dump(mode="json"),
            headers=headers,
        )
    )
    session.info[OUTBOX_WRITTEN_KEY] = True
    return envelope


def claim_event(session: Session, *, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that ``consumer`` handles ``event_id``; False if it already did.

    Call it first in the handler, in the same transaction as the handler's
    effect: a concurrent duplicate waits on the row and then sees it.
    """
    inserted = session.execute(
        pg_insert(processed_events)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(processed_events.c.event_id)
    ).first()
    return inserted is not None


def events_exchange(producer: str) -> Exchange:
    """The topic exchange a service's events go to (the one nameko's event_handler binds)."""
    return Exchange(f"{producer}.events", type="topic", durable=True, auto_delete=False)


class EventPublisher:
    """Publishes envelopes with confirms + mandatory on one kombu connection."""

    def __init__(self, amqp_uri: str, producer: str, *, heartbeat: int = 0) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = events_exchange(producer)
        self.heartbeat = heartbeat
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: set[str] = set()

    def _connect(self) -> Producer:
        if self._producer is None:
            connection = Connection(
                self.amqp_uri,
                transport_options={"confirm_publish": True},
                connect_timeout=5,
                heartbeat=self.heartbeat,
            )
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            channel.events["basic_return"].add(self._on_return)
            self.exchange(channel).declare()
            self._connection = connection
            self._producer = Producer(channel, exchange=self.exchange)
        return self._producer

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        message_id = message.properties.get("message_id")
        if message_id:
            self._returned.add(message_id)

    def publish(self, payload: dict[str, Any], headers: dict[str, Any]) -> bool:
        """Publish one envelope; True when some queue took it, False when none is bound."""
        producer = self._connect()
        message_id = str(payload["event_id"])
        producer.publish(
            payload,
            routing_key=payload["event_type"],
            serializer="json",
            headers=headers,
            message_id=message_id,
            delivery_mode=2,
            mandatory=True,
            retry=False,
            # A half-open connection must not hang the relay.
            confirm_timeout=CONFIRM_TIMEOUT_SECONDS,
        )
        # The broker sends basic.return before the ack, so it has been seen by now.
        if message_id in self._returned:
            self._returned.discard(message_id)
            return False
        return True

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("closing the outbox connection failed", exc_info=True)
        self._connection = None
        self._producer = None
        self._returned.clear()


class OutboxRelay:
    """Moves committed outbox rows to the broker; one per service process.

    Several processes of one service may run relays on the same table: rows
    are taken with ``FOR UPDATE SKIP LOCKED`` so each is published by one of
    them at a time. ``wake()`` after a commit makes the relay look at once;
    otherwise it polls every ``poll_interval`` seconds.
    """

    def __init__(
        self,
        engine: Engine,
        publisher: EventPublisher,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 200,
        retention: timedelta = timedelta(days=7),
        sleep: Any = time.sleep,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention = retention
        self._sleep = sleep
        self._wake = threading.Event()
        self._stopping = False
        self._last_cleanup = 0.0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def run(self) -> None:
        """Relay until stopped, backing off while the broker or database is down."""
        backoff = 0.5
        while not self._stopping:
            try:
                while self.relay_batch():
                    pass
                self._cleanup()
                backoff = 0.5
                self._wake.wait(self.poll_interval)
                self._wake.clear()
            except Exception as exc:
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning("outbox relay paused: %s", exc.__class__.__name__, exc_info=True)
                self.publisher.close()
                self._sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        self.publisher.close()

    def relay_batch(self) -> int:
        """Publish one batch of unpublished rows; the number of rows taken."""
        error: Exception | None = None
        routed: list[int] = []
        unrouted: list[int] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(outbox_messages.c.id, outbox_messages.c.payload, outbox_messages.c.headers)
                .where(outbox_messages.c.published_at.is_(None))
                .order_by(outbox_messages.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                if _CRASH_POINT == "before_publish":
                    os._exit(70)
                try:
                    delivered = self.publisher.publish(row.payload, row.headers)
                except Exception as exc:  # noqa: BLE001 - recorded on the row, raised below
                    error = exc
                    conn.execute(
                        update(outbox_messages)
                        .where(outbox_messages.c.id == row.id)
                        .values(
                            attempts=outbox_messages.c.attempts + 1,
                            last_error=exc.__class__.__name__,
                        )
                    )
                    break
                (routed if delivered else unrouted).append(row.id)
                if _CRASH_POINT == "after_publish":
                    os._exit(70)
            # What did go out is marked even when the batch stopped half-way.
            self._mark(conn, routed, routed=True)
            self._mark(conn, unrouted, routed=False)
        if unrouted:
            log.warning("%d event(s) had no queue bound to their routing key", len(unrouted))
        if error is not None:
            raise error
        return len(rows)

    @staticmethod
    def _mark(conn: Any, ids: Iterable[int], *, routed: bool) -> None:
        ids = list(ids)
        if not ids:
            return
        conn.execute(
            update(outbox_messages)
            .where(outbox_messages.c.id.in_(ids))
            .values(published_at=func.now(), routed=routed)
        )
        (OUTBOX_PUBLISHED if routed else OUTBOX_UNROUTED).inc(len(ids))

    def pending(self) -> int:
        """How many committed events wait to be published."""
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(outbox_messages)
                .where(outbox_messages.c.published_at.is_(None))
            ).scalar_one()
        OUTBOX_PENDING.set(count)
        return int(count)

    def _cleanup(self) -> None:
        # Published rows and handled ids are kept a while (operators, late redeliveries),
        # then dropped; checked hourly.
        now = time.monotonic()
        if now - self._last_cleanup < 3600:
            return
        self._last_cleanup = now
        cutoff = datetime.now(UTC) - self.retention
        with self.engine.begin() as conn:
            conn.execute(
                delete(outbox_messages).where(
                    outbox_messages.c.published_at.is_not(None),
                    outbox_messages.c.published_at < cutoff,
                )
            )
            conn.execute(delete(processed_events).where(processed_events.c.handled_at < cutoff))
