"""Benchmarks of the running platform, run with ``python -m bench [module ...]`` from the repo root.

Every benchmark module (a module of this package whose name does not start
with ``_``) has ``run(*, quick: bool = False) -> dict``: it starts what it
needs, prints a table to stdout and writes its figures as JSON under
``var/bench/``. The machine is shared and noisy, so figures are reported as
ratios against baselines measured in the same run; nothing is asserted on
time, and a benchmark fails only when something in it really went wrong.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO / "var" / "bench"


class BenchError(RuntimeError):
    """A benchmark could not produce honest figures (requests failed, a process died)."""
