"""Log-in: an unknown e-mail must cost what a wrong password costs (no account enumeration).

Starts the stack on throwaway resources, registers one office, then sends
interleaved log-ins of three kinds, one at a time: a wrong password for the
real account, an unknown e-mail, and (baseline) the gateway's readiness-free
``/health/live``. Prints each kind's median and p90, and the ratio of the
unknown-e-mail median to the wrong-password median (1.00 is the goal; the
per-IP rate limit and the lockout are raised for the bench so neither answers
early). Writes var/bench/login.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import REPO
from bench._measure import percentile
from tests.support.accounts import platform
from tests.support.infra import token
from tests.support.stack import running_stack

KINDS = ("wrong_password", "unknown_email", "baseline")


def _sample(http: httpx.Client, kind: str, email: str) -> float:
    started = time.perf_counter()
    if kind == "baseline":
        answer = http.get("/health/live")
        expected = 200
    else:
        who = email if kind == "wrong_password" else f"nobody-{token()}@example.com"
        answer = http.post("/api/v1/auth/login", json={"email": who, "password": "Not-It-12345"})
        expected = 401
    elapsed = time.perf_counter() - started
    if answer.status_code != expected:
        raise RuntimeError(f"{kind}: {answer.status_code} {answer.text[:200]}")
    return elapsed


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 20 if quick else 150
    with (
        tempfile.TemporaryDirectory(prefix="bw-bench-") as scratch,
        running_stack(
            LOGIN_RATE_LIMIT="1000000",
            LOCKOUT_THRESHOLD="1000000",
            IDENTITY_JWT_KEY_FILE=str(Path(scratch) / "jwt.pem"),
        ) as stack,
        platform(stack) as world,
    ):
        email = world.sign_up()["email"]
        samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(5):  # warm-up: connections, argon2's first allocation
            for kind in KINDS:
                _sample(stack.http, kind, email)
        for index in range(rounds):
            # Rotate the order so neither kind always follows the other.
            for kind in KINDS[index % 3 :] + KINDS[: index % 3]:
                samples[kind].append(_sample(stack.http, kind, email))
    figures = {
        kind: {
            "median_ms": round(statistics.median(values) * 1000, 2),
            "p90_ms": round(percentile(values, 90) * 1000, 2),
        }
        for kind, values in samples.items()
    }
    ratio = figures["unknown_email"]["median_ms"] / figures["wrong_password"]["median_ms"]
    report = {"rounds": rounds, "figures": figures, "unknown_over_wrong": round(ratio, 3)}
    for kind, figure in figures.items():
        print(f"{kind:<16} median {figure['median_ms']:8.2f} ms   p90 {figure['p90_ms']:8.2f} ms")
    print(f"unknown e-mail / wrong password (medians): {ratio:.2f}  (goal: 1.00 +- 0.10)")
    base = figures["baseline"]["median_ms"]
    print(f"wrong password / baseline: {figures['wrong_password']['median_ms'] / base:.1f}")
    out = Path(REPO / "var" / "bench" / "login.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return report
