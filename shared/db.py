"""Database access for the services: engines, and a session per worker.

``Database`` is a nameko DependencyProvider. Each worker gets its own
SQLAlchemy session; the unit of work ends *before* the RPC reply is sent or
the event is acknowledged (see ``shared.entrypoints``): commit when the
method returned, roll back when it raised. A failed commit turns into an
error reply, so a caller never hears "done" for something that was not
saved. The provider also runs the service's outbox relay, which it wakes
after every commit that wrote events.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.outbox import CONTEXT_KEY, OUTBOX_WRITTEN_KEY, PRODUCER_KEY, EventPublisher, OutboxRelay

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def make_engine(url: str, *, application_name: str = "bridgework", pool_size: int = 5) -> Engine:
    """An engine that checks connections before use and never connects at creation."""
    return create_engine(
        url,
        # Statement parameters hold patient data: keep them out of error messages and logs.
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        connect_args={"connect_timeout": 5, "application_name": application_name},
    )


def check_database(engine: Engine) -> None:
    """Raise unless the database answers a trivial query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class Database(DependencyProvider):
    """A session per worker, committed or rolled back before the caller is answered."""

    def __init__(self, *, url_key: str = "DB_URL") -> None:
        self.url_key = url_key
        self.engine: Engine | None = None
        self.relay: OutboxRelay | None = None
        self._sessions: WeakKeyDictionary[Any, Session] = WeakKeyDictionary()
        self._finished: WeakKeyDictionary[Any, bool] = WeakKeyDictionary()

    def setup(self) -> None:
        config = self.container.config
        service = self.container.service_name
        max_workers = int(config.get("max_workers", 10))
        self.engine = make_engine(
            config[self.url_key], application_name=service, pool_size=max_workers + 2
        )
        self._make_session = sessionmaker(bind=self.engine, expire_on_commit=False)
        if config.get("OUTBOX_RELAY", True):
            publisher = EventPublisher(config["AMQP_URI"], service)
            self.relay = OutboxRelay(
                self.engine,
                publisher,
                poll_interval=float(config.get("OUTBOX_POLL_INTERVAL", 0.5)),
            )

    def start(self) -> None:
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run)

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Session:
        # The worker's own context dict (not a copy): the request id may be set after this.
        session = self._make_session(
            info={PRODUCER_KEY: self.container.service_name, CONTEXT_KEY: worker_ctx.data}
        )
        self._sessions[worker_ctx] = session
        return session

    def finish(self, worker_ctx: Any, exc_info: ExcInfo | None) -> ExcInfo | None:
        """End the worker's unit of work: commit on success, roll back on error.

        Returns the error to report: the original one, or the commit's failure.
        """
        session = self._sessions.get(worker_ctx)
        if session is None or self._finished.get(worker_ctx):
            return exc_info
        self._finished[worker_ctx] = True
        if exc_info is not None:
            session.rollback()
            return exc_info
        try:
            session.commit()
        except Exception:
            session.rollback()
            log.exception("commit failed")
            return sys.exc_info()  # type: ignore[return-value]
        if session.info.pop(OUTBOX_WRITTEN_KEY, False) and self.relay is not None:
            self.relay.wake()
        return None

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        # Entrypoints without a reply (timers, http) end their unit of work here.
        self.finish(worker_ctx, exc_info)

    def worker_teardown(self, worker_ctx: Any) -> None:
        session = self._sessions.pop(worker_ctx, None)
        self._finished.pop(worker_ctx, None)
        if session is not None:
            session.close()


def finish_units_of_work(worker_ctx: Any, exc_info: ExcInfo | None) -> ExcInfo | None:
    """Commit or roll back every Database of the worker's service; the error to report."""
    for provider in worker_ctx.container.dependencies:
        if isinstance(provider, Database):
            exc_info = provider.finish(worker_ctx, exc_info)
    return exc_info
