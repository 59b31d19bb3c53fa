"""Referrals: sending through the gateway, and listing a big box, against same-run baselines.

On one stack (deploy/local/Procfile, throwaway vhost and databases) with a
sending office (Universal notation) and a receiving one (FDI):

- ``send``: ``POST /api/v1/referrals`` (a complete referral, sent at once) at
  concurrency 1 and 32: referrals per second, median and p99, printed beside
  the skeleton's RPC baseline (``GET /api/v1/status/referrals``: gateway + one
  RPC) measured at the same concurrency in the same run.
- ``list``: the receiver's box holding 10,000 referrals (copies of a real one
  made in SQL), first page sorted by date: ``GET /api/v1/referrals?box=received``
  (median of N), beside the very statements the service ran for it (captured
  from SQLAlchemy, replayed with psycopg2 on the same database).

Writes var/bench/referrals.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from bench import OUTPUT_DIR
from bench._measure import Load, Run, drive_async, percentile, run_async
from tests.support.accounts import Account, Platform, platform
from tests.support.stack import Stack, running_stack

BOX_SIZE = 10_000


def loads(quick: bool) -> dict[int, Load]:
    if quick:
        return {1: Load(1, 30, 3.0, 5, 1.0), 32: Load(32, 200, 3.0, 32, 1.0)}
    return {1: Load(1, 300, 10.0, 20, 2.0), 32: Load(32, 2000, 10.0, 100, 2.0)}


def _referral(sender: Account, receiver: Account, providers: dict[str, str]) -> dict[str, Any]:
    return {
        "receiver_office_id": receiver.office_id,
        "referring_provider_id": providers[sender.office_id],
        "requested_provider_id": providers[receiver.office_id],
        "patient": {
            "first_name": "Maya",
            "last_name": "Chen",
            "date_of_birth": "1988-04-12",
            "sex": "female",
            "phones": ["+1 416 555 0199"],
            "preferred_contact": "phone",
        },
        "urgency": "soon",
        "teeth": ["1", "16", "17"],
        "case_notes": "Impacted third molars; CBCT to follow.",
    }


async def _drive(stack: Stack, load: Load, request: Any, expected: int) -> Run:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=60)
        for _ in range(load.concurrency)
    ]

    async def call(worker: int) -> None:
        answer = await request(clients[worker])
        if answer.status_code != expected:
            raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")

    try:
        await drive_async(call, load.concurrency, load.warmup_requests, load.warmup_seconds)
        return await drive_async(call, load.concurrency, load.requests, load.seconds)
    finally:
        for client in clients:
            await client.aclose()


def _figures(run: Run) -> dict[str, Any]:
    if run.errors or not run.latencies:
        raise RuntimeError(f"{run.errors} requests failed ({run.first_error})")
    return {
        "requests": len(run.latencies),
        "per_second": round(len(run.latencies) / run.seconds, 1),
        "median_ms": round(statistics.median(run.latencies) * 1000, 2),
        "p99_ms": round(percentile(run.latencies, 99) * 1000, 2),
    }


def _measure_sending(world: Platform, sender: Account, receiver: Account, quick: bool) -> dict:
    providers = {
        account.office_id: account.get("/api/v1/office/providers").json()[0]["id"]
        for account in (sender, receiver)
    }
    body = _referral(sender, receiver, providers)
    headers = sender.headers

    async def send(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/api/v1/referrals", json=body, headers=headers)

    async def ping(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/api/v1/status/referrals")

    results: dict[str, Any] = {}
    print(f"{'path':<28}{'c':>4}{'req/s':>10}{'median ms':>12}{'p99 ms':>10}")
    for concurrency, load in loads(quick).items():
        for name, request, expected in (("rpc baseline", ping, 200), ("send", send, 201)):
            figures = _figures(run_async(_drive(world.stack, load, request, expected)))
            results[f"{name} c={concurrency}"] = figures
            print(
                f"{name:<28}{concurrency:>4}{figures['per_second']:>10}"
                f"{figures['median_ms']:>12}{figures['p99_ms']:>10}",
                flush=True,
            )
        base, sent = results[f"rpc baseline c={concurrency}"], results[f"send c={concurrency}"]
        print(
            f"  send / baseline at c={concurrency}: throughput "
            f"{sent['per_second'] / base['per_second']:.2f}, median "
            f"{sent['median_ms'] / base['median_ms']:.2f}"
        )
    return results


def _fill_box(db_url: str, receiver_office_id: str) -> None:
    """Copy one real referral of the receiver's box until the box holds BOX_SIZE."""
    with _connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'referrals' ORDER BY ordinal_position"
        )
        columns = [row[0] for row in cur.fetchall()]
        varied = {
            "id": "gen_random_uuid()",
            "reference": "'Z' || lpad(i::text, 7, '0')",
            "sent_at": "now() - i * interval '1 minute'",
            "patient_name": "'patient ' || i",
            "forwarded_from_id": "NULL",
        }
        select = ", ".join(varied.get(column, column) for column in columns)
        cur.execute(
            f"INSERT INTO referrals ({', '.join(columns)}) "  # noqa: S608 - names from the catalog
            f"SELECT {select} FROM generate_series(1, %s) AS i, "
            "(SELECT * FROM referrals WHERE receiver_office_id = %s LIMIT 1) AS template",
            (BOX_SIZE - _box_size(cur, receiver_office_id), receiver_office_id),
        )
        cur.execute("ANALYZE referrals")


def _box_size(cur: Any, office_id: str) -> int:
    cur.execute("SELECT count(*) FROM referrals WHERE receiver_office_id = %s", (office_id,))
    return int(cur.fetchone()[0])


def _connect(url: str) -> Any:
    return psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1))


def _captured_statements(db_url: str, receiver: Account) -> list[tuple[str, Any]]:
    """The statements ``list_referrals`` runs for the receiver's first page, as sent to PG."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from referrals.listing import list_referrals
    from shared.contracts.common import Caller
    from shared.contracts.referrals import ListQuery
    from shared.db import make_engine

    engine = make_engine(db_url)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    who = Caller(office_id=receiver.office_id, user_id=receiver.user_id, role="admin")
    with Session(engine) as session:
        list_referrals(session, who=who, query=ListQuery(box="received"))
    engine.dispose()
    return statements


def _measure_listing(world: Platform, receiver: Account, quick: bool) -> dict[str, Any]:
    db_url = world.stack.db_urls["referrals"]
    _fill_box(db_url, receiver.office_id)
    rounds = 20 if quick else 100
    path = "/api/v1/referrals?box=received&sort=-sent_at&page_size=25"
    first = receiver.get(path).json()
    assert first["total"] >= BOX_SIZE, first["total"]
    http_times = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer = receiver.get(path)
        http_times.append(time.perf_counter() - started)
        assert answer.status_code == 200
    statements = _captured_statements(db_url, receiver)
    sql_times = []
    with _connect(db_url) as conn, conn.cursor() as cur:
        for _ in range(rounds):
            started = time.perf_counter()
            for statement, parameters in statements:
                cur.execute(statement, parameters)
                cur.fetchall()
            sql_times.append(time.perf_counter() - started)
    api, sql = statistics.median(http_times) * 1000, statistics.median(sql_times) * 1000
    print(f"list {BOX_SIZE} (first page by date): API median {api:.2f} ms, same SQL {sql:.2f} ms")
    print(f"  API / SQL: {api / sql:.1f}  ({len(statements)} statements per page)")
    return {"box": BOX_SIZE, "api_median_ms": round(api, 2), "sql_median_ms": round(sql, 2)}


def run(quick: bool = False) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="bw-bench-") as scratch,
        running_stack(IDENTITY_JWT_KEY_FILE=str(Path(scratch) / "jwt.pem")) as stack,
        platform(stack) as world,
    ):
        sender = world.office(notation="universal")
        receiver = world.office(kind="specialist", specialty="Oral surgery", notation="fdi")
        report = {
            "send": _measure_sending(world, sender, receiver, quick),
            "list": _measure_listing(world, receiver, quick),
        }
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "referrals.json").write_text(json.dumps(report, indent=2))
    return report
