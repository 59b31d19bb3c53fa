"""Probe services on a throwaway vhost and databases, as real `nameko run` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from amqp.exceptions import NotFound
from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shared.outbox import PRODUCER_KEY, messaging_metadata, record_event
from shared.rpc_client import RpcClient
from tests.reliability.probe_contracts import PROBE_TABLES, ProbeEmitted
from tests.support.infra import (
    Process,
    base_env,
    free_port,
    sql_rows,
    throwaway_databases,
    throwaway_vhost,
    wait_for,
)

PROBE_CONFIG = "tests/reliability/probe.yaml"
CONSUMER_QUEUE = "evt-probe_producer-probe_emitted--probe_consumer.handle_probe_emitted"


class Probes:
    """The producer and consumer probe services and ways to look inside them."""

    def __init__(self, amqp_uri: str, db_urls: dict[str, str], log_dir: Path) -> None:
        self.amqp_uri = amqp_uri
        self.db_urls = db_urls
        self.ports = {name: free_port() for name in ("producer", "consumer")}
        self.processes = {
            name: Process(
                f"probe_{name}",
                f".venv/bin/nameko run --config {PROBE_CONFIG} "
                f"tests.reliability.probe_services:Probe{name.title()}",
                env=base_env(
                    AMQP_URI=amqp_uri,
                    PROBE_DB_URL=db_urls[name],
                    PROBE_HTTP_ADDRESS=f"127.0.0.1:{self.ports[name]}",
                    PROBE_NAME=f"probe_{name}",
                ),
                log_dir=log_dir,
            )
            for name in ("producer", "consumer")
        }
        self.producer_engine = create_engine(db_urls["producer"])
        self.rpc = RpcClient(amqp_uri, name="tests", default_timeout=10)

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def start(self, name: str, **env: str) -> Process:
        process = self.processes[name].start(**env)
        wait_for(lambda: self._ready(name), timeout=60, what=f"probe {name} ready")
        return process

    def _ready(self, name: str) -> bool:
        try:
            return httpx.get(self.url(name, "/health/ready"), timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_running(self) -> None:
        for name in ("consumer", "producer"):
            if not self.processes[name].running:
                self.start(name)
        wait_for(self.consumer_queue_exists, timeout=30, what="the consumer's event queue")
        assert self.rpc.wait_connected(30)

    def consumer_queue_exists(self) -> bool:
        with Connection(self.amqp_uri) as conn:
            try:
                conn.default_channel.queue_declare(queue=CONSUMER_QUEUE, passive=True)
            except NotFound:
                return False
        return True

    def write_events(self, batch: str, stop: int, start: int = 0) -> None:
        """Commit events ``start``..``stop - 1`` to the producer's outbox, one transaction each."""
        for seq in range(start, stop):
            with Session(self.producer_engine, info={PRODUCER_KEY: "probe_producer"}) as session:
                record_event(session, ProbeEmitted(batch=batch, seq=seq))
                session.commit()

    def received(self, batch: str) -> list[tuple[Any, ...]]:
        return sql_rows(
            self.db_urls["consumer"],
            "SELECT event_id, seq FROM probe_received WHERE batch = %s",
            batch,
        )

    def outbox(self, batch: str) -> list[tuple[Any, ...]]:
        return sql_rows(
            self.db_urls["producer"],
            "SELECT event_id, published_at, routed FROM outbox_messages "
            "WHERE payload->'data'->>'batch' = %s",
            batch,
        )

    def metrics(self, name: str) -> str:
        return httpx.get(self.url(name, "/metrics"), timeout=5).text

    def close(self) -> None:
        self.rpc.stop()
        for process in self.processes.values():
            process.stop()
        self.producer_engine.dispose()


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probes]:
    with (
        throwaway_vhost() as amqp_uri,
        throwaway_databases("producer", "consumer") as db_urls,
    ):
        for url in db_urls.values():
            engine = create_engine(url)
            messaging_metadata.create_all(engine)
            with engine.begin() as conn:
                conn.execute(text(PROBE_TABLES))
            engine.dispose()
        probes = Probes(amqp_uri, db_urls, tmp_path_factory.mktemp("probes"))
        probes.rpc.start()
        try:
            probes.ensure_running()
            yield probes
        finally:
            probes.close()
