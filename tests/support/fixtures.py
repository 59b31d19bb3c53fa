"""Pytest fixtures for in-process service tests (run under `nameko test`, monkey-patched).

A session-wide throwaway vhost; per test a throwaway database migrated to
the service's head; ``run_service`` starts the real service class in this
process on both, with its health server on a free port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.infra import free_port, throwaway_databases, throwaway_vhost


@pytest.fixture(scope="session")
def amqp_uri() -> Iterator[str]:
    with throwaway_vhost("bwtest-svc") as uri:
        yield uri


@pytest.fixture
def migrated_database() -> Iterator[Callable[[str], str]]:
    """Call with a service name: a fresh database at that service's migration head."""
    from shared.migrations import upgrade

    stack = []

    def make(service: str) -> str:
        manager = throwaway_databases(service)
        url = manager.__enter__()[service]
        stack.append(manager)
        upgrade((service,), url=url)
        return url

    yield make
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture
def run_service(
    container_factory: Any, amqp_uri: str, migrated_database: Callable[[str], str]
) -> Callable[..., tuple[Any, dict[str, Any]]]:
    """Start ``service_cls`` in-process on the test vhost and a fresh database."""
    from shared.config import load_service_config

    def start(
        service_cls: type, *, database: str | None = None, **overrides: Any
    ) -> tuple[Any, dict[str, Any]]:
        """``database`` names the service whose config and migrations to use (default: its own)."""
        name = database or service_cls.name
        config = load_service_config(name)
        config.pop("LOGGING", None)  # pytest captures the logs
        config.update(
            AMQP_URI=amqp_uri,
            DB_URL=migrated_database(name),
            WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}",
            **overrides,
        )
        container = container_factory(service_cls, config)
        container.start()
        return container, config

    return start
