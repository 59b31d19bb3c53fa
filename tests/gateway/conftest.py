"""The gateway app with its Services replaced by a fake identity, and keys made in the test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient's httpx backend will change; nothing to act on.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gateway.main import create_app
from gateway.settings import GatewaySettings
from shared.contracts.identity import Revocations
from tests.gateway.fakes import FakeServices, SigningKey, Subject, default_answers


@pytest.fixture
def key() -> SigningKey:
    return SigningKey(kid="k-2026-05")


@pytest.fixture
def subject() -> Subject:
    return Subject()


@pytest.fixture
def fake(key: SigningKey, subject: Subject) -> FakeServices:
    return FakeServices(default_answers(key, subject))


def make_app(fake: FakeServices, key: SigningKey | None, **settings: Any) -> FastAPI:
    """The app without its lifespan (no broker); keys loaded as the background task would."""
    app = create_app(GatewaySettings(**settings))
    app.state.services = fake
    if key is not None:
        app.state.auth.keys.load({"keys": [key.jwk()]})
        app.state.auth.revocations.apply(Revocations(cursor=0, entries=[]))
    return app


@pytest.fixture
def app(fake: FakeServices, key: SigningKey) -> FastAPI:
    return make_app(fake, key)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookies are Secure, and the client only sends those over TLS.
    with_tls = TestClient(app, base_url="https://testserver")
    yield with_tls
    with_tls.close()
