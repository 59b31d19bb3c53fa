"""Fixtures: identity and cases in-process on the real broker, each on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from cases.service import CasesService
from identity.service import IdentityService
from shared.errors import RemoteError

from .planning_support import Planner
from .support import Bridge


def _run(run_service: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    # Keep the error's kind and details, as the gateway's client does.
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    _identity, identity_config = run_service(
        IdentityService, JWT_PRIVATE_KEY_FILE=str(tmp_path / "jwt-ed25519.pem")
    )
    _container, config = run_service(CasesService, PUBLIC_URL="https://bridgework.test")
    return config, identity_config["DB_URL"]


@pytest.fixture
def bridge(run_service: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    """Identity and cases running; the cases proxy acts as the gateway."""
    config, identity_db = _run(run_service, tmp_path, monkeypatch)
    with ServiceRpcProxy("cases", config, timeout=30) as proxy:
        yield Bridge(proxy, config, identity_db)


@pytest.fixture
def planner(run_service: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Planner]:
    """The same services, driven by the planning tests' helper."""
    config, identity_db = _run(run_service, tmp_path, monkeypatch)
    with ServiceRpcProxy("cases", config, timeout=30) as proxy:
        yield Planner(proxy, config, identity_db)
