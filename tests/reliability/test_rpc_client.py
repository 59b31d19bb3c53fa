"""The multiplexed RPC client on the real broker, against a real nameko service."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import DeadlineExceeded, RemoteError, Unavailable
from tests.reliability.conftest import Probes
from tests.support.infra import token


def test_concurrent_calls_from_threads_each_get_their_own_answer(probes: Probes) -> None:
    probes.ensure_running()

    def call(i: int) -> object:
        return probes.rpc.call("probe_producer", "echo", kwargs={"value": {"i": i}})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, range(300)))
    assert answers == [{"i": i} for i in range(300)]


def test_concurrent_calls_from_asyncio_are_in_flight_together(probes: Probes) -> None:
    probes.ensure_running()
    group = f"group-{token()}"

    async def main() -> list[object]:
        # Each call returns only when all eight are running in the service at once.
        calls = (
            probes.rpc.acall("probe_producer", "rendezvous", kwargs={"group": group, "size": 8})
            for _ in range(8)
        )
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [8] * 8


def test_a_typed_error_keeps_its_kind_message_and_details(probes: Probes) -> None:
    probes.ensure_running()
    with pytest.raises(RemoteError) as raised:
        probes.rpc.call("probe_producer", "emit", kwargs={"batch": "x", "count": 0, "fail": True})
    assert raised.value.remote_kind == "conflict"
    assert raised.value.message == "asked to fail after writing"
    assert raised.value.details == {"batch": "x"}


def test_a_wrong_call_names_the_method(probes: Probes) -> None:
    probes.ensure_running()
    with pytest.raises(RemoteError) as raised:
        probes.rpc.call("probe_producer", "no_such_method")
    assert raised.value.exc_type == "MethodNotFound"
    assert "no_such_method" in raised.value.message


def test_a_service_that_never_ran_is_unavailable_at_once(probes: Probes) -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable, match="the billing service is not running"):
        probes.rpc.call("billing", "ping", timeout=5)
    assert time.monotonic() - started < 5


def test_a_slow_answer_is_a_deadline_error_and_the_late_reply_is_ignored(probes: Probes) -> None:
    probes.ensure_running()
    with pytest.raises(DeadlineExceeded, match=r"within 0\.5 s"):
        probes.rpc.call("probe_producer", "echo", kwargs={"value": 1, "delay": 1.0}, timeout=0.5)
    time.sleep(0.7)  # the late reply arrives now and must not confuse the next call
    assert probes.rpc.call("probe_producer", "echo", kwargs={"value": 2}) == 2
