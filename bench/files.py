"""Uploading a 50 MB file end to end, beside copying the same bytes on the same disk.

On one stack (deploy/local/Procfile, throwaway vhost and databases, blobs in
a temporary folder on the same disk as the source file): a valid binary STL
just under the 50 MB limit is sent with ``POST /api/v1/referrals/{id}/files``
(multipart, streamed from disk by httpx) a few times; the baseline is
``shutil.copyfile`` of the same file in the same folder, in turns with the
uploads. Also the peak memory growth (VmHWM after a reset of the peak, from
/proc) of the gateway and of the files service during each upload. Writes
var/bench/files.json. Previews have their own module (``bench.previews``).
"""

from __future__ import annotations

import json
import shutil
import statistics
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import OUTPUT_DIR
from tests.support.accounts import Account, Platform, platform
from tests.support.stack import Stack, running_stack

TRIANGLES = (50 * 2**20 - 84) // 50  # the largest binary STL under the 50 MB limit
MB = 2**20


def _write_stl(path: Path) -> int:
    """A valid binary STL of TRIANGLES small triangles on a grid, written in blocks."""
    record = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
    with path.open("wb") as out:
        out.write(b"bridgework bench".ljust(80, b" ") + struct.pack("<I", TRIANGLES))
        for start in range(0, TRIANGLES, 100_000):
            index = np.arange(start, min(start + 100_000, TRIANGLES))
            block = np.zeros(len(index), dtype=record)
            x, y = (index % 1000).astype("<f4"), (index // 1000).astype("<f4")
            block["normal"][:, 2] = 1
            block["vertices"][:, 0, :2] = np.stack([x, y], axis=1)
            block["vertices"][:, 1, :2] = np.stack([x + 1, y], axis=1)
            block["vertices"][:, 2, :2] = np.stack([x, y + 1], axis=1)
            out.write(block.tobytes())
    return path.stat().st_size


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> int:
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status(pid, "VmRSS")


def _referral(sender: Account, receiver: Account) -> str:
    provider = sender.get("/api/v1/office/providers").json()[0]["id"]
    body = {
        "receiver_office_id": receiver.office_id,
        "referring_provider_id": provider,
        "patient": {
            "first_name": "Bench",
            "last_name": "Patient",
            "date_of_birth": "1980-01-01",
            "sex": "unknown",
        },
    }
    answer = sender.post("/api/v1/referrals", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _upload(stack: Stack, sender: Account, referral_id: str, source: Path) -> tuple[float, dict]:
    pids = {name: stack.processes[name].popen.pid for name in ("gateway", "files")}
    before = {name: _reset_peak(pid) for name, pid in pids.items()}
    started = time.perf_counter()
    with source.open("rb") as handle:
        answer = sender.post(
            f"/api/v1/referrals/{referral_id}/files",
            files={"file": ("arch.stl", handle, "model/stl")},
        )
    elapsed = time.perf_counter() - started
    assert answer.status_code == 201, answer.text
    growth = {name: (_status(pid, "VmHWM") - before[name]) / MB for name, pid in pids.items()}
    return elapsed, growth


def _measure(world: Platform, folder: Path, rounds: int) -> dict[str, Any]:
    sender = world.office()
    receiver = world.office(kind="specialist", specialty="Oral surgery")
    source = folder / "arch.stl"
    size = _write_stl(source)
    uploads, copies, growths = [], [], []
    referral_id = _referral(sender, receiver)
    # Warm-up: the files service imports its format readers on the first upload.
    _upload(world.stack, sender, referral_id, source)
    for index in range(rounds):
        started = time.perf_counter()
        shutil.copyfile(source, folder / f"copy-{index}.stl")
        copies.append(time.perf_counter() - started)
        if index % 8 == 7:
            referral_id = _referral(sender, receiver)  # at most 10 files per referral
        elapsed, growth = _upload(world.stack, sender, referral_id, source)
        uploads.append(elapsed)
        growths.append(growth)
    upload, copy = statistics.median(uploads), statistics.median(copies)
    peak = {name: round(max(g[name] for g in growths), 1) for name in ("gateway", "files")}
    print(f"50 MB STL ({size:,} bytes), {rounds} rounds, medians:")
    print(f"  upload through the gateway {upload * 1000:8.0f} ms")
    print(f"  copy on the same disk      {copy * 1000:8.0f} ms")
    print(f"  upload / copy: {upload / copy:.1f}")
    print(
        f"  peak memory growth during an upload: gateway {peak['gateway']} MB, files "
        f"{peak['files']} MB (bound: about 32 MB)"
    )
    return {
        "bytes": size,
        "upload_median_ms": round(upload * 1000, 1),
        "copy_median_ms": round(copy * 1000, 1),
        "upload_over_copy": round(upload / copy, 2),
        "peak_growth_mb": peak,
    }


def run(quick: bool = False) -> dict[str, Any]:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="bw-bench-files-", dir=OUTPUT_DIR.parent) as scratch,
        running_stack(
            FILES_STORAGE=f"local:{scratch}/blobs",
            FILES_SPOOL_DIR=f"{scratch}/spool",
        ) as stack,
        platform(stack) as world,
    ):
        report = _measure(world, Path(scratch), rounds=3 if quick else 9)
    (OUTPUT_DIR / "files.json").write_text(json.dumps(report, indent=2))
    return report
