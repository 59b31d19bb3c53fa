"""STL previews: read the triangles, check watertightness, draw a shaded view without a display.

trimesh's own renderer needs an OpenGL context, which a service worker does
not have, and its ``is_watertight`` needs a processed mesh (vertices merged
by a sort of every vertex), which for a 1,000,000-triangle scan costs more
than the whole preview may. So this module reads the triangles itself (a
binary file's records mapped where they lie, not copied), checks edges by
hashing their end points (see ``closure``), and rasterises into a z-buffer
of 32-bit keys (distance, then shade): triangles of a few pixels, nearly all
of them in a dense scan, are splatted as evenly spread points, larger ones
filled exactly with edge functions over their bounding boxes. Meshes of up
to SUPERSAMPLE_UP_TO triangles are drawn at twice the size, then reduced for
anti-aliasing; denser ones, whose triangles are smaller than a pixel anyway,
at the asked size, and saved as a 256-colour PNG. The loops over every
triangle (hashing, bounds, projection, splatting) are compiled by numba in
stl_kernels.py; what is decided once per mesh stays here in numpy.
"""

from __future__ import annotations

import functools
import io
import math
import mmap
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from files import stl_kernels

_BINARY_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
_ASCII_VERTEX = re.compile(rb"vertex\s+([^\r\n]+)")

BACKGROUND = np.array([242, 244, 247], dtype=np.float32)
FRONT = np.array([214, 206, 188], dtype=np.float32)  # ivory, like a stone model
BACK = np.array([150, 160, 185], dtype=np.float32)  # the inside of an open scan, bluish
AMBIENT = 0.22
SUPERSAMPLE = 2
SUPERSAMPLE_UP_TO = 250_000  # triangles; denser meshes are drawn at the asked size
MARGIN = 0.06
# Candidate pixels tested per chunk by the rasteriser (bounds its memory).
CHUNK_PIXELS = 1 << 21
# Triangles drawn per block: the temporaries of a block stay in the CPU cache.
CHUNK = 16_384
# A triangle whose screen extent is at most LATTICE * SPACING pixels is splatted as points at
# most SPACING apart; larger ones are filled exactly.
SPACING = 1.0
LATTICE = 6
# ... except a triangle at most DENSE_EXTENT pixels wide and tall and of at most DENSE_AREA square
# pixels, splatted as one point (at 512 px, the faces of a million-triangle model).
DENSE_EXTENT = 1.25
DENSE_AREA = 0.4
# z-buffer keys (uint32): the quantised distance from the viewer, then a shade code.
CODE_BITS = 10
DEPTH_LEVELS = (1 << (32 - CODE_BITS)) - 1
_EMPTY = np.uint32(0xFFFFFFFF)  # the farthest distance, code 1023: the background
PNG_LEVEL = 1  # zlib level: 6 costs three times as long for a PNG a fifth smaller


class MeshError(ValueError):
    """The file holds no drawable mesh."""

    metadata: dict[str, Any] | None = None  # what could be read of it, when anything


def read_triangles(path: Path, *, contiguous: bool = True) -> tuple[np.ndarray, str]:
    """The file's triangles as float32 (n, 3, 3), and "binary" or "ascii". ``contiguous=False``:
    a binary file's are a read-only view of its records mapped from the file, strided
    (preview()'s compiled loops read them where they lie: no copy of the file)."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(84)
    if len(head) == 84:
        count = int.from_bytes(head[80:84], "little")
        if size == 84 + 50 * count:
            if contiguous or not count:
                raw = np.fromfile(path, dtype=_BINARY_TRIANGLE, count=count, offset=84)
                return np.ascontiguousarray(raw["corners"]), "binary"
            # Mapped, not read: the page cache's own pages, no copy of the file in memory,
            # mapped all at once (MAP_POPULATE) rather than a page fault at a time.
            with path.open("rb") as stream:
                mapped = mmap.mmap(stream.fileno(), 0, flags=_MAP_FLAGS, prot=mmap.PROT_READ)
            records = np.frombuffer(mapped, dtype=_BINARY_TRIANGLE, count=count, offset=84)
            return records["corners"], "binary"
    data = path.read_bytes()
    if not data.lstrip()[:5].lower() == b"solid":
        raise MeshError("not an STL file")
    text = b" ".join(_ASCII_VERTEX.findall(data)).decode("ascii", "replace")
    coords = np.array(text.split(), dtype=np.float32) if text else np.empty(0, np.float32)
    if coords.size % 9:
        raise MeshError("an ASCII STL facet does not have three vertices of three numbers")
    return coords.reshape(-1, 3, 3), "ascii"


_kept = threading.local()
KEEP_BYTES = 64 << 20  # scratch arrays up to this size stay for the next preview


def _reusable(name: str, length: int, dtype: type) -> np.ndarray:
    """A scratch array of at least ``length`` items, kept from one preview to the next (in the
    preview worker, which lives on): fresh ones of a million triangles' size cost page faults
    that take longer than the work done in them."""
    kept: dict[str, np.ndarray] = _kept.__dict__.setdefault("arrays", {})
    array = kept.get(name)
    if array is None or len(array) < length or array.dtype != dtype:
        array = np.empty(length, dtype=dtype)
        if array.nbytes <= KEEP_BYTES:
            kept[name] = array
    return array[:length]


def _bits(triangles: np.ndarray) -> np.ndarray:
    """The coordinates' bits (uint32, (n, 3, 3)): equal points, equal bits (but for -0.0)."""
    return np.ascontiguousarray(triangles, dtype=np.float32).view(np.uint32)


def closure(triangles: np.ndarray) -> tuple[bool, bool]:
    """(watertight, consistently wound): every edge, after merging equal vertices, is shared by
    exactly two triangles; and each of them runs it in opposite directions (outward normals).

    Vertices are merged by their exact coordinates (STL writers repeat them
    bit for bit), through a 64-bit hash of them; edges get a key from the
    hashes of their ends. Sums over all edges, in blocks that stay in the
    CPU cache, decide most meshes; each could be fooled only by a 2**-63
    chance. The XOR of all keys is zero when every edge appears an even
    number of times, so a non-zero XOR proves a boundary: an open mesh.
    The sum of the keys of edges run "forwards" (start hash below end hash)
    less those of edges run backwards is zero (mod 2**64) when every edge is
    run as often one way as the other. Then a closed, consistently wound
    mesh is watertight exactly when no key appears twice among the edges
    run forwards (stl_kernels.any_twice).
    """
    if len(triangles) < 4:
        return False, False
    sums = _EdgeSums(len(triangles))
    for begin in range(0, len(triangles), CHUNK):
        sums.add(triangles[begin : begin + CHUNK])
    return sums.closure(triangles)


class _EdgeSums:
    """For closure(), added up block by block (stl_kernels.scan): the XOR of the edge keys,
    the winding sum, and the keys of the edges that run forwards."""

    def __init__(self, triangles: int):
        self.mixed = 0
        self.turning = 0
        self.forward = _reusable("forward", 3 * triangles, np.uint64)
        self.filled = 0

    def add(self, triangles: np.ndarray) -> None:
        if self.filled + 3 * len(triangles) > len(self.forward):  # the kernel writes unchecked
            raise ValueError("more triangles than _EdgeSums was made for")
        triangles = np.ascontiguousarray(triangles, dtype=np.float32)
        bounds = np.full(3, np.inf, np.float32), np.full(3, -np.inf, np.float32)
        _, mixed, turning, self.filled = stl_kernels.scan(
            triangles, triangles.view(np.uint32), self.forward, self.filled, *bounds
        )
        self.mixed ^= int(mixed)
        self.turning = (self.turning + int(turning)) % 2**64

    def closure(self, triangles: np.ndarray) -> tuple[bool, bool]:
        """closure() of all the triangles added, which are ``triangles``."""
        if len(triangles) < 4 or self.mixed != 0:
            return False, False
        if self.turning == 0 and 2 * self.filled == 3 * len(triangles):
            # Each edge runs forwards as often as backwards, and no edge has both ends equal.
            forward = self.forward[: self.filled]
            spare = _reusable("spare", self.filled, np.uint64)
            twice = stl_kernels.any_twice(forward, spare)
            if twice == stl_kernels.UNDECIDED:  # keys made to collide: sorted instead
                ordered = np.sort(forward)
                twice = int(np.any(ordered[1:] == ordered[:-1]))
            return not twice, not twice
        # Wound both ways somewhere (rare): watertight still if every edge is there exactly
        # twice, i.e. (every key appearing an even number of times) none three times or more.
        keys = np.empty(3 * len(triangles), dtype=np.uint64)
        stl_kernels.edge_keys(_bits(triangles), keys)
        keys.sort()
        return not bool(np.any(keys[2:] == keys[:-2])), False


def _finite(triangles: np.ndarray) -> np.ndarray:
    """The triangles without NaN or infinite coordinates (the common case costs one sum: a
    float32 one, which may overflow to infinity only for huge values, then checked one by one)."""
    if np.isfinite(np.add.reduce(triangles.reshape(-1))):
        return triangles
    return triangles[np.isfinite(triangles.reshape(len(triangles), 9)).all(axis=1)]


def _bounds(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest x, y, z."""
    bounds = _Bounds()
    bounds.add(triangles)
    return bounds.result()


class _Bounds:
    """Lowest and highest x, y, z, added up block by block: reduced over wide rows of 256
    triangles (numpy is slow over a 3-wide axis), the rest kept aside."""

    WIDTH = 9 * 256

    def __init__(self) -> None:
        self.low = np.full(self.WIDTH, np.inf, dtype=np.float32)
        self.high = np.full(self.WIDTH, -np.inf, dtype=np.float32)
        self.spare = np.empty(self.WIDTH, dtype=np.float32)
        self.rest: list[np.ndarray] = []

    def add(self, triangles: np.ndarray) -> None:
        flat = triangles.reshape(-1)
        whole = len(flat) // self.WIDTH * self.WIDTH
        if whole:
            blocks = flat[:whole].reshape(-1, self.WIDTH)
            np.minimum(self.low, np.minimum.reduce(blocks, axis=0, out=self.spare), out=self.low)
            np.maximum(self.high, np.maximum.reduce(blocks, axis=0, out=self.spare), out=self.high)
        if whole < len(flat):
            self.rest.append(flat[whole:].reshape(-1, 3))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        values = np.concatenate([self.low.reshape(-1, 3), self.high.reshape(-1, 3), *self.rest])
        values = values[np.isfinite(values).all(axis=1)]  # the unused rows' infinities
        return values.min(axis=0).astype(float), values.max(axis=0).astype(float)


def mesh_metadata(triangles: np.ndarray, *, encoding: str) -> dict[str, Any]:
    """Triangle count, bounding box (file units, normally mm) and watertight flag."""
    finite = _finite(triangles)
    bounds = _bounds(finite) if len(finite) else None
    watertight, wound = closure(triangles) if len(finite) == len(triangles) else (False, False)
    return _metadata(len(triangles), encoding, bounds, watertight, wound)


def _metadata(
    count: int, encoding: str, bounds: tuple[np.ndarray, np.ndarray] | None, watertight, wound
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"format": "stl", "encoding": encoding, "triangles": count}
    metadata["bounds"] = metadata["size"] = None
    if bounds is not None:
        low, high = bounds
        metadata["bounds"] = {
            "min": [round(float(v), 4) for v in low],
            "max": [round(float(v), 4) for v in high],
        }
        metadata["size"] = [round(float(v), 4) for v in high - low]
    metadata["watertight"] = bool(watertight)
    metadata["winding_consistent"] = bool(wound) if watertight else None
    return metadata


def _rotation(sample: np.ndarray) -> np.ndarray:
    """Rows: screen x, screen y, towards the viewer; the largest extents face the camera."""
    sample = sample.astype(np.float64)  # float32 products of big coordinates overflow
    corners = sample.reshape(-1, 3)
    _, vectors = np.linalg.eigh(np.cov(corners - corners.mean(axis=0), rowvar=False))
    across, toward = vectors[:, 2], vectors[:, 0]
    area = np.cross(sample[:, 1] - sample[:, 0], sample[:, 2] - sample[:, 0])
    if float(area.sum(axis=0) @ toward) < 0:
        toward = -toward  # an open scan shows its outer side
    basis = np.stack([across, np.cross(toward, across), toward])
    # A fixed three-quarter view: tilted down 30 degrees and turned 25.
    a, b = math.radians(30), math.radians(25)
    tilt = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    turn = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    return (turn @ tilt @ basis).astype(np.float32)


def _low(a: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(a[:, 0], a[:, 1]), a[:, 2])


def _high(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(a[:, 0], a[:, 1]), a[:, 2])


def _lattice() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Barycentric weights (u, v) of the points splatted for a triangle cut into steps**2 alike
    smaller ones: their centroids, evenly spread and none shared with a neighbour. For every
    steps from 1 to LATTICE, one after the other: those of ``steps`` from ``start[steps]`` to
    ``start[steps + 1]``."""
    us, vs, start = [], [], [0, 0]
    for steps in range(1, LATTICE + 1):
        i, j = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
        up = i + j <= steps - 1  # (i, j), (i+1, j), (i, j+1)
        down = i + j <= steps - 2  # (i+1, j), (i, j+1), (i+1, j+1)
        us.append(np.concatenate([i[up] + 1 / 3, i[down] + 2 / 3]) / steps)
        vs.append(np.concatenate([j[up] + 1 / 3, j[down] + 2 / 3]) / steps)
        start.append(start[-1] + len(us[-1]))
    u, v = (np.concatenate(w).astype(np.float32) for w in (us, vs))
    return u, v, np.array(start, dtype=np.int64)


_LATTICE = _lattice()
# What stl_kernels.draw needs of this module's settings.
_SETTINGS = (SPACING, LATTICE, DENSE_EXTENT, DENSE_AREA, CODE_BITS, DEPTH_LEVELS)


def _fill(zbuf: np.ndarray, side: int, sx, sy, sd, codes, box: tuple[int, int], levels) -> None:
    """Larger triangles: test every pixel centre of a width x height box with edge functions,
    the depth interpolated at each pixel."""
    across = np.arange(box[0], dtype=np.float32) + np.float32(0.5)
    down = np.arange(box[1], dtype=np.float32) + np.float32(0.5)
    chunk = max(1, CHUNK_PIXELS // (box[0] * box[1]))
    for start in range(0, len(sx), chunk):
        part = slice(start, start + chunk)
        tx, ty, td, tc = sx[part], sy[part], sd[part], codes[part]
        x0, y0 = np.floor(_low(tx)), np.floor(_low(ty))
        # Edge k is linear in the pixel centre: a*x + b*y + c, from corner k+1 to k+2,
        # signed so that inside is >= 0 whatever the winding.
        area = (tx[:, 1] - tx[:, 0]) * (ty[:, 2] - ty[:, 0]) - (ty[:, 1] - ty[:, 0]) * (
            tx[:, 2] - tx[:, 0]
        )
        sign = np.where(area < 0, np.float32(-1), np.float32(1))
        inside = None
        edges = []
        for k in range(3):
            i, j = (k + 1) % 3, (k + 2) % 3
            a = (ty[:, i] - ty[:, j]) * sign
            b = (tx[:, j] - tx[:, i]) * sign
            c = a * (x0 - tx[:, i]) + b * (y0 - ty[:, i])  # at the box's corner
            value = (a[:, None, None] * across[None, None, :] + c[:, None, None]) + (
                b[:, None, None] * down[None, :, None]
            )
            edges.append(value)
            inside = value >= -1e-3 if inside is None else inside & (value >= -1e-3)
        hit, hy, hx = np.nonzero(inside)
        if not len(hit):
            continue
        norm = np.abs(area[hit])
        depth = (edges[0][hit, hy, hx] * td[hit, 0] + edges[1][hit, hy, hx] * td[hit, 1]) / norm
        depth += edges[2][hit, hy, hx] * td[hit, 2] / norm
        quantised = np.clip(depth * np.float32(levels), 0, DEPTH_LEVELS).astype(np.uint32)
        px = np.clip(x0[hit].astype(np.intp) + hx, 0, side - 1)
        py = np.clip(y0[hit].astype(np.intp) + hy, 0, side - 1)
        np.minimum.at(zbuf, py * side + px, (quantised << CODE_BITS) | tc[hit])


def _box_size(span: np.ndarray) -> np.ndarray:
    """Exact up to 8 pixels, then the next power of two (fewer, larger batches)."""
    rounded = 2 ** np.ceil(np.log2(np.maximum(span, 1))).astype(np.int64)
    return np.where(span <= 8, np.maximum(span, 1), rounded)


def render(triangles: np.ndarray, *, size: int, closed: bool = False) -> bytes:
    """A shaded orthographic three-quarter view as PNG bytes, size x size.

    ``closed`` (watertight and consistently wound): faces turned away are
    hidden behind the others, so they are not drawn at all; an open scan
    shows its inside. The z-buffer holds 32-bit keys, the distance above the
    face's shade, so the nearest face wins with one ``np.minimum.at`` and
    the picture is a palette lookup.
    """
    triangles = _finite(triangles)
    if not len(triangles):
        raise MeshError("the mesh has no triangles")
    supersample = SUPERSAMPLE if len(triangles) <= SUPERSAMPLE_UP_TO else 1
    side = size * supersample
    return _shade(zbuffer(triangles, side, closed=closed), side=side, supersample=supersample)


def preview(triangles: np.ndarray, *, encoding: str, size: int) -> tuple[dict[str, Any], bytes]:
    """mesh_metadata() and render() together: the same metadata and picture, the triangles
    read from the file's records as they are, once for the check and bounds
    (stl_kernels.scan, in a second thread) and once for the drawing
    (stl_kernels.draw, at the same time).

    The drawing cannot wait for the watertight check, so it assumes a
    closed mesh (the common case of a scan's solid model) and leaves out the
    faces turned away, noting them; an open mesh gets them drawn afterwards.
    A picture framed from a sample that missed a corner, or a closed mesh
    found inside out, is drawn again. Raises MeshError (its ``metadata`` set)
    when there is nothing to draw.
    """
    if len(triangles) < 4:  # not a solid
        return _two_passes(triangles, encoding=encoding, size=size)
    triangles = triangles.astype(np.float32, copy=False)  # the scan reads their bits too
    supersample = SUPERSAMPLE if len(triangles) <= SUPERSAMPLE_UP_TO else 1
    side = size * supersample
    sample = triangles[:: max(1, len(triangles) // 2_000)]
    if not np.isfinite(sample).all():  # not a solid (the scan checks every triangle too)
        return _two_passes(triangles, encoding=encoding, size=size)
    rotation = _rotation(sample)
    low, high = _provisional(triangles, rotation)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        return _two_passes(triangles, encoding=encoding, size=size)
    canvas = _Canvas(_View(rotation, low, high, side))
    sums = _EdgeSums(len(triangles))
    lowest, highest = np.full(3, np.inf, np.float32), np.full(3, -np.inf, np.float32)
    # The check's scan on a second core while this one draws: the two compiled loops let go
    # of the GIL, and neither reads what the other writes.
    scanning = _scanner().submit(
        stl_kernels.scan, triangles, triangles.view(np.uint32), sums.forward, 0, lowest, highest
    )
    try:
        hidden = canvas.draw(triangles, closed=True, flip=False)
    finally:
        finite, mixed, turning, sums.filled = scanning.result()
    if not finite:  # NaN or infinite coordinates: not a solid
        return _two_passes(triangles, encoding=encoding, size=size)
    sums.mixed, sums.turning = int(mixed), int(turning)
    watertight, wound = sums.closure(triangles)
    bounds = (lowest.astype(float), highest.astype(float))
    metadata = _metadata(len(triangles), encoding, bounds, watertight, wound)
    closed = watertight and wound
    if (canvas.beyond and len(triangles) > 20_000) or (closed and canvas.inside_out):
        zbuf = zbuffer(triangles, side, closed=closed)  # rare: drawn again as render() does
    else:
        if not closed:  # an open mesh shows the faces turned away too
            for start in range(0, len(hidden), CHUNK):
                block = np.take(triangles, hidden[start : start + CHUNK], axis=0)
                canvas.draw(block, closed=False, flip=False)
        zbuf = canvas.finish()
    return metadata, _shade(zbuf, side=side, supersample=supersample)


@functools.cache
def _scanner() -> ThreadPoolExecutor:
    """One thread for preview()'s scan (made on first use: only preview workers need it)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="stl-scan")


def _two_passes(triangles: np.ndarray, *, encoding: str, size: int) -> tuple[dict, bytes]:
    """preview() of a mesh that cannot be a solid (too few triangles, or some not finite)."""
    triangles = np.ascontiguousarray(triangles)
    metadata = mesh_metadata(triangles, encoding=encoding)
    try:
        return metadata, render(triangles, size=size, closed=False)
    except MeshError as exc:
        exc.metadata = metadata
        raise


class _View:
    """Model to screen: x and y in pixels (y down) and the distance from the viewer in pixels
    too, each an affine function of the model's coordinates; the three axes are a proper
    rotation, so a normal keeps its sense."""

    def __init__(self, rotation: np.ndarray, low: np.ndarray, high: np.ndarray, side: int):
        scale = side * (1 - 2 * MARGIN) / (max(high[0] - low[0], high[1] - low[1]) or 1.0)
        sign = np.array([scale, -scale, -scale])
        self.axes = (rotation.astype(np.float64) * sign[:, None]).astype(np.float32)
        middle = (low + high) / 2
        self.offsets = np.array(
            [side / 2 - scale * middle[0], side / 2 + scale * middle[1], scale * high[2]],
            dtype=np.float32,
        )
        self.side = side
        self.depth = max(scale * (high[2] - low[2]), 1e-6)  # in pixels, nearest to farthest
        self.levels = DEPTH_LEVELS / self.depth  # per pixel


def _provisional(triangles: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotated model's bounds from a sample of its triangles, widened a little (the
    drawing checks every corner against them)."""
    step = max(1, len(triangles) // 20_000)
    low, high = _bounds_along(triangles[::step], rotation)
    pad = 0.015 * float((high - low).max()) if step > 1 else 0.0
    return low - pad, high + pad


def _bounds_along(triangles: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest coordinates of the corners along the rotation's rows."""
    lows, highs = [], []
    for start in range(0, len(triangles), CHUNK):
        # One row per axis: numpy reduces along long rows far faster than over 3-wide ones.
        rotated = rotation @ np.ascontiguousarray(triangles[start : start + CHUNK]).reshape(-1, 3).T
        lows.append(rotated.min(axis=1))
        highs.append(rotated.max(axis=1))
    return np.min(lows, axis=0).astype(float), np.max(highs, axis=0).astype(float)


def zbuffer(triangles: np.ndarray, side: int, *, closed: bool) -> np.ndarray:
    """The keys (side * side, uint32) of the nearest face at every pixel; _EMPTY where none.

    One pass over blocks of CHUNK triangles, so every temporary stays in the
    CPU cache. It trusts bounds measured on a sample and starts again with
    the true ones in the rare case a corner falls outside the picture or the
    depth range; and again, the other way round, for a closed mesh found
    inside out.
    """
    rotation = _rotation(triangles[:: max(1, len(triangles) // 2_000)])
    low, high = _provisional(triangles, rotation)
    exact = len(triangles) <= 20_000
    flip = False
    while True:
        canvas = _Canvas(_View(rotation, low, high, side))
        for start in range(0, len(triangles), CHUNK):
            canvas.draw(triangles[start : start + CHUNK], closed=closed, flip=flip)
        if canvas.beyond and not exact:
            low, high = _bounds_along(triangles, rotation)
            exact = True
            continue
        if closed and canvas.inside_out != flip:
            flip = not flip
            continue
        return canvas.finish()


class _Canvas:
    """A z-buffer being drawn block by block; whether a corner fell beyond the picture or the
    depth range (clamped to them); the mesh's signed volume times an unknown positive factor."""

    def __init__(self, view: _View):
        self.view = view
        self.zbuf = np.full(view.side * view.side, _EMPTY, dtype=np.uint32)
        self.beyond = False
        self.volume = 0.0
        self.big: list[tuple[np.ndarray, ...]] = []

    @property
    def inside_out(self) -> bool:
        """Six times the enclosed volume of a closed mesh (divergence theorem), up to a
        positive factor, is negative: its normals point in."""
        return self.volume < 0

    def draw(self, triangles: np.ndarray, *, closed: bool, flip: bool) -> np.ndarray:
        """Draws triangles (``flip``: the normals point in; ``closed``: faces turned away are
        left out) with stl_kernels.draw, CHUNK at a time (its scratch stays small). The
        indices of the faces left out as turned away, which an open mesh would show."""
        view, n = self.view, min(CHUNK, len(triangles))
        hidden = _reusable("hidden", n, np.intp)
        corners = _reusable("big_corners", 9 * n, np.float32).reshape(n, 3, 3)
        codes = _reusable("big_codes", n, np.uint32)
        turned = []
        for start in range(0, len(triangles), CHUNK):
            n_hidden, n_big, beyond, volume = stl_kernels.draw(
                triangles[start : start + CHUNK],
                view.axes,
                view.offsets,
                (view.side, float(view.depth), float(view.levels)),
                closed,
                flip,
                self.zbuf,
                *_LATTICE,
                hidden,
                corners,
                codes,
                _SETTINGS,
            )
            self.beyond |= beyond
            self.volume += volume
            if n_big:  # filled exactly by finish(): x, y, distance per corner; shade code
                x, y, d = (corners[:n_big, axis].copy() for axis in range(3))
                self.big.append((x, y, d, codes[:n_big].copy()))
            if n_hidden:
                turned.append(hidden[:n_hidden] + start)
        return np.concatenate(turned) if turned else np.empty(0, dtype=np.intp)

    def finish(self) -> np.ndarray:
        """The z-buffer, with the large triangles filled in."""
        if self.big:
            parts = (np.concatenate(part) for part in zip(*self.big, strict=True))
            _fill_all(self.zbuf, self.view.side, *parts, self.view)
            self.big = []
        return self.zbuf


def _fill_all(zbuf: np.ndarray, side: int, x, y, d, codes, view: _View) -> None:
    """Large triangles, batched by the size of the box of pixels around them."""
    wide = _box_size((np.ceil(_high(x)) - np.floor(_low(x))).astype(np.int64))
    tall = _box_size((np.ceil(_high(y)) - np.floor(_low(y))).astype(np.int64))
    boxes = wide * 65536 + tall
    for box in np.unique(boxes):
        chosen = np.flatnonzero(boxes == box)
        size = divmod(int(box), 65536)
        _fill(zbuf, side, x[chosen], y[chosen], d[chosen], codes[chosen], size, view.levels)


def _palette() -> np.ndarray:
    """RGB per key code: Lambert shading with the light at the viewer, two-sided; 256 levels
    of the cosine for the outer side, 256 for the inner, then the background."""
    light = AMBIENT + (1 - AMBIENT) * np.arange(256) / 255
    palette = np.broadcast_to(BACKGROUND, (1 << CODE_BITS, 3)).copy()
    palette[:256] = FRONT * light[:, None]
    palette[256:512] = BACK * light[:, None]
    return np.round(palette).astype(np.uint8)


PALETTE = _palette()


def _indexed() -> tuple[np.ndarray, bytes]:
    """PALETTE in 256 colours: each side's 256 shades in 128 (front) and 127 (back) steps of
    about one level of 255 in the picture, and the background last. Per key code, its
    colour's index; and the palette as PNG wants it."""
    index = np.full(1 << CODE_BITS, 255, dtype=np.uint8)
    index[:256] = np.arange(256) * 128 // 256
    index[256:512] = 128 + np.arange(256) * 127 // 256
    colours = np.zeros((256, 3))
    np.add.at(colours, index, PALETTE)
    colours /= np.maximum(np.bincount(index, minlength=256), 1)[:, None]
    colours[255] = PALETTE[-1]
    return index, np.round(colours).astype(np.uint8).tobytes()


INDEX, INDEXED_PALETTE = _indexed()


def _shade(zbuf: np.ndarray, *, side: int, supersample: int) -> bytes:
    """The z-buffer's codes through the palette, reduced to the asked size, as PNG: indexed
    colour when it needs no reducing (a third of the pixels to compress, in a third of the
    time)."""
    codes = zbuf & np.uint32((1 << CODE_BITS) - 1)
    if supersample > 1:
        image = Image.fromarray(PALETTE[codes].reshape(side, side, 3), "RGB")
        image = image.reduce(supersample)
    else:
        image = Image.fromarray(INDEX[codes].reshape(side, side), "P")
        image.putpalette(INDEXED_PALETTE)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_LEVEL)
    return out.getvalue()
