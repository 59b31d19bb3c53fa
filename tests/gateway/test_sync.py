"""The background tasks that keep keys and revocations in step with identity."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gateway.auth import sync
from gateway.auth.sync import Auth
from gateway.main import create_app
from gateway.settings import GatewaySettings
from shared.errors import Unavailable
from tests.gateway.conftest import TestClient
from tests.gateway.fakes import FakeServices, SigningKey, Subject


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "RETRY_FIRST", 0.01)


class Flaky:
    """An answer that is 'identity is not running' until ``up`` is set."""

    def __init__(self, answer: Callable[[], object]) -> None:
        self.answer = answer
        self.up = False
        self.attempts = 0

    def __call__(self) -> object:
        self.attempts += 1
        if not self.up:
            raise Unavailable("the identity service is not running")
        return self.answer()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_keys_are_fetched_again_until_identity_answers(fake: FakeServices, key: SigningKey) -> None:
    flaky = Flaky(fake.answers["get_public_keys"])
    fake.answers["get_public_keys"] = flaky

    async def scenario() -> None:
        auth = Auth(key_refresh_interval=60, revocation_poll_interval=0.01)
        await auth.start(fake)
        try:
            await until(lambda: flaky.attempts >= 3)
            assert not auth.verifier.ready
            flaky.up = True
            await until(lambda: auth.verifier.ready)
            assert auth.keys.kids == [key.kid]
        finally:
            await auth.stop()

    asyncio.run(scenario())


def test_revocations_are_polled_from_the_cursor(fake: FakeServices, key: SigningKey) -> None:
    subject = Subject()
    revoked = {"session_id": str(subject.session_id), "revoked_before": datetime.now(UTC)}
    pages = iter([{"cursor": 3, "entries": []}, {"cursor": 4, "entries": [revoked]}])
    fake.answers["list_revocations"] = lambda: next(pages, {"cursor": 4, "entries": []})

    async def scenario() -> None:
        auth = Auth(key_refresh_interval=60, revocation_poll_interval=0.01)
        await auth.start(fake)
        try:
            await until(lambda: auth.revocations.cursor == 4)
            await until(lambda: len(fake.calls) >= 5)
        finally:
            await auth.stop()
        since = [c.kwargs["since"] for c in fake.calls if c.method == "list_revocations"]
        assert since[:3] == [0, 3, 4]
        assert auth.revocations.is_revoked(
            session_id=subject.session_id, subject=uuid.uuid4(), issued_at=time.time()
        )

    asyncio.run(scenario())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_app_starts_without_identity_and_signs_in_once_it_answers(
    fake: FakeServices, key: SigningKey, subject: Subject
) -> None:
    flaky = Flaky(fake.answers["get_public_keys"])
    fake.answers["get_public_keys"] = flaky
    settings = GatewaySettings(
        AMQP_URI=f"amqp://guest:guest@127.0.0.1:{free_port()}/",  # nothing listens: no broker
        REVOCATION_POLL_INTERVAL=0.05,
    )
    app = create_app(settings)
    app.state.services = fake
    headers = {"Authorization": f"Bearer {key.sign(subject.claims())}"}
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/health/live").status_code == 200
        assert client.get("/api/v1/me", headers=headers).status_code == 503
        flaky.up = True
        wait_until(lambda: app.state.auth.verifier.ready)
        assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_request_fetches_what_is_missing_rather_than_wait_for_the_next_retry(
    fake: FakeServices, key: SigningKey, subject: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "RETRY_FIRST", 60.0)  # the background task would wait a minute
    monkeypatch.setattr(sync, "CATCH_UP_INTERVAL", 0.05)
    flaky = Flaky(fake.answers["get_public_keys"])
    fake.answers["get_public_keys"] = flaky
    settings = GatewaySettings(
        AMQP_URI=f"amqp://guest:guest@127.0.0.1:{free_port()}/", REVOCATION_POLL_INTERVAL=60
    )
    app = create_app(settings)
    app.state.services = fake
    headers = {"Authorization": f"Bearer {key.sign(subject.claims())}"}
    with TestClient(app, base_url="https://testserver") as client:
        wait_until(lambda: flaky.attempts >= 1)
        assert client.get("/api/v1/me", headers=headers).status_code == 503
        flaky.up = True  # identity has just started
        time.sleep(0.1)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
