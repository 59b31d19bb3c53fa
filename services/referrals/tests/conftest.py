"""Fixtures: identity and referrals in-process on the real broker, each on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from identity.service import IdentityService
from referrals.service import ReferralsService
from shared.errors import RemoteError

from .support import Bridge


@pytest.fixture
def bridge(run_service: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    """Identity and referrals running; the referrals proxy acts as the gateway."""
    # Keep the error's kind and details, as the gateway's client does.
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    _identity, identity_config = run_service(
        IdentityService, JWT_PRIVATE_KEY_FILE=str(tmp_path / "jwt-ed25519.pem")
    )
    _container, config = run_service(ReferralsService)
    with ServiceRpcProxy("referrals", config, timeout=20) as proxy:
        yield Bridge(proxy, config, identity_config["DB_URL"])
