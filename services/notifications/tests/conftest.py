"""Fixtures: the notifications service in-process on the real broker and a fresh database,
fake identity/referrals/cases services beside it, and a real SMTP server (aiosmtpd) on
loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from notifications.service import NotificationsService
from shared.contracts.events import DomainEvent, EventEnvelope
from shared.errors import RemoteError
from shared.outbox import EventPublisher
from tests.support.infra import sql_rows, wait_for
from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (a fixture)

from .fakes import WORLD, FakeCases, FakeIdentity, FakeReferrals, World

PUBLIC_URL = "https://bw.example"


@dataclass
class Notifier:
    """The running service: publish events at it, call its RPCs, read its tables."""

    rpc: Any
    config: dict[str, Any]
    world: World
    smtp: SmtpServer | None
    start_fakes: Callable[[], None]

    def publish(self, producer: str, event: DomainEvent, *, times: int = 1) -> EventEnvelope:
        """Publish ``event`` as ``producer`` would (``times`` copies of one envelope)."""
        envelope = EventEnvelope.wrap(event, producer=producer)
        self.send(envelope, times=times)
        return envelope

    def send(self, envelope: EventEnvelope, *, times: int = 1) -> None:
        publisher = EventPublisher(self.config["AMQP_URI"], envelope.producer)
        try:
            for _ in range(times):
                routed = publisher.publish(envelope.model_dump(mode="json"), {})
                assert routed, f"nobody listens to {envelope.event_type}"
        finally:
            publisher.close()

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        return sql_rows(self.config["DB_URL"], query, *params)

    def handled(self, envelope: EventEnvelope, timeout: float = 20) -> None:
        """Wait until the service has claimed the event (its effects are committed)."""
        wait_for(
            lambda: self.sql(
                "SELECT 1 FROM processed_events WHERE event_id = %s", str(envelope.event_id)
            ),
            timeout=timeout,
            what=f"{envelope.event_type} to be handled",
        )

    def mail_rows(self) -> list[tuple[Any, ...]]:
        """(dedupe_key, status, attempts) of every queued, sent or failed message."""
        return self.sql(
            "SELECT dedupe_key, status, attempts FROM outgoing_mail ORDER BY created_at"
        )

    def error(self, method: str, **kwargs: Any) -> RemoteError:
        with pytest.raises(RemoteError) as raised:
            getattr(self.rpc, method)(**kwargs)
        return raised.value


@pytest.fixture
def world() -> World:
    """What the fake services answer, emptied for each test."""
    WORLD.__init__()  # type: ignore[misc]
    return WORLD


@pytest.fixture
def start_notifier(
    run_service: Any,
    container_factory: Any,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Notifier]]:
    """Start the fakes and the service with ``overrides`` of its config."""
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    proxies: list[Any] = []

    def start(smtp: SmtpServer | None = None, *, fakes: bool = True, **overrides: Any) -> Notifier:
        settings = {
            "PUBLIC_URL": PUBLIC_URL,
            "MAIL_FROM": "mail@bw.example",
            "MAIL_RETRY_SECONDS": 0.3,
            "MAIL_RETRY_MAX_SECONDS": 1,
            "MAIL_POLL_INTERVAL": 0.2,
            "SMTP_TIMEOUT": 5,
        }
        if smtp is not None:
            settings["SMTP_URL"] = smtp.url
        settings.update(overrides)
        _container, config = run_service(NotificationsService, **settings)

        def start_fakes() -> None:
            fake_config = {"AMQP_URI": config["AMQP_URI"]}
            for fake in (FakeIdentity, FakeReferrals, FakeCases):
                container_factory(fake, fake_config).start()

        if fakes:
            start_fakes()
        proxy = ServiceRpcProxy("notifications", config, timeout=20)
        proxies.append(proxy)
        return Notifier(proxy.start(), config, world, smtp, start_fakes)

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def notifier(start_notifier: Callable[..., Notifier], smtp_server: SmtpServer) -> Notifier:  # noqa: F811
    """The service sending to the test's SMTP server."""
    return start_notifier(smtp_server)
