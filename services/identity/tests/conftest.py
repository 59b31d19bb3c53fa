"""Fixtures: the identity service in-process on the real broker and a fresh database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from identity.service import IdentityService
from shared.errors import RemoteError

from .support import Identity


@pytest.fixture
def start_identity(
    run_service: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Identity]]:
    """Call with config overrides: the service started on a fresh database."""
    # Keep the error's kind and details, as the gateway's client does.
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    proxies: list[ServiceRpcProxy] = []

    def start(**overrides: Any) -> Identity:
        settings = {
            "JWT_PRIVATE_KEY_FILE": str(tmp_path / "jwt-ed25519.pem"),
            "VERIFY_LINK_TTL": 60,
            **overrides,
        }
        _container, config = run_service(IdentityService, **settings)
        proxy = ServiceRpcProxy("identity", config, timeout=15)
        proxies.append(proxy)
        return Identity(proxy.start(), config)

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def identity(start_identity: Callable[..., Identity]) -> Identity:
    return start_identity()
