"""No request runs after its caller gave up: neither from the queue nor from a stalled process."""

from __future__ import annotations

import pytest

from shared.errors import DeadlineExceeded
from shared.rpc_client import RpcClient
from tests.reliability.conftest import Probes
from tests.support.infra import metric_value, sql_rows, token

DROPPED = "bridgework_rpc_stale_requests_dropped_total"


def calls_recorded(probes: Probes, call_token: str) -> int:
    rows = sql_rows(
        probes.db_urls["producer"], "SELECT count(*) FROM probe_calls WHERE token = %s", call_token
    )
    return int(rows[0][0])


def test_a_request_queued_while_the_service_was_down_is_not_run_when_it_returns(
    probes: Probes,
) -> None:
    probes.ensure_running()
    # A client that believes the service is up (as right after it stopped) publishes the call.
    client = RpcClient(probes.amqp_uri, name="stale", presence_ttl=3600)
    client.start()
    try:
        assert client.wait_connected(10)
        assert client.call("probe_producer", "echo", kwargs={"value": 1}) == 1  # presence cached
        producer = probes.processes["producer"]
        producer.stop()
        stale = f"stale-{token()}"
        with pytest.raises(DeadlineExceeded):
            client.call("probe_producer", "record_call", kwargs={"token": stale}, timeout=1.0)
        probes.start("producer")
        fresh = f"fresh-{token()}"
        # The queue is first-in first-out: once the later call ran, the earlier one had its chance.
        assert client.call("probe_producer", "record_call", kwargs={"token": fresh}) == fresh
        assert calls_recorded(probes, fresh) == 1
        assert calls_recorded(probes, stale) == 0
    finally:
        client.stop()


def test_a_request_delivered_to_a_stalled_process_is_dropped_when_it_wakes(probes: Probes) -> None:
    probes.ensure_running()
    producer = probes.processes["producer"]
    stale = f"stalled-{token()}"
    dropped_before = metric_value(probes.metrics("producer"), DROPPED)
    producer.pause()  # SIGSTOP: its connection stays open, the broker still delivers to it
    try:
        with pytest.raises(DeadlineExceeded):
            probes.rpc.call("probe_producer", "record_call", kwargs={"token": stale}, timeout=1.0)
    finally:
        producer.resume()
    fresh = f"after-{token()}"
    assert probes.rpc.call("probe_producer", "record_call", kwargs={"token": fresh}) == fresh
    assert metric_value(probes.metrics("producer"), DROPPED) == dropped_before + 1
    assert calls_recorded(probes, stale) == 0
    assert "dropped a stale request" in producer.log()
