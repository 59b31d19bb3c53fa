"""Previews: DICOM per file on pydicom's test data, and a 1,000,000-triangle STL against trimesh.

DICOM: every file of pydicom's wheel that it reads, the median time of
``make_preview`` beside the median time of ``pydicom.dcmread`` of the same
file (the baseline: reading it at all), with its transfer syntax and the
preview's state. STL: two binary meshes of exactly 1,000,000 triangles, an
open scan-like surface and a closed torus, the median time of the whole
preview (read, metadata with the watertight check, render, PNG) beside
trimesh's own ``trimesh.load(..., process=False)`` of the same file, both
from the warm page cache, in turns, the same number of times. The issue's
aim is a ratio of the wall-clock medians under 2.0; printed beside it: the
preview's median against trimesh's fastest load (that load allocates its
arrays afresh, and on a virtual machine that swings it several-fold), and
the ratio of CPU times. The preview runs as the service's warm preview
worker runs it: the compiled loops loaded, its scratch arrays kept. Writes var/bench/previews.json.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import REPO
from files import previews_stl
from files.previews import make_preview
from shared.contracts.files import FileKind

STL_GOAL = 2.0
STL_REPEATS = 11  # each a preview and a trimesh load, in turns


def _median_seconds(action: Callable[[], Any], repeats: int) -> float:
    return _interleaved([action], repeats)[0]


def _interleaved(actions: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Each action's median time, taken in turns so a busy machine slows them alike."""
    for action in actions:
        action()  # warm-up: imports, decoder plugins, page cache
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, times in zip(actions, samples, strict=True):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def _interleaved_with_cpu(
    actions: list[Callable[[], Any]], repeats: int
) -> list[tuple[float, float, float]]:
    """Each action's median wall-clock, median CPU (this process's) and fastest wall-clock
    time, taken in turns so a busy machine slows them alike, the order reversed every other
    round so that none always runs right after the same other one (e.g. into the memory it
    just freed)."""
    for action in actions:
        action()  # warm-up: imports, decoder plugins, page cache
    walls: list[list[float]] = [[] for _ in actions]
    cpus: list[list[float]] = [[] for _ in actions]
    for round_ in range(repeats):
        order = list(range(len(actions)))
        for index in order if round_ % 2 == 0 else order[::-1]:
            started, started_cpu = time.perf_counter(), time.process_time()
            actions[index]()
            cpus[index].append(time.process_time() - started_cpu)
            walls[index].append(time.perf_counter() - started)
    return [
        (statistics.median(wall), statistics.median(cpu), min(wall))
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


def _dicom_files() -> list[Path]:
    from pydicom.data import get_testdata_files

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "download failures": we use only what the wheel has
        return sorted(Path(name) for name in get_testdata_files("*.dcm"))


def bench_dicom(repeats: int) -> list[dict[str, Any]]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    rows = []
    for path in _dicom_files():
        try:
            pydicom.dcmread(path, force=True)
        except (InvalidDicomError, ValueError, EOFError) as exc:  # inspection refuses these
            print(f"{path.name}: skipped, pydicom cannot read it ({type(exc).__name__})")
            continue
        preview = make_preview(path, FileKind.dicom)
        made, read = _interleaved(
            [
                lambda p=path: make_preview(p, FileKind.dicom),
                lambda p=path: pydicom.dcmread(p, force=True),
            ],
            repeats,
        )
        rows.append(
            {
                "file": path.name,
                "transfer_syntax": preview.metadata.get("transfer_syntax"),
                "state": preview.state.value,
                "reason": preview.reason,
                "preview_ms": round(made * 1000, 2),
                "read_ms": round(read * 1000, 2),
                "preview_over_read": round(made / read, 2),
            }
        )
    return rows


def _grid_mesh() -> tuple[np.ndarray, np.ndarray]:
    """An open, wavy 60 x 30 mm surface of 1000 x 500 quads: 1,000,000 triangles, like a scan."""
    x, y = np.meshgrid(np.linspace(0, 60, 1001), np.linspace(0, 30, 501))
    z = 3 * np.sin(x / 4) * np.cos(y / 3)
    index = np.arange(x.size).reshape(x.shape)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, 1:].ravel(), index[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return np.column_stack([x.ravel(), y.ravel(), z.ravel()]), faces


def bench_stl(scratch: Path, repeats: int) -> list[dict[str, Any]]:
    import trimesh

    meshes = {
        "open surface": trimesh.Trimesh(*_grid_mesh(), process=False),
        "closed torus": trimesh.creation.torus(30, 8, major_sections=1000, minor_sections=500),
    }
    rows = []
    for name, mesh in meshes.items():
        path = scratch / f"{name.replace(' ', '-')}.stl"
        mesh.export(path, file_type="stl")
        preview = make_preview(path, FileKind.stl)
        assert preview.png is not None, preview.reason
        (load, load_cpu, load_best), (whole, whole_cpu, _) = _interleaved_with_cpu(
            [
                lambda p=path: trimesh.load(p, file_type="stl", process=False),
                lambda p=path: make_preview(p, FileKind.stl),
            ],
            repeats,
        )
        # The preview's parts as make_preview() runs them: the file read (its records, not
        # copied), then the watertight check and the drawing in one pass, with the PNG.
        triangles, encoding = previews_stl.read_triangles(path, contiguous=False)
        parts = {
            "read_ms": _median_seconds(
                lambda p=path: previews_stl.read_triangles(p, contiguous=False), repeats
            ),
            "check_and_draw_ms": _median_seconds(
                lambda t=triangles, e=encoding: previews_stl.preview(t, encoding=e, size=512),
                repeats,
            ),
        }
        rows.append(
            {
                "mesh": name,
                "triangles": preview.metadata["triangles"],
                "watertight": preview.metadata["watertight"],
                "trimesh_load_ms": round(load * 1000, 1),
                "preview_ms": round(whole * 1000, 1),
                "preview_over_trimesh_load": round(whole / load, 2),
                # trimesh's load swings several-fold with how the machine backs the memory it
                # allocates afresh each time; against its fastest load, the preview's median.
                "trimesh_best_load_ms": round(load_best * 1000, 1),
                "preview_over_trimesh_best": round(whole / load_best, 2),
                # The same medians in CPU time: less swayed by other work on a busy machine.
                "trimesh_load_cpu_ms": round(load_cpu * 1000, 1),
                "preview_cpu_ms": round(whole_cpu * 1000, 1),
                "cpu_ratio": round(whole_cpu / load_cpu, 2),
                **{key: round(value * 1000, 1) for key, value in parts.items()},
            }
        )
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 1 if quick else 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's about the odd files among its own test data
        dicom = bench_dicom(repeats)
    print(f"{'DICOM file':<42} {'preview ms':>10} {'/ read':>7}  state        transfer syntax")
    for row in dicom:
        print(
            f"{row['file']:<42} {row['preview_ms']:10.2f} {row['preview_over_read']:7.1f}  "
            f"{row['state']:<12} {row['transfer_syntax']}"
        )
    ready = [row["preview_ms"] for row in dicom if row["state"] == "ready"]
    print(f"DICOM: {len(ready)} of {len(dicom)} drawn, median {statistics.median(ready):.1f} ms")

    with tempfile.TemporaryDirectory(prefix="bw-bench-stl-") as scratch:
        stl = bench_stl(Path(scratch), 3 if quick else STL_REPEATS)
    for row in stl:
        print(
            f"STL {row['mesh']} ({row['triangles']:,} triangles, watertight {row['watertight']}): "
            f"preview {row['preview_ms']:.0f} ms (read {row['read_ms']:.0f}, check and draw "
            f"{row['check_and_draw_ms']:.0f}) / trimesh load {row['trimesh_load_ms']:.0f} ms = "
            f"{row['preview_over_trimesh_load']:.2f} (goal < {STL_GOAL}); against trimesh's "
            f"fastest load ({row['trimesh_best_load_ms']:.0f} ms) "
            f"{row['preview_over_trimesh_best']:.2f}; CPU time "
            f"{row['preview_cpu_ms']:.0f} / {row['trimesh_load_cpu_ms']:.0f} ms = "
            f"{row['cpu_ratio']:.2f}"
        )
    report = {"repeats": repeats, "dicom": dicom, "stl": stl, "stl_goal": STL_GOAL}
    out = Path(REPO / "var" / "bench" / "previews.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return report
