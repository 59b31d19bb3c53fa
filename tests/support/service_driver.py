"""Acting as the gateway towards a service running in-process (service tests).

Errors come back as ``shared.errors.RemoteError`` (``remote_kind``, ``details``),
so a test checks what the gateway would see; events are read from the
service's outbox table, the way they leave it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import RemoteError
from tests.support.infra import sql_rows


class ServiceDriver:
    """``rpc`` is the service's proxy: ``driver.method(**kwargs)`` calls it."""

    def __init__(self, rpc: Any, config: dict[str, Any]) -> None:
        self.rpc = rpc
        self.config = config

    def __getattr__(self, method: str) -> Callable[..., Any]:
        return getattr(self.rpc, method)

    def error(self, method: str, **kwargs: Any) -> RemoteError:
        """The error ``method`` answers with (the test fails if it succeeds)."""
        with pytest.raises(RemoteError) as raised:
            getattr(self.rpc, method)(**kwargs)
        return raised.value

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the service's own database."""
        return sql_rows(self.config["DB_URL"], query, *params)

    def events(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        """The data of the ``event_type`` events in the outbox, oldest first."""
        rows = self.sql(
            "SELECT payload FROM outbox_messages WHERE event_type = %s ORDER BY id", event_type
        )
        found = [row[0]["data"] for row in rows]
        return [d for d in found if all(d.get(k) == v for k, v in match.items())]
