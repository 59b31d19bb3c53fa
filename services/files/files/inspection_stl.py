"""STL meshes: binary (84 + 50 n bytes) and ASCII (solid / facet / endsolid)."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from files.inspection_common import not_valid, refused

LABEL = "STL"
MAX_LINE = 1024  # an ASCII STL line is short; longer means this is not one
_BLOCK_TRIANGLES = 20_000  # 1 MB of records
BINARY_RECORD = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])


def binary_count(head: bytes, size: int) -> int | None:
    """The triangle count when the size is exactly 84 + 50 n for the n in the header."""
    if size < 84 or len(head) < 84:
        return None
    (n,) = struct.unpack_from("<I", head, 80)
    return n if size == 84 + 50 * n else None


def looks_ascii(head: bytes) -> bool:
    return head.lstrip().lower().startswith(b"solid")


def inspect_binary(path: Path, head: bytes, size: int, *, max_triangles: int) -> dict[str, Any]:
    """Count and size agree, the count is within the cap and every coordinate is finite."""
    if size < 84:
        raise not_valid(LABEL, f"the file is {size} bytes, shorter than an STL header (84)")
    (n,) = struct.unpack_from("<I", head, 80)
    if n > max_triangles:
        raise refused(f"the STL claims {n:,} triangles; the limit is {max_triangles:,}")
    if size != 84 + 50 * n:
        raise not_valid(
            LABEL,
            f"file size does not match its triangle count ({n:,} triangles need "
            f"{84 + 50 * n:,} bytes; the file has {size:,})",
        )
    if n == 0:
        raise not_valid(LABEL, "it contains no triangles")
    # In blocks, so a 50 MB mesh costs about one block of memory, not the whole file.
    with path.open("rb") as f:
        f.seek(84)
        for start in range(0, n, _BLOCK_TRIANGLES):
            count = min(_BLOCK_TRIANGLES, n - start)
            records = np.fromfile(f, dtype=BINARY_RECORD, count=count)
            if not np.isfinite(records["vertices"]).all():
                raise not_valid(LABEL, "some coordinates are not finite numbers")
    return {"format": "STL", "encoding": "binary", "triangles": n}


def inspect_ascii(path: Path, *, max_triangles: int) -> dict[str, Any]:
    """Parse the text line by line: facets of three vertices, closed by endsolid."""
    with path.open("rb") as f:
        facets = _parse(f, max_triangles=max_triangles)
    return {"format": "STL", "encoding": "ascii", "triangles": facets}


def _parse(f: BinaryIO, *, max_triangles: int) -> int:
    facets, vertices, state, number = 0, 0, "start", 0
    while line := f.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            raise not_valid(LABEL, f"line {number} is too long for ASCII STL")
        words = line.split()
        if not words:
            continue
        word = words[0].lower()
        state, vertices = _step(state, word, words, vertices, number)
        if word == b"endfacet":
            facets += 1
            if facets > max_triangles:
                raise refused(f"the STL has more than {max_triangles:,} triangles (the limit)")
    if state != "done":
        raise not_valid(LABEL, "the text ends before 'endsolid' (truncated)")
    if facets == 0:
        raise not_valid(LABEL, "it contains no triangles")
    return facets


# state -> {keyword: next state}
_GRAMMAR = {
    "start": {b"solid": "solid"},
    "solid": {b"facet": "facet", b"endsolid": "done"},
    "facet": {b"outer": "loop"},
    "loop": {b"vertex": "loop", b"endloop": "endloop"},
    "endloop": {b"endfacet": "solid"},
    "done": {b"solid": "solid"},  # some exporters write several solids
}


def _step(
    state: str, word: bytes, words: list[bytes], vertices: int, number: int
) -> tuple[str, int]:
    following = _GRAMMAR[state].get(word)
    if following is None:
        raise not_valid(LABEL, f"line {number} is not what ASCII STL expects there")
    if word == b"vertex" or (word == b"facet" and len(words) > 1):
        _numbers(words[-3:] if word == b"vertex" else words[2:], number)
    if word == b"vertex":
        vertices += 1
    elif word == b"endloop":
        if vertices != 3:
            raise not_valid(LABEL, f"the facet ending on line {number} has {vertices} vertices")
        vertices = 0
    return following, vertices


def _numbers(words: list[bytes], number: int) -> None:
    try:
        values = [float(w) for w in words]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise not_valid(LABEL, f"line {number} does not hold three finite numbers")
