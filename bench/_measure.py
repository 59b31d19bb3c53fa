"""Shared by the benchmark modules: latency samples, load drivers, CPU accounting."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Load:
    """How much to send in one measurement: up to ``requests`` or ``seconds``, whichever first.

    The warm-up (same connections, not measured) is sent just before.
    """

    concurrency: int
    requests: int
    seconds: float
    warmup_requests: int
    warmup_seconds: float


@dataclass(slots=True)
class Run:
    """What a driver saw: one latency per successful request, the errors, the wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    seconds: float = 0.0

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"


@dataclass(slots=True)
class Result:
    """One row of a table: a path at one concurrency."""

    name: str
    concurrency: int
    run: Run
    usage: Usage

    @property
    def requests(self) -> int:
        return len(self.run.latencies)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.run.latencies) * 1000 if self.run.latencies else math.nan

    @property
    def p99_ms(self) -> float:
        return percentile(self.run.latencies, 99) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.run.latencies) * 1000 if self.run.latencies else math.nan

    @property
    def throughput(self) -> float:
        return self.requests / self.run.seconds if self.run.seconds else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.run.errors,
            "first_error": self.run.first_error,
            "seconds": round(self.run.seconds, 3),
            "median_ms": finite(self.median_ms),
            "p99_ms": finite(self.p99_ms),
            "mean_ms": finite(self.mean_ms),
            "throughput_rps": finite(self.throughput, 1),
            "cpu_ms_per_request": {
                role: finite(value) for role, value in self.usage.cpu_ms_per_request.items()
            },
            "machine_busy": finite(self.usage.machine_busy, 3),
            "others_busy": finite(self.usage.others_busy, 3),
        }


def finite(value: float | None, digits: int = 4) -> float | None:
    """``value`` rounded for JSON, or None when it is missing or not a number."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# -- CPU accounting -----------------------------------------------------------


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of one process (all its threads), from /proc; None if gone."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 onwards
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


def machine_cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def find_pid(comm: str) -> int | None:
    """The pid of the one process whose command name is ``comm`` (e.g. the broker), if unique."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found[0] if len(found) == 1 else None


class CpuMeter:
    """CPU time spent between start() and stop(): by role, by the bench, by the whole machine.

    ``roles`` are the processes on the measured path (a column each);
    ``ours`` are every process the bench started or uses, so that what the
    machine spent beyond them is the noise from others.
    """

    def __init__(self, roles: dict[str, int | None], ours: set[int]) -> None:
        self.roles = roles
        self.ours = ours | {pid for pid in roles.values() if pid is not None}
        self._roles: dict[str, float | None] = {}
        self._ours = 0.0
        self._machine: tuple[int, int] | None = None

    def _ours_now(self) -> float:
        return sum(process_cpu_seconds(pid) or 0.0 for pid in self.ours)

    def start(self) -> None:
        self._roles = {role: process_cpu_seconds(pid) for role, pid in self.roles.items()}
        self._ours = self._ours_now()
        self._machine = machine_cpu_ticks()

    def stop(self, requests: int) -> Usage:
        machine = machine_cpu_ticks()
        ours = self._ours_now() - self._ours
        per_request: dict[str, float | None] = {}
        for role, pid in self.roles.items():
            before, after = self._roles.get(role), process_cpu_seconds(pid)
            if before is None or after is None or not requests:
                per_request[role] = None
            else:
                per_request[role] = (after - before) * 1000 / requests
        busy = others = None
        if machine and self._machine and machine[1] > self._machine[1]:
            total = machine[1] - self._machine[1]
            busy = (machine[0] - self._machine[0]) / total
            others = max(0.0, busy - ours * _CLK_TCK / total)
        return Usage(per_request, busy, others)


@dataclass(slots=True)
class Usage:
    """CPU ms per request by role; shares (0..1) of all CPUs busy, and busy outside the bench."""

    cpu_ms_per_request: dict[str, float | None]
    machine_busy: float | None
    others_busy: float | None


# -- drivers --------------------------------------------------------------------


async def drive_async(
    call: Callable[[int], Awaitable[Any]], concurrency: int, requests: int, seconds: float
) -> Run:
    """``concurrency`` coroutines, each sending its next request as soon as one is answered.

    ``call(i)`` sends one request for worker ``i`` (0 <= i < concurrency).
    Stops issuing after ``requests`` requests or ``seconds`` seconds and waits
    for those in flight; a request's latency is from just before the call to
    just after its answer was read.
    """
    run = Run()
    issued = 0
    perf = time.perf_counter
    started = perf()
    stop_at = started + seconds

    async def worker(index: int) -> None:
        nonlocal issued
        while issued < requests and perf() < stop_at:
            issued += 1
            t0 = perf()
            try:
                await call(index)
            except Exception as exc:  # noqa: BLE001 - counted; the run reports them
                run.failed(exc)
            else:
                run.latencies.append(perf() - t0)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    run.seconds = perf() - started
    return run


def run_async(main: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on uvloop when it is installed (the gateway's loop too), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
