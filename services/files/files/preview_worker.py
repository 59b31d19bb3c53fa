"""Previews in a process of their own, so a crash or a hang costs a preview, never the service.

``python -m files.preview_worker --serve`` is what the files service runs
(files.previewing): a long-lived worker that imports the decoders and
compiles the mesh kernels once, then takes one job per line on stdin
(``{"source", "kind", "png"}``) and answers each with one line on stdout
(``{"state", "metadata", "reason", "png"}``), writing the PNG, when there
is one, to ``png``. It stops at the end of its input. Its logs are JSON
lines on stderr, like the service's.

``python -m files.preview_worker <path> <kind> <png>`` makes one preview
and prints its answer (for an operator looking at one file).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)


def preview_answer(path: Path, kind: str, png_path: Path) -> dict[str, Any]:
    """Make the file's preview; the answer line's content."""
    from files.previews import make_preview

    preview = make_preview(path, kind)
    state = getattr(preview.state, "value", preview.state)
    if preview.png:
        png_path.write_bytes(preview.png)
    return {
        "state": str(state),
        "metadata": preview.metadata or {},
        "reason": preview.reason,
        "png": bool(preview.png),
    }


def serve(jobs: TextIO, answers: TextIO) -> None:
    """Answer every job line of ``jobs`` on ``answers``, in order, until its end."""
    for line in jobs:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            answer = preview_answer(Path(job["source"]), job["kind"], Path(job["png"]))
        except Exception:  # e.g. no room for the PNG: this job fails, the worker goes on
            log.exception("the preview worker could not answer a job")
            answer = {"state": "unavailable", "reason": "no preview could be drawn", "metadata": {}}
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


def warm() -> None:
    """Everything a first preview would otherwise wait for: the decoders' imports and the
    mesh kernels (compiled, or loaded from numba's cache)."""
    import files.previews  # noqa: F401 - imported for its imports
    from files import stl_kernels

    stl_kernels.warm()


def main(argv: list[str]) -> int:
    if argv == ["--serve"]:
        from shared.logging import configure_logging

        configure_logging("files-preview")
        # Answers go to the real stdout; anything a library prints goes to stderr instead.
        answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        warm()
        serve(sys.stdin, answers)
        return 0
    if argv == ["--warm"]:  # the set-up script fills numba's cache before the first preview
        warm()
        return 0
    path, kind, png_path = argv
    sys.stdout.write(json.dumps(preview_answer(Path(path), kind, Path(png_path)), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
