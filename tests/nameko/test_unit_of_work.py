"""A worker's unit of work ends before its caller hears back, and errors say only what they may."""

from __future__ import annotations

import pytest
from nameko.exceptions import RemoteError as NamekoRemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text

from shared.entrypoints import rpc
from shared.errors import Conflict
from shared.service import ServiceBase
from tests.support.infra import sql_rows

LEDGER = """
CREATE TABLE ledger (
    key text NOT NULL,
    CONSTRAINT ledger_key UNIQUE (key) DEFERRABLE INITIALLY DEFERRED
)
"""


class LedgerService(ServiceBase):
    name = "ledger"

    @rpc
    def add(self, key: str, fail: bool = False, twice: bool = False) -> str:
        for _ in range(2 if twice else 1):
            self.db.execute(text("INSERT INTO ledger (key) VALUES (:key)"), {"key": key})
        if fail:
            raise Conflict(f"refused {key}", details={"key": key})
        return key

    @rpc
    def leak(self) -> None:
        raise ValueError("Jane Doe, born 1970-01-01")


@pytest.fixture
def ledger(run_service):
    _container, config = run_service(LedgerService, database="identity")
    sql_rows(config["DB_URL"], LEDGER)
    with ServiceRpcProxy("ledger", config, timeout=10) as proxy:
        yield proxy, config["DB_URL"]


def keys(url: str) -> list[str]:
    return [row[0] for row in sql_rows(url, "SELECT key FROM ledger ORDER BY key")]


def test_success_is_committed_before_the_reply(ledger) -> None:
    proxy, url = ledger
    assert proxy.add(key="a") == "a"
    assert keys(url) == ["a"]


def test_a_failed_commit_is_reported_as_an_error_not_success(ledger) -> None:
    proxy, url = ledger
    # The duplicate only breaks the deferred constraint at COMMIT, after the method returned.
    with pytest.raises(NamekoRemoteError) as raised:
        proxy.add(key="b", twice=True)
    assert raised.value.exc_type == "IntegrityError"
    assert "b" not in str(raised.value)  # the row's values stay in the service
    assert keys(url) == []


def test_an_error_rolls_the_work_back_and_keeps_its_kind(ledger) -> None:
    proxy, url = ledger
    with pytest.raises(NamekoRemoteError) as raised:
        proxy.add(key="c", fail=True)
    assert raised.value.exc_type == "Conflict"
    assert keys(url) == []


def test_an_unexpected_error_tells_the_caller_its_type_only(ledger) -> None:
    proxy, _ = ledger
    with pytest.raises(NamekoRemoteError) as raised:
        proxy.leak()
    assert raised.value.exc_type == "ValueError"
    assert "Jane" not in str(raised.value)
    assert "1970" not in str(raised.value)
