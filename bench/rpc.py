"""RPC round trip through the gateway, against baselines measured in the same run.

Four paths, each at concurrency 1 and 32, on one stack started from
deploy/local/Procfile on a throwaway vhost and throwaway databases:

- ``raw kombu req/reply``: the floor the broker sets. A kombu requester in
  this process (one connection, one thread, up to ``c`` requests in flight
  matched by correlation id, replies on an exclusive queue, no confirms)
  and ``bench._kombu_echo`` in its own process (consume, decode, publish a
  ping-sized reply to ``reply_to``, ack). Default exchange both ways.
- ``direct RpcClient ping`` (for information): the service's ``ping`` called
  with ``shared.rpc_client.RpcClient.acall`` from this process, no HTTP:
  broker + nameko service + the gateway's RPC client.
- ``HTTP no-RPC``: ``GET /health/live`` on the gateway, which makes no RPC:
  the HTTP layer (httpx client, uvicorn, FastAPI, the gateway's middleware).
- ``gateway+RPC``: ``GET /api/v1/status/<service>``, which calls that
  service's ``ping``: the figure the issue asks about.

Both HTTP rows use the same httpx.AsyncClient code, so the client's own cost
largely cancels in their ratio (not fully: the client CPU column shows what
it spends per request, and the client shares the machine's cores). Latency
is per request, from just before it is sent to just after its answer is
read; throughput is answered requests over the wall time of the
measurement. CPU ms per request of each process on the path (from /proc)
and how busy the whole machine was show where the time goes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
from kombu import Connection, Consumer, Exchange, Producer, Queue

from bench import OUTPUT_DIR, REPO, BenchError
from bench._measure import (
    CpuMeter,
    Load,
    Result,
    Run,
    Usage,
    drive_async,
    find_pid,
    finite,
    run_async,
)
from shared.rpc_client import RpcClient
from tests.support.infra import rabbitmqctl
from tests.support.stack import Stack, running_stack

SERVICE = "identity"
CONCURRENCIES = (1, 32)
RAW = "raw kombu req/reply"
DIRECT = "direct RpcClient ping"
NO_RPC = "HTTP no-RPC"
GATEWAY = "gateway+RPC"
PATHS = (RAW, DIRECT, NO_RPC, GATEWAY)
ROLES = ("client", "gateway", "service", "broker")
REPLY_TIMEOUT = 10.0
REQUEST_BODY = json.dumps({"args": [], "kwargs": {}})  # what RpcClient sends for ping()


def loads(quick: bool) -> dict[int, Load]:
    if quick:
        return {1: Load(1, 300, 1.0, 50, 0.5), 32: Load(32, 1500, 1.0, 200, 0.5)}
    return {1: Load(1, 2000, 5.0, 200, 1.0), 32: Load(32, 10000, 5.0, 1000, 1.0)}


# -- raw kombu ----------------------------------------------------------------------


@contextmanager
def kombu_echo(amqp_uri: str) -> Iterator[tuple[str, int]]:
    """Start the raw responder in its own process; yields (its queue, its pid)."""
    queue = f"bench-echo-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._kombu_echo", amqp_uri, queue],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], 15)
        line = process.stdout.readline().strip() if readable else "(nothing within 15 s)"
        if line != "ready":
            raise BenchError(f"the kombu echo responder did not start: {line or 'it exited'}")
        yield queue, process.pid
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class RawRequester:
    """The raw baseline's requester: one connection and thread, up to ``c`` requests in flight."""

    def __init__(self, amqp_uri: str, queue: str) -> None:
        self.queue = queue
        self.connection = Connection(amqp_uri, heartbeat=0)
        self.connection.connect()
        channel = self.connection.channel()
        self.reply_to = f"bench-reply-{uuid.uuid4().hex}"
        default = Exchange("")
        self.producer = Producer(channel, exchange=default)
        reply_queue = Queue(
            self.reply_to, exchange=default, routing_key=self.reply_to, exclusive=True
        )
        self.consumer = Consumer(
            channel, queues=[reply_queue], on_message=self._on_reply, no_ack=True
        )
        self.consumer.consume()
        self._pending: dict[str, float] = {}
        self._run = Run()

    def close(self) -> None:
        self.connection.release()

    def _on_reply(self, message: Any) -> None:
        now = time.perf_counter()
        sent = self._pending.pop(message.properties.get("correlation_id", ""), None)
        if sent is not None:
            json.loads(message.body)  # a real caller reads the answer
            self._run.latencies.append(now - sent)

    def drive(self, concurrency: int, requests: int, seconds: float) -> Run:
        run = self._run = Run()
        perf = time.perf_counter
        started = perf()
        stop_at = started + seconds
        sent = 0
        while True:
            while len(self._pending) < concurrency and sent < requests and perf() < stop_at:
                correlation_id = uuid.uuid4().hex
                self._pending[correlation_id] = perf()
                self.producer.publish(
                    REQUEST_BODY,
                    routing_key=self.queue,
                    reply_to=self.reply_to,
                    correlation_id=correlation_id,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=1,
                    retry=False,
                )
                sent += 1
            if not self._pending:
                break
            try:
                self.connection.drain_events(timeout=REPLY_TIMEOUT)
            except TimeoutError as exc:
                for _ in self._pending:
                    run.failed(exc)
                self._pending.clear()
                break
        run.seconds = perf() - started
        return run


def measure_raw(requester: RawRequester, load: Load, meter: CpuMeter) -> Run:
    requester.drive(load.concurrency, load.warmup_requests, load.warmup_seconds)
    meter.start()
    return requester.drive(load.concurrency, load.requests, load.seconds)


# -- the RPC client and HTTP --------------------------------------------------------


async def _measure_direct(amqp_uri: str, load: Load, meter: CpuMeter) -> Run:
    # The client runs in this loop, as it does in the gateway's.
    client = RpcClient(amqp_uri, name="bench", default_timeout=REPLY_TIMEOUT)
    await client.start_async()
    try:
        if not await asyncio.to_thread(client.wait_connected, 15):
            raise BenchError("the RpcClient did not connect to the broker")

        async def ping(_: int) -> Any:
            return await client.acall(SERVICE, "ping", timeout=REPLY_TIMEOUT)

        await drive_async(ping, load.concurrency, load.warmup_requests, load.warmup_seconds)
        meter.start()
        return await drive_async(ping, load.concurrency, load.requests, load.seconds)
    finally:
        await client.stop_async()


async def _measure_http(base_url: str, path: str, load: Load, meter: CpuMeter) -> Run:
    # One AsyncClient (one keep-alive connection) per worker, not one pool of
    # ``c`` connections: httpx's shared pool costs the client several ms of
    # CPU per request at c=32 (measured: ~7.5 vs ~1.8 ms), which would make
    # this process, not the gateway, the bottleneck on a 2-core machine.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(
            base_url=base_url, http1=True, http2=False, limits=limits, timeout=REPLY_TIMEOUT
        )
        for _ in range(load.concurrency)
    ]

    async def get(worker: int) -> None:
        response = await clients[worker].get(path)
        if response.status_code != 200:
            raise BenchError(f"GET {path} answered {response.status_code}: {response.text[:200]}")

    try:
        await drive_async(get, load.concurrency, load.warmup_requests, load.warmup_seconds)
        meter.start()
        return await drive_async(get, load.concurrency, load.requests, load.seconds)
    finally:
        for client in clients:
            await client.aclose()


# -- the benchmark ----------------------------------------------------------------------


def _measure_all(stack: Stack, quick: bool) -> tuple[list[Result], Usage]:
    """(a result per path and concurrency, the machine's usage with the stack up and idle)."""
    pids = {
        "client": os.getpid(),
        "gateway": _pid(stack, "gateway"),
        "service": _pid(stack, SERVICE),
        "broker": broker_pid(),
    }
    ours = {pid for pid in [*pids.values(), *map(partial(_pid, stack), stack.processes)] if pid}
    results: list[Result] = []
    with kombu_echo(stack.amqp_uri) as (echo_queue, echo_pid):
        ours.add(echo_pid)
        idle_meter = CpuMeter({}, ours)
        idle_meter.start()
        time.sleep(1.0)
        idle = idle_meter.stop(0)
        print(_idle_line(idle), flush=True)
        print(_HEADER, flush=True)
        requester = RawRequester(stack.amqp_uri, echo_queue)
        try:
            for concurrency, load in loads(quick).items():
                for path in PATHS:
                    on_path = {
                        RAW: {**pids, "gateway": None, "service": echo_pid},
                        DIRECT: {**pids, "gateway": None},
                        NO_RPC: {**pids, "service": None},
                        GATEWAY: pids,
                    }[path]
                    meter = CpuMeter(on_path, ours)
                    if path == RAW:
                        run = measure_raw(requester, load, meter)
                    elif path == DIRECT:
                        run = run_async(_measure_direct(stack.amqp_uri, load, meter))
                    else:
                        url = "/health/live" if path == NO_RPC else f"/api/v1/status/{SERVICE}"
                        run = run_async(_measure_http(stack.url, url, load, meter))
                    result = Result(path, concurrency, run, meter.stop(len(run.latencies)))
                    results.append(result)
                    print(_row(result), flush=True)
                    if run.errors or not run.latencies:
                        raise BenchError(
                            f"{path} at c={concurrency}: {run.errors} requests failed"
                            f" ({run.first_error}); figures would not be honest"
                        )
        finally:
            requester.close()
    dead = [name for name, process in stack.processes.items() if not process.running]
    if dead:
        raise BenchError(f"stack processes died during the bench: {dead}")
    return results, idle


def broker_pid() -> int | None:
    """The RabbitMQ node's OS pid (the node the stack's vhost is on), for its CPU time."""
    try:
        status = rabbitmqctl("status", timeout=30)
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        return find_pid("beam.smp")
    match = re.search(r"^OS PID: (\d+)$", status, re.MULTILINE)
    return int(match.group(1)) if match else find_pid("beam.smp")


def _pid(stack: Stack, name: str) -> int | None:
    popen = stack.processes[name].popen
    return popen.pid if popen is not None else None


def _find(results: list[Result], path: str, concurrency: int) -> Result:
    return next(r for r in results if r.name == path and r.concurrency == concurrency)


_RATIOS = (  # (label, key, numerator, denominator)
    ("gateway+RPC / raw kombu", "gateway_over_raw", GATEWAY, RAW),
    ("gateway+RPC / HTTP no-RPC", "gateway_over_no_rpc", GATEWAY, NO_RPC),
    ("direct RpcClient / raw kombu", "direct_over_raw", DIRECT, RAW),
    ("HTTP no-RPC / raw kombu", "no_rpc_over_raw", NO_RPC, RAW),
)
_FIGURES = (("median", "median_ms"), ("p99", "p99_ms"), ("req/s", "throughput"))


def ratios(results: list[Result]) -> dict[str, float]:
    """``<key>_<figure>_c<c>``: e.g. gateway_over_raw_median_c1, no_rpc_over_raw_throughput_c32."""
    out: dict[str, float] = {}
    for _, key, top, bottom in _RATIOS:
        for figure, attribute in _FIGURES:
            for c in CONCURRENCIES:
                name = f"{key}_{'throughput' if figure == 'req/s' else figure}_c{c}"
                top_value = getattr(_find(results, top, c), attribute)
                out[name] = top_value / getattr(_find(results, bottom, c), attribute)
    return out


def goals(results: list[Result]) -> list[dict[str, Any]]:
    gw1, raw1, http1 = (_find(results, p, 1) for p in (GATEWAY, RAW, NO_RPC))
    budget = http1.median_ms + 2 * raw1.median_ms
    gw32, raw32 = _find(results, GATEWAY, 32), _find(results, RAW, 32)
    share = gw32.throughput / raw32.throughput
    return [
        {
            "goal": "gateway+RPC median at c=1 <= HTTP no-RPC median + 2 x raw req/reply median",
            "detail": (
                f"{gw1.median_ms:.3f} ms vs {http1.median_ms:.3f} + 2 x {raw1.median_ms:.3f}"
                f" = {budget:.3f} ms"
            ),
            "ratio": gw1.median_ms / budget,
            "target": "<= 1.00",
            "met": gw1.median_ms <= budget,
        },
        {
            "goal": "gateway+RPC throughput at c=32 >= 70% of raw req/reply throughput",
            "detail": f"{gw32.throughput:.0f} req/s / {raw32.throughput:.0f} req/s",
            "ratio": share,
            "target": ">= 0.70",
            "met": share >= 0.70,
        },
    ]


def breakdown(results: list[Result]) -> list[tuple[str, float]]:
    """Where the median at c=1 goes, by difference between the rows."""
    raw, direct, http, gw = (_find(results, p, 1).median_ms for p in PATHS)
    return [
        ("broker round trip (raw kombu req/reply)", raw),
        ("nameko service + RpcClient, beyond raw (direct - raw)", direct - raw),
        ("HTTP layer with no RPC (GET /health/live)", http),
        ("left for the gateway's RPC route (gateway - HTTP - direct)", gw - http - direct),
        ("gateway+RPC total", gw),
    ]


_HEADER = (
    f"{'path':<22} {'c':>3} {'requests':>8} {'median ms':>10} {'p99 ms':>9} {'req/s':>8}"
    f"   CPU ms/req: {'client':>7} {'gateway':>7} {'service':>7} {'broker':>7}"
    f"  {'busy':>5} {'other':>5}"
)


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.0%}"


def _row(r: Result) -> str:
    cpu = " ".join(
        f"{'-':>7}" if (v := r.usage.cpu_ms_per_request.get(role)) is None else f"{v:7.3f}"
        for role in ROLES
    )
    errors = f"   ({r.run.errors} errors: {r.run.first_error})" if r.run.errors else ""
    return (
        f"{r.name:<22} {r.concurrency:>3} {r.requests:>8} {r.median_ms:>10.3f} {r.p99_ms:>9.3f}"
        f" {r.throughput:>8.0f}               {cpu}  {_pct(r.usage.machine_busy)}"
        f" {_pct(r.usage.others_busy)}{errors}"
    )


def _idle_line(idle: Usage) -> str:
    return (
        f"machine with the stack up and idle: {_pct(idle.machine_busy).strip()} of all CPUs busy,"
        f" {_pct(idle.others_busy).strip()} by processes outside the bench"
    )


def report(results: list[Result], idle: Usage) -> None:
    print()
    print(_HEADER)
    for c in CONCURRENCIES:
        for path in PATHS:
            print(_row(_find(results, path, c)))
    print("  CPU ms/req: CPU time of each process on the path per answered request (from /proc)")
    print("  busy: share of the machine's CPUs in use; other: the part used by processes")
    print("  outside the bench (noise). Broker CPU includes RabbitMQ's schedulers busy-waiting,")
    print("  so it reads high per request when requests are sparse.")
    print("  " + _idle_line(idle))
    print()
    values = ratios(results)
    heads = [f"{figure} c={c}" for figure, _ in _FIGURES for c in CONCURRENCIES]
    print(f"{'ratios':<30}" + "".join(f"{h:>12}" for h in heads))
    for label, key, _, _ in _RATIOS:
        cells = [
            values[f"{key}_{'throughput' if figure == 'req/s' else figure}_c{c}"]
            for figure, _ in _FIGURES
            for c in CONCURRENCIES
        ]
        print(f"{label:<30}" + "".join(f"{v:>12.2f}" for v in cells))
    print()
    print("where the median at c=1 goes (ms, by difference between rows):")
    for name, value in breakdown(results):
        print(f"  {name:<60} {value:7.3f}")
    print()
    for goal in goals(results):
        verdict = "met" if goal["met"] else "not met"
        print(f"goal: {goal['goal']}")
        print(f"      {goal['detail']} -> ratio {goal['ratio']:.2f} ({goal['target']}): {verdict}")


def _git_commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


def write_json(results: list[Result], idle: Usage, quick: bool) -> str:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / "rpc.json"
    document = {
        "benchmark": "rpc",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "service": SERVICE,
        "quick": quick,
        "loads": {str(c): dataclasses.asdict(load) for c, load in loads(quick).items()},
        "idle": {
            "machine_busy": finite(idle.machine_busy, 3),
            "others_busy": finite(idle.others_busy, 3),
        },
        "results": [r.to_json() for r in results],
        "ratios": {name: finite(value) for name, value in ratios(results).items()},
        "breakdown_c1_median_ms": {name: finite(value) for name, value in breakdown(results)},
        "goals": [{**g, "ratio": finite(g["ratio"])} for g in goals(results)],
    }
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return str(path.relative_to(REPO))


def run(*, quick: bool = False) -> dict[str, Any]:
    """Start the stack, measure, print the table and write var/bench/rpc.json; its figures."""
    started = time.monotonic()
    print("starting the stack (throwaway vhost and databases)...", flush=True)
    with running_stack() as stack:
        print(f"stack ready in {time.monotonic() - started:.0f} s; measuring", flush=True)
        results, idle = _measure_all(stack, quick)
    report(results, idle)
    written = write_json(results, idle, quick)
    print(f"\nfigures written to {written}")
    return json.loads((REPO / written).read_text())
