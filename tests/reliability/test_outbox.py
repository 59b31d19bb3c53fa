"""No lost facts, no doubled facts: the outbox relay and the idempotent consumer."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kombu import Connection, Producer

from shared.contracts.events import EventEnvelope
from shared.errors import RemoteError
from shared.outbox import events_exchange
from tests.reliability.conftest import Probes
from tests.reliability.probe_contracts import ProbeEmitted
from tests.support.infra import (
    ensure_rabbit_running,
    metric_value,
    rabbitmqctl,
    token,
    wait_for,
)

HANDLED = (
    'bridgework_events_handled_total{{consumer="probe_consumer.handle_probe_emitted",'
    'outcome="{outcome}"}}'
)


def assert_delivered_once(probes: Probes, batch: str, count: int) -> None:
    rows = wait_for(
        lambda: (r := probes.received(batch)) and len(r) >= count and r,
        timeout=120,
        interval=0.5,
        what=f"{count} events of {batch}",
    )
    time.sleep(1.0)  # a late duplicate would land now
    rows = probes.received(batch)
    assert len(rows) == count, f"{len(rows)} rows for {count} events"
    assert len({event_id for event_id, _ in rows}) == count
    assert sorted(seq for _, seq in rows) == list(range(count))
    outbox = probes.outbox(batch)
    assert len(outbox) == count
    assert all(published_at is not None and routed for _, published_at, routed in outbox)


@pytest.mark.broker_restart
def test_a_thousand_events_survive_a_broker_restart_mid_stream(probes: Probes) -> None:
    probes.ensure_running()
    batch = f"restart-{token()}"
    written = threading.Event()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for start in range(0, 1000, 50):
                probes.write_events(batch, start + 50, start)
                time.sleep(0.15)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            written.set()

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        wait_for(lambda: len(probes.received(batch)) >= 150, timeout=60, what="the stream to flow")
        rabbitmqctl("stop_app")
        time.sleep(2.0)  # events keep being committed while the broker is down
    finally:
        ensure_rabbit_running()
    producer.join(120)
    assert written.is_set() and not errors, errors
    assert_delivered_once(probes, batch, 1000)
    # Both services rode out the outage in place (no restart by anyone).
    assert probes.processes["producer"].running and probes.processes["consumer"].running
    # The relay did meet the outage (and got past it).
    assert metric_value(probes.metrics("producer"), "bridgework_outbox_relay_failures_total") > 0
    # The gateway's kind of client found its way back too.
    wait_for(lambda: probes.rpc.connected, timeout=30, what="the rpc client to reconnect")
    assert probes.rpc.call("probe_producer", "echo", kwargs={"value": "back"}) == "back"


@pytest.mark.parametrize("crash_point", ["before_publish", "after_publish"])
def test_a_relay_crash_between_commit_and_publish_loses_nothing(
    probes: Probes, crash_point: str
) -> None:
    probes.ensure_running()
    producer = probes.processes["producer"]
    producer.stop()
    producer.start(BRIDGEWORK_OUTBOX_CRASH=crash_point)
    batch = f"crash-{crash_point}-{token()}"
    probes.write_events(batch, 20)
    assert producer.wait_exit(timeout=30) == 70  # died at the injected point

    published = [row for row in probes.outbox(batch) if row[1] is not None]
    assert published == []  # committed, never marked published
    expected_on_the_wire = 0 if crash_point == "before_publish" else 1
    time.sleep(1.0)
    assert len(probes.received(batch)) == expected_on_the_wire

    probes.start("producer")
    assert_delivered_once(probes, batch, 20)
    if crash_point == "after_publish":
        # The first event went out twice (before and after the crash); it was handled once.
        assert metric_value(probes.metrics("consumer"), HANDLED.format(outcome="duplicate")) >= 1


def test_a_rolled_back_transaction_publishes_nothing(probes: Probes) -> None:
    probes.ensure_running()
    failed, marker = f"rolled-back-{token()}", f"marker-{token()}"
    with pytest.raises(RemoteError) as raised:
        probes.rpc.call(
            "probe_producer", "emit", kwargs={"batch": failed, "count": 5, "fail": True}
        )
    assert raised.value.remote_kind == "conflict"
    assert probes.rpc.call("probe_producer", "emit", kwargs={"batch": marker, "count": 1}) == 1
    assert_delivered_once(probes, marker, 1)  # published after the failed one would have been
    assert probes.outbox(failed) == []
    assert probes.received(failed) == []


def test_an_event_delivered_three_times_is_handled_once(probes: Probes) -> None:
    probes.ensure_running()
    batch = f"redelivered-{token()}"
    envelope = EventEnvelope.wrap(ProbeEmitted(batch=batch, seq=0), producer="probe_producer")
    with Connection(probes.amqp_uri) as conn:
        producer = Producer(conn.default_channel, exchange=events_exchange("probe_producer"))
        for _ in range(3):
            producer.publish(
                envelope.model_dump(mode="json"),
                routing_key="probe_emitted",
                serializer="json",
                message_id=str(envelope.event_id),
            )
    rows = wait_for(lambda: probes.received(batch), timeout=30, what="the event")
    time.sleep(1.0)
    assert probes.received(batch) == rows
    assert rows == [(str(envelope.event_id), 0)]


def test_an_event_that_breaks_its_contract_is_dropped_not_retried(probes: Probes) -> None:
    probes.ensure_running()
    batch = f"broken-{token()}"
    rejected = HANDLED.format(outcome="rejected")
    before = metric_value(probes.metrics("consumer"), rejected)
    with Connection(probes.amqp_uri) as conn:
        producer = Producer(conn.default_channel, exchange=events_exchange("probe_producer"))
        producer.publish(
            {"event_type": "probe_emitted", "data": {"batch": batch}},  # no id, no version
            routing_key="probe_emitted",
            serializer="json",
        )
    wait_for(
        lambda: metric_value(probes.metrics("consumer"), rejected) == before + 1,
        timeout=30,
        what="the rejection",
    )
    assert probes.received(batch) == []


def test_the_request_id_travels_with_the_event_into_the_consumers_log(probes: Probes) -> None:
    probes.ensure_running()
    batch, request_id = f"traced-{token()}", f"trace-{token()}"
    probes.rpc.call(
        "probe_producer",
        "emit",
        kwargs={"batch": batch, "count": 1},
        context={"request_id": request_id},
    )
    assert_delivered_once(probes, batch, 1)

    def consumer_lines() -> list[dict[str, object]]:
        log = probes.processes["consumer"].log().splitlines()
        lines = [json.loads(line) for line in log if line.startswith("{")]
        return [line for line in lines if line.get("request_id") == request_id]

    lines = wait_for(consumer_lines, timeout=10, what="the consumer's log line")
    assert any(line.get("entrypoint") == "handle_probe_emitted" for line in lines)
