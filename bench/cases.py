"""Cases: the case list of a client office holding 100,000 cases, against the same SQL.

On one stack (deploy/local/Procfile, throwaway vhost and databases) with one
client office and ~20 labs: each lab gets one real case through the gateway
(its row is the template: office snapshots and names as the service writes
them), then the cases database is filled straight with SQL to ``CASES``
cases of that client across the labs, in mixed stages (colour, ship date,
shipment, hold and history consistent with the stage), in one statement.
Then, for the first page (25 rows):

- ``attention``: ``GET /api/v1/cases`` (the default sort: red, yellow,
  green, white, oldest first),
- ``ship_date``: ``GET /api/v1/cases?sort=ship_date``,

each through the gateway (median and p95 of N), beside the very statements
the service ran for it (captured from SQLAlchemy, replayed with psycopg2 on
the same database) in the same run; the ratio is the cost of the gateway,
the broker, the service and serialisation over the query itself.

``--quick`` fills 10,000 cases with 5 labs. Writes var/bench/cases.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import psycopg2

from bench import OUTPUT_DIR, BenchError
from bench._measure import percentile
from tests.e2e.test_cases import new_office
from tests.support.accounts import Account, Platform, platform
from tests.support.stack import running_stack

CASES = 100_000
QUICK_CASES = 10_000
LABS = 20
QUICK_LABS = 5
PAGE = 25

#: Stages of the filled cases, in turn (the booked stage is left out: it needs a real slot).
STAGES = (
    "missing_files",
    "processing",
    "received",
    "ready_to_plan",
    "planning_no_show",
    "manufacturing",
    "finished",
    "shipped",
    "cancelled",
    "on_hold",
    "manufacturing",
    "processing",
)
#: No ship date in these stages (services/cases/README.md, "Ship dates").
NO_SHIP_DATE = ("missing_files", "planning_no_show", "on_hold", "cancelled")


def _connect(url: str) -> Any:
    return psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1))


def _templates(client: Account, labs: list[Account]) -> list[str]:
    """One real case from ``client`` to each lab: the rows the filled ones copy."""
    ids = []
    for lab in labs:
        answer = client.post(
            "/api/v1/cases",
            json={
                "lab_office_id": lab.office_id,
                "patient_name": "Maya Chen",
                "description": "Surgical guide for implants at 19 and 30.",
                "teeth": ["19", "30"],
            },
        )
        if answer.status_code != 201:
            raise BenchError(f"creating a template case: {answer.status_code} {answer.text[:200]}")
        ids.append(answer.json()["case"]["id"])
    return ids


def _rank_sql() -> str:
    """colour_rank from the stage, as the service derives it (no booking in these rows)."""
    from cases.colours import rank_of

    whens = " ".join(f"WHEN '{stage}' THEN {rank_of(stage, False)}" for stage in set(STAGES))
    return f"CASE stages.stage {whens} END"


def _fill(db_url: str, template_ids: list[str], total: int) -> None:
    """Copy the template cases (round robin over the labs) until the client holds ``total``."""
    stages = "ARRAY[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    no_ship = "(" + ", ".join(f"'{s}'" for s in NO_SHIP_DATE) + ")"
    shipped = "stages.stage = 'shipped'"
    varied = {
        "id": "gen_random_uuid()",
        # Another year than the service's counter: never the reference of a new case.
        "reference": "'C-2025-' || lpad(g.i::text, 6, '0')",
        "patient_name": "'Patient ' || g.i || ' ' || md5(g.i::text)",
        "stage": "stages.stage",
        "held_from_stage": "CASE WHEN stages.stage = 'on_hold' THEN 'manufacturing' END",
        "colour_rank": _rank_sql(),
        "created_at": "now() - g.i * interval '3 minutes'",
        "last_modified_at": "now() - g.i * interval '3 minutes'",
        "stage_changed_at": "now() - g.i * interval '1 minute'",
        "ship_earliest": f"CASE WHEN stages.stage IN {no_ship} THEN NULL "
        "ELSE current_date + (g.i % 37) END",
        "ship_latest": f"CASE WHEN stages.stage IN {no_ship} THEN NULL "
        "ELSE current_date + (g.i % 37) + 4 END",
        "due_date": "CASE WHEN g.i % 3 = 0 THEN current_date + (g.i % 60) END",
        "carrier": f"CASE WHEN {shipped} THEN 'UPS' END",
        "tracking_number": f"CASE WHEN {shipped} THEN '1Z' || lpad(g.i::text, 16, '0') END",
        "tracking_url": "NULL",
        "shipped_at": f"CASE WHEN {shipped} THEN now() - g.i * interval '1 minute' END",
        "archived_at": "CASE WHEN g.i % 50 = 0 THEN now() END",
        "active_booking_id": "NULL",
        "version": "1",
    }
    with _connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'cases' ORDER BY ordinal_position"
        )
        columns = [row[0] for row in cur.fetchall()]
        select = ", ".join(varied.get(column, f"t.{column}") for column in columns)
        cur.execute(
            "CREATE TEMP TABLE templates AS "
            "SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM cases "
            "WHERE id = ANY(%s::uuid[])",
            (template_ids,),
        )
        # No parameters (every value is ours and a number): '%' is SQL's modulo here.
        count, labs = int(total - len(template_ids)), len(template_ids)
        cur.execute(
            f"INSERT INTO cases ({', '.join(columns)}) "  # noqa: S608 - names from the catalog
            f"SELECT {select} FROM generate_series(1, {count}) AS g(i) "
            f"JOIN templates AS t ON t.n = g.i % {labs} "
            f"CROSS JOIN LATERAL (SELECT ({stages})[1 + g.i % {len(STAGES)}] AS stage) AS stages"
        )
        # Each filled case's history: the stage it is in, set by its lab when it was sent.
        cur.execute(
            "INSERT INTO case_history (case_id, stage, previous_stage, at, by_office_id) "
            "SELECT id, stage, NULL, created_at, lab_office_id FROM cases "
            "WHERE reference LIKE 'C-2025-%'"
        )
    # As autovacuum would leave them: statistics, and the visibility map index-only scans use.
    conn = _connect(db_url)
    try:
        conn.autocommit = True  # VACUUM runs outside a transaction
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE cases")
            cur.execute("VACUUM ANALYZE case_history")
    finally:
        conn.close()


def _captured_statements(db_url: str, client: Account, sort: str) -> list[tuple[str, Any]]:
    """The statements ``list_cases`` runs for the client's first page, as sent to PG."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eventlet's deprecation notice, through nameko
        from cases.listing import list_cases
    from shared.contracts.cases import CaseListQuery
    from shared.contracts.common import Caller
    from shared.db import make_engine

    engine = make_engine(db_url)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    who = Caller(office_id=client.office_id, user_id=client.user_id, role="admin")
    with Session(engine) as session:
        list_cases(session, who=who, query=CaseListQuery(sort=sort, page_size=PAGE))
    engine.dispose()
    return statements


def _check_rows(client: Account, rows: list[dict[str, Any]]) -> None:
    """The filled cases are ones the service can show: each row of the page opens."""
    for row in rows:
        answer = client.get(f"/api/v1/cases/{row['id']}")
        if answer.status_code != 200 or answer.json()["stage"] != row["stage"]:
            raise BenchError(
                f"a filled case does not open: {answer.status_code} {answer.text[:200]}"
            )


def _figures(times: list[float]) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(percentile(times, 95) * 1000, 2),
    }


def _measure(world: Platform, client: Account, total: int, quick: bool) -> dict[str, Any]:
    db_url = world.stack.db_urls["cases"]
    rounds = 20 if quick else 100
    results: dict[str, Any] = {}
    print(
        f"{'case list, first page':<26}{'API median':>12}{'API p95':>10}"
        f"{'SQL median':>12}{'SQL p95':>10}{'API/SQL':>9}"
    )
    for name, params in (("attention", {}), ("ship_date", {"sort": "ship_date"})):
        query = {"page_size": str(PAGE), **params}  # the default list: both sides
        first = client.get("/api/v1/cases", params=query)
        if first.status_code != 200:
            raise BenchError(f"GET /api/v1/cases: {first.status_code} {first.text[:200]}")
        listed = first.json()
        expected = total - total // 50  # the archived ones are not in the main list
        if not expected - 5 <= listed["total"] <= total or len(listed["items"]) != PAGE:
            raise BenchError(f"the list holds {listed['total']} cases, not about {expected}")
        _check_rows(client, listed["items"])
        api_times = []
        for _ in range(rounds):
            started = time.perf_counter()
            answer = client.get("/api/v1/cases", params=query)
            api_times.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise BenchError(f"GET /api/v1/cases: {answer.status_code}")
        statements = _captured_statements(db_url, client, params.get("sort", "attention"))
        sql_times: list[float] = []
        each: list[list[float]] = [[] for _ in statements]  # per statement: where SQL time goes
        with _connect(db_url) as conn, conn.cursor() as cur:
            for _ in range(rounds):
                started = time.perf_counter()
                for index, (statement, parameters) in enumerate(statements):
                    before = time.perf_counter()
                    cur.execute(statement, parameters)
                    cur.fetchall()
                    each[index].append(time.perf_counter() - before)
                sql_times.append(time.perf_counter() - started)
        api, sql = _figures(api_times), _figures(sql_times)
        sql["per_statement_median_ms"] = [round(statistics.median(t) * 1000, 2) for t in each]
        ratio = api["median_ms"] / sql["median_ms"] if sql["median_ms"] else float("nan")
        results[name] = {
            "api": api,
            "sql": sql,
            "api_over_sql_median": round(ratio, 1),
            "statements": len(statements),
            "rounds": rounds,
        }
        print(
            f"{name + f' ({total} cases)':<26}{api['median_ms']:>10.2f}ms{api['p95_ms']:>8.2f}ms"
            f"{sql['median_ms']:>10.2f}ms{sql['p95_ms']:>8.2f}ms{ratio:>9.1f}",
            flush=True,
        )
        split = ", ".join(
            f"{_kind(statement)} {ms:.2f}"
            for (statement, _), ms in zip(statements, sql["per_statement_median_ms"], strict=True)
        )
        print(f"  SQL median by statement (ms): {split}", flush=True)
    return results


def _kind(statement: str) -> str:
    """A statement's short name in the table: the count, or the page's rows."""
    return "count" if "count(" in statement.lower() else "rows"


def run(quick: bool = False) -> dict[str, Any]:
    total = QUICK_CASES if quick else CASES
    lab_count = QUICK_LABS if quick else LABS
    with (
        tempfile.TemporaryDirectory(prefix="bw-bench-") as scratch,
        running_stack(
            IDENTITY_JWT_KEY_FILE=str(Path(scratch) / "jwt.pem"), LOGIN_RATE_LIMIT="10000"
        ) as stack,
        platform(stack) as world,
    ):
        client = new_office(world, notation="universal")
        labs = [new_office(world, kind="lab") for _ in range(lab_count)]
        started = time.perf_counter()
        _fill(stack.db_urls["cases"], _templates(client, labs), total)
        print(
            f"filled {total} cases across {lab_count} labs in {time.perf_counter() - started:.0f} s"
        )
        report = {"cases": total, "labs": lab_count, "list": _measure(world, client, total, quick)}
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "cases.json").write_text(json.dumps(report, indent=2))
    return report
