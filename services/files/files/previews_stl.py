"""STL previews: parse with numpy, check watertightness, draw a shaded view without a display.

trimesh's own renderer needs an OpenGL context, which a service worker does
not have, and its ``is_watertight`` needs a processed mesh (vertices merged
by a sort of every vertex), which for a 1,000,000-triangle scan costs more
than the whole preview may. So this module reads the triangles itself with
numpy, checks edges by hashing their end points (see ``closure``), and
rasterises with a vectorised z-buffer of 32-bit keys (distance, then shade):
triangles of a few pixels, nearly all of them in a dense scan, are splatted
as evenly spread points, larger ones filled exactly with edge functions over
their bounding boxes. Meshes of up to SUPERSAMPLE_UP_TO triangles are drawn
at twice the size, then reduced for anti-aliasing; denser ones, whose
triangles are smaller than a pixel anyway, at the asked size, and saved
as a 256-colour PNG. Both the check and the drawing go over the triangles
in blocks of CHUNK, so numpy's temporaries stay in the CPU cache: memory,
not arithmetic, is what a million triangles cost. ``preview`` (what the
service runs) does both in the same pass over a binary file's records,
mapped rather than read, each block copied once while it is in the cache.
"""

from __future__ import annotations

import functools
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

_NEGATIVE_ZERO = np.uint32(0x80000000)  # the bits of -0.0
_BINARY_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
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
    (preview() copies them block by block while they are in the CPU cache, rather than all
    of them at once)."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(84)
    if len(head) == 84:
        count = int.from_bytes(head[80:84], "little")
        if size == 84 + 50 * count:
            if contiguous or not count:
                raw = np.fromfile(path, dtype=_BINARY_TRIANGLE, count=count, offset=84)
                return np.ascontiguousarray(raw["corners"]), "binary"
            # Mapped, not read: the page cache's own pages, no copy of the file in memory.
            records = np.memmap(path, dtype=_BINARY_TRIANGLE, mode="r", offset=84, shape=(count,))
            return records["corners"], "binary"
    data = path.read_bytes()
    if not data.lstrip()[:5].lower() == b"solid":
        raise MeshError("not an STL file")
    text = b" ".join(_ASCII_VERTEX.findall(data)).decode("ascii", "replace")
    coords = np.array(text.split(), dtype=np.float32) if text else np.empty(0, np.float32)
    if coords.size % 9:
        raise MeshError("an ASCII STL facet does not have three vertices of three numbers")
    return coords.reshape(-1, 3, 3), "ascii"


class _Scratch:
    """Arrays reused from block to block: fresh ones of this size cost page faults."""

    def __init__(self, triangles: int):
        self.hashes = np.empty(3 * triangles, dtype=np.uint64)
        self.spare = np.empty(3 * triangles, dtype=np.uint64)
        self.keys = np.empty((3, triangles), dtype=np.uint64)
        self.below = np.empty(triangles, dtype=bool)


def _corner_hashes(triangles: np.ndarray, scratch: _Scratch | None = None) -> np.ndarray:
    """A 64-bit hash per corner (n, 3) of its exact coordinates: equal points, equal hashes."""
    flat = np.ascontiguousarray(triangles, dtype=np.float32).reshape(-1, 3)
    if np.any(flat.view(np.uint32) == _NEGATIVE_ZERO):
        flat = flat + np.float32(0.0)  # -0.0 becomes 0.0: the same point
    scratch = scratch or _Scratch(len(flat) // 3)
    h, spare = scratch.hashes[: len(flat)], scratch.spare[: len(flat)]
    # x and y as one (unaligned) 64-bit word, then z.
    xy = np.ndarray((len(flat),), dtype=np.uint64, buffer=flat, strides=(12,))
    np.multiply(xy, np.uint64(0x9E3779B97F4A7C15), out=h)
    np.multiply(flat[:, 2].view(np.uint32), np.uint64(0xC2B2AE3D27D4EB4F), out=spare)
    h ^= spare
    # A finaliser (MurmurHash3's): sums of two hashes must not keep the coordinates' symmetries.
    h ^= np.right_shift(h, np.uint64(33), out=spare)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= np.right_shift(h, np.uint64(29), out=spare)
    return h.reshape(-1, 3)


_EDGES = ((0, 1), (1, 2), (2, 0))


def _edge_keys(h: np.ndarray, scratch: _Scratch | None = None) -> list[tuple[np.ndarray, ...]]:
    """Per edge of every triangle: the hashes of its start and end, and its key, the same
    whichever way round it runs."""
    scratch = scratch or _Scratch(len(h))
    spare = scratch.spare[: len(h)]
    edges = []
    for row, (i, j) in zip(scratch.keys, _EDGES, strict=True):
        start, end, key = h[:, i], h[:, j], row[: len(h)]
        np.add(start, end, out=key)
        key *= np.uint64(0xC4CEB9FE1A85EC53)
        key ^= np.right_shift(key, np.uint64(32), out=spare)
        edges.append((start, end, key))
    return edges


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
    run forwards; that is checked by counting them in hash buckets and
    sorting the few left in crowded ones.
    """
    if len(triangles) < 4:
        return False, False
    sums = _EdgeSums(min(CHUNK, len(triangles)))
    for begin in range(0, len(triangles), CHUNK):
        sums.add(triangles[begin : begin + CHUNK])
    return sums.closure(triangles)


class _EdgeSums:
    """For closure(), added up block by block: the XOR of the edge keys, the winding sum, and
    the keys of the edges that run forwards, already split by their top bits (see _at_most)
    while each block's are in the CPU cache."""

    def __init__(self, chunk: int):
        self.mixed = np.uint64(0)
        self.turning = 0
        self.forwards = 0
        self.parts: list[list[np.ndarray]] = [[] for _ in range(PARTS)]
        self.scratch = _Scratch(chunk)

    def add(self, triangles: np.ndarray) -> None:
        h = _corner_hashes(triangles, self.scratch)
        below = self.scratch.below[: len(h)]
        forwards = []
        for start, end, key in _edge_keys(h, self.scratch):
            self.mixed ^= np.bitwise_xor.reduce(key)
            # flatnonzero and take: several times faster than a boolean index here.
            forward = key[np.flatnonzero(np.less(start, end, out=below))]
            forwards.append(forward)
            # Keys of edges run forwards, less those run backwards (or from a point to itself).
            self.turning += 2 * int(forward.sum()) - int(key.sum())
        forward = np.concatenate(forwards)
        self.forwards += len(forward)
        for part, keys in zip(self.parts, _split(forward), strict=True):
            part.append(keys)

    def closure(self, triangles: np.ndarray) -> tuple[bool, bool]:
        """closure() of all the triangles added, which are ``triangles``."""
        if len(triangles) < 4 or self.mixed != 0:
            return False, False
        if self.turning % 2**64 == 0 and 2 * self.forwards == 3 * len(triangles):
            # Each edge runs forwards as often as backwards, and no edge has both ends equal.
            once = _at_most_in([np.concatenate(part) for part in self.parts], 1)
            return once, once
        # Wound both ways somewhere: watertight still if every edge is there exactly twice.
        keys = [key.copy() for *_, key in _edge_keys(_corner_hashes(triangles))]
        return _at_most(np.concatenate(keys), 2), False


PARTS = 16  # _at_most splits the keys by their top 4 bits


def _split(keys: np.ndarray) -> list[np.ndarray]:
    """The keys split by their top 4 bits (PARTS)."""
    top = (keys >> np.uint64(60)).astype(np.uint8)
    ends = np.cumsum(np.bincount(top, minlength=PARTS))[:-1]
    return np.split(keys[np.argsort(top, kind="stable")], ends)


def _at_most(keys: np.ndarray, times: int) -> bool:
    """Whether no key appears more than ``times`` times (1, or 2 when every key appears an
    even number of times)."""
    return _at_most_in(_split(keys) if len(keys) > 65_536 else [keys], times)


def _at_most_in(parts: list[np.ndarray], times: int) -> bool:
    """_at_most() of keys split in parts that no key spans (by their top bits, so that each
    part's hash table stays in the CPU cache).

    A bucket of a table holding at most ``times`` keys is fine, so only
    keys in crowded buckets are looked at again: by other bits of the key,
    and the few left sorted.
    """
    rest = np.sort(np.concatenate(_crowded(parts, times=times)))
    return not np.any(rest[times:] == rest[:-times])


def _crowded(parts: list[np.ndarray], *, times: int) -> list[np.ndarray]:
    """The keys of each part that share a bucket of its hash table with more than ``times``
    others, twice over (by two other slices of the key's bits)."""
    left = []
    for part in parts:
        for shift, spare in ((40, 1), (18, 3)):
            if len(part) < 256:
                break
            # About 2 (then 8) buckets a key: the second table is sparser, fewer are left.
            bits = min(20, math.ceil(math.log2(len(part))) + spare)
            bucket = (part >> np.uint64(shift)).astype(np.intp)
            bucket &= (1 << bits) - 1
            crowded = np.bincount(bucket, minlength=1 << bits) > times
            part = part[np.flatnonzero(crowded[bucket])]
        left.append(part)
    return left


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


@functools.cache
def _lattice(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric weights of the points splatted for a triangle cut into steps**2 alike
    smaller ones: their centroids, evenly spread and none shared with a neighbour."""
    i, j = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    up = i + j <= steps - 1  # (i, j), (i+1, j), (i, j+1)
    down = i + j <= steps - 2  # (i+1, j), (i, j+1), (i+1, j+1)
    u = np.concatenate([i[up] + 1 / 3, i[down] + 2 / 3]) / steps
    v = np.concatenate([j[up] + 1 / 3, j[down] + 2 / 3]) / steps
    return u.astype(np.float32), v.astype(np.float32)


def _splat(zbuf: np.ndarray, side: int, corner, first, second, keys, steps: int) -> None:
    """Small triangles: points of a barycentric lattice about SPACING apart, each marking the
    pixel it falls in with the face's key (its depth is the face's: it is that small).

    ``corner`` is (x, y) of the first corner, ``first`` and ``second`` the (x, y) of the two
    edges from it, one value per triangle each.
    """
    if steps == 1:
        third = np.float32(1 / 3)
        px, py = ((e1 + e2) * third + c for c, e1, e2 in zip(corner, first, second, strict=True))
    else:
        u, v = (w[:, None] for w in _lattice(steps))  # one row per point: numpy's loops run long
        px, py = (e1 * u + e2 * v + c for c, e1, e2 in zip(corner, first, second, strict=True))
    pixel = py.astype(np.int32)  # float32 to int32 is several times faster than to int64
    pixel *= np.int32(side)
    pixel += px.astype(np.int32)
    keys = keys if steps == 1 else np.tile(keys, len(pixel))
    np.minimum.at(zbuf, pixel.ravel().astype(np.intp), keys)


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
    """mesh_metadata() and render() in one pass over the triangles: the same metadata and
    picture, but each block of triangles, once in the CPU cache, is both checked and drawn.

    The drawing cannot wait for the watertight check, so it assumes a
    closed mesh (the common case of a scan's solid model) and leaves out the
    faces turned away, noting them; an open mesh gets them drawn afterwards.
    A picture framed from a sample that missed a corner, or a closed mesh
    found inside out, is drawn again. Raises MeshError (its ``metadata`` set)
    when there is nothing to draw.
    """
    if len(triangles) < 4:  # not a solid
        return _two_passes(triangles, encoding=encoding, size=size)
    supersample = SUPERSAMPLE if len(triangles) <= SUPERSAMPLE_UP_TO else 1
    side = size * supersample
    sample = triangles[:: max(1, len(triangles) // 2_000)]
    if not np.isfinite(sample).all():  # not a solid (the blocks below are checked too)
        return _two_passes(triangles, encoding=encoding, size=size)
    rotation = _rotation(sample)
    low, high = _provisional(triangles, rotation)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        return _two_passes(triangles, encoding=encoding, size=size)
    canvas = _Canvas(_View(rotation, low, high, side))
    bounds, hidden = _Bounds(), []
    buffer = np.empty((min(CHUNK, len(triangles)), 3, 3), dtype=np.float32)
    sums = _EdgeSums(min(CHUNK, len(triangles)))
    for start in range(0, len(triangles), CHUNK):
        block = _block(triangles, start, buffer)
        if len(_finite(block)) < len(block):  # NaN or infinite coordinates: not a solid
            return _two_passes(triangles, encoding=encoding, size=size)
        sums.add(block)
        bounds.add(block)
        hidden.append(canvas.draw(block, closed=True, flip=False) + start)
    watertight, wound = sums.closure(triangles)
    metadata = _metadata(len(triangles), encoding, bounds.result(), watertight, wound)
    closed = watertight and wound
    if (canvas.beyond and len(triangles) > 20_000) or (closed and canvas.inside_out):
        zbuf = zbuffer(triangles, side, closed=closed)  # rare: drawn again as render() does
    else:
        if not closed:  # an open mesh shows the faces turned away too
            turned = np.concatenate(hidden)
            for start in range(0, len(turned), CHUNK):
                block = np.take(triangles, turned[start : start + CHUNK], axis=0)
                canvas.draw(block, closed=False, flip=False)
        zbuf = canvas.finish()
    return metadata, _shade(zbuf, side=side, supersample=supersample)


def _block(triangles: np.ndarray, start: int, buffer: np.ndarray) -> np.ndarray:
    """Triangles ``start`` to ``start + CHUNK``: contiguous, copied into ``buffer`` (while they
    are in the CPU cache) from the corners of a file's records."""
    block = triangles[start : start + CHUNK]
    if block.flags.c_contiguous:
        return block
    np.copyto(buffer[: len(block)], block)
    return buffer[: len(block)]


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
        self._buffers: tuple[np.ndarray, np.ndarray] | None = None
        self.depth = max(scale * (high[2] - low[2]), 1e-6)  # in pixels, nearest to farthest
        self.levels = DEPTH_LEVELS / self.depth  # per pixel

    def project(self, triangles: np.ndarray) -> list[np.ndarray]:
        """Screen x, y and distance per corner, each (n, 3). Reuses two buffers: the arrays
        returned are overwritten by the next call."""
        corners = 3 * len(triangles)
        if self._buffers is None or self._buffers[0].shape[1] != corners:
            self._buffers = (np.empty((3, corners), np.float32), np.empty((3, corners), np.float32))
        columns, rows = self._buffers
        np.copyto(columns, triangles.reshape(-1, 3).T)  # x, y, z of every corner, contiguous
        np.dot(self.axes, columns, out=rows)
        rows += self.offsets[:, None]
        return [row.reshape(-1, 3) for row in rows]


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

    def draw(self, block: np.ndarray, *, closed: bool, flip: bool) -> np.ndarray:
        """Draws some triangles (``flip``: the normals point in; ``closed``: faces turned away
        are left out). The indices in ``block`` of the faces of some area left out as turned
        away, which an open mesh would show."""
        view, zbuf = self.view, self.zbuf
        side = view.side
        x, y, d = view.project(block)
        edge = np.nextafter(np.float32(side), np.float32(0))  # the last x or y in the picture
        limits = ((x, edge), (y, edge), (d, np.float32(view.depth)))
        if any(value.min() < 0 or value.max() > top for value, top in limits):
            self.beyond = True
            for value, top in limits:
                np.clip(value, 0, top, out=value)
        hidden = np.empty(0, dtype=np.intp)
        # Twice the area on the screen, signed: negative for a face turned towards the viewer
        # (its normal's component away from the viewer); and three times the centroid's distance.
        nd = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (y[:, 1] - y[:, 0]) * (x[:, 2] - x[:, 0])
        distance = d[:, 0] + d[:, 1]
        distance += d[:, 2]
        self.volume += float(np.dot(nd, distance))
        if closed:  # the far side is hidden by the near one: only faces turned towards are drawn
            towards = np.greater(nd, 0) if flip else np.less(nd, 0)
            hidden = np.flatnonzero(~towards)
            chosen = np.flatnonzero(towards)
            # take along axis 0: several times faster than x[chosen] for these (n, 3) arrays.
            x, y, d = (np.take(value, chosen, axis=0) for value in (x, y, d))
            distance = distance[chosen]
        e1x, e1y, e1d = x[:, 1] - x[:, 0], y[:, 1] - y[:, 0], d[:, 1] - d[:, 0]
        e2x, e2y, e2d = x[:, 2] - x[:, 0], y[:, 2] - y[:, 0], d[:, 2] - d[:, 0]
        nd = e1x * e2y - e1y * e2x
        length = np.sqrt((e1y * e2d - e1d * e2y) ** 2 + (e1d * e2x - e1x * e2d) ** 2 + nd * nd)
        with np.errstate(invalid="ignore", divide="ignore"):
            facing = nd / (length if flip else -length)  # cosine towards the viewer
        drawable = length > 0
        extent = np.maximum(_span(e1x, e2x), _span(e1y, e2y))
        # A face of a dense mesh, small in both extent and area, is one point: its neighbours'
        # points are closer than a pixel all round.
        dense = np.less_equal(extent, np.float32(DENSE_EXTENT))
        dense &= np.less_equal(np.abs(nd), np.float32(2 * DENSE_AREA))
        extent *= np.float32(1 / SPACING)
        steps = np.clip(np.ceil(extent, out=extent), 1, LATTICE + 1).astype(np.int8)
        np.putmask(steps, dense, np.int8(1))
        steps *= drawable  # 0: not drawn

        codes = np.abs(facing)
        codes *= np.float32(255)
        codes += np.float32(0.5)
        with np.errstate(invalid="ignore"):  # NaN for a face of no area, which is not drawn
            codes = codes.astype(np.uint32)
        back = (facing < 0).astype(np.uint32)  # seen from behind: the second half of the palette
        back <<= np.uint32(8)
        codes |= back
        distance *= np.float32(view.levels / 3)
        np.clip(distance, 0, DEPTH_LEVELS, out=distance)
        keys = distance.astype(np.uint32)
        keys <<= np.uint32(CODE_BITS)
        keys |= codes

        parts = (x[:, 0], y[:, 0], e1x, e1y, e2x, e2y, keys)
        for count in range(1, LATTICE + 1):
            chosen = np.flatnonzero(steps == count)
            if len(chosen) == len(steps):
                x0, y0, ax, ay, bx, by, k = parts
            elif len(chosen):
                x0, y0, ax, ay, bx, by, k = (part[chosen] for part in parts)
            else:
                continue
            _splat(zbuf, side, (x0, y0), (ax, ay), (bx, by), k, count)
        chosen = np.flatnonzero(steps == LATTICE + 1)
        if len(chosen):
            self.big.append((x[chosen], y[chosen], d[chosen], codes[chosen]))
        return hidden

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


def _span(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The width of a triangle along one axis from its two edges out of corner 0."""
    span = np.abs(first - second)
    np.maximum(span, np.abs(first), out=span)
    return np.maximum(span, np.abs(second), out=span)


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
