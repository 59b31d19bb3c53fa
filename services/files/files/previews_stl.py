"""STL previews: parse with numpy, check watertightness, draw a shaded view without a display.

trimesh's own renderer needs an OpenGL context, which a service worker does
not have, and its ``is_watertight`` needs a processed mesh (vertices merged
by a sort of every vertex), which for a 1,000,000-triangle scan costs more
than the whole preview may. So this module reads the triangles itself with
numpy, checks edges by hashing their end points, and rasterises with a
vectorised z-buffer: tiny triangles are splatted as points, larger ones
filled with edge functions over their bounding boxes, at twice the size,
then reduced for anti-aliasing.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

_BINARY_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
_ASCII_VERTEX = re.compile(rb"vertex\s+([^\r\n]+)")
_NO_FACE = np.uint64(np.iinfo(np.uint64).max)
_FACE_BITS = np.uint64(0xFFFFFFFF)

BACKGROUND = np.array([242, 244, 247], dtype=np.float32)
FRONT = np.array([214, 206, 188], dtype=np.float32)  # ivory, like a stone model
BACK = np.array([150, 160, 185], dtype=np.float32)  # the inside of an open scan, bluish
AMBIENT = 0.22
SUPERSAMPLE = 2
MARGIN = 0.06
# Candidate pixels tested per chunk by the rasteriser (bounds its memory).
CHUNK_PIXELS = 1 << 21


class MeshError(ValueError):
    """The file holds no drawable mesh."""


def read_triangles(path: Path) -> tuple[np.ndarray, str]:
    """The file's triangles as float32 (n, 3, 3), and "binary" or "ascii"."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(84)
    if len(head) == 84:
        count = int.from_bytes(head[80:84], "little")
        if size == 84 + 50 * count:
            raw = np.fromfile(path, dtype=_BINARY_TRIANGLE, count=count, offset=84)
            return np.ascontiguousarray(raw["corners"]), "binary"
    data = path.read_bytes()
    if not data.lstrip()[:5].lower() == b"solid":
        raise MeshError("not an STL file")
    text = b" ".join(_ASCII_VERTEX.findall(data)).decode("ascii", "replace")
    coords = np.array(text.split(), dtype=np.float32) if text else np.empty(0, np.float32)
    if coords.size % 9:
        raise MeshError("an ASCII STL facet does not have three vertices of three numbers")
    return coords.reshape(-1, 3, 3), "ascii"


def _corner_hashes(triangles: np.ndarray) -> np.ndarray:
    """A 64-bit hash per corner (n, 3) of its exact coordinates: equal points, equal hashes."""
    bits = (triangles.reshape(-1, 3) + np.float32(0.0)).view(np.uint32)  # folds -0.0 into 0.0
    h = bits[:, 0].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= bits[:, 1].astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= bits[:, 2].astype(np.uint64) * np.uint64(0x165667B19E3779F9)
    h ^= h >> np.uint64(31)
    return h.reshape(-1, 3)


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 64-bit hash of the ordered pair (a, b); not a sum of parts, so sums of it tell order."""
    h = ((a * np.uint64(0xD6E8FEB86659FD93)) ^ b) * np.uint64(0xFF51AFD7ED558CCD)
    return h ^ (h >> np.uint64(32))


def closure(triangles: np.ndarray) -> tuple[bool, bool]:
    """(watertight, consistently wound): every edge, after merging equal vertices, is shared by
    exactly two triangles; and each of them runs it in opposite directions (outward normals).

    Vertices are merged by their exact coordinates (STL writers repeat them
    bit for bit). An open mesh is told in one pass: the XOR of all edge keys
    is zero when every edge appears an even number of times, so a non-zero
    XOR proves an edge with an odd count (a boundary). A mesh that passes
    (all counts even, up to a 2**-64 chance) has its crowded hash buckets
    sorted to prove no edge is there four or more times. Winding: the sum of
    a hash of every directed edge equals that of every reversed one.
    """
    if len(triangles) < 4:
        return False, False
    h = _corner_hashes(triangles)
    pairs = [(h[:, i], h[:, j]) for i, j in ((0, 1), (1, 2), (2, 0))]
    keys = np.concatenate([_mix(np.minimum(a, b), np.maximum(a, b)) for a, b in pairs])
    if np.bitwise_xor.reduce(keys) != 0:
        return False, False
    # Two keys alone in a hash bucket are one edge twice; crowded buckets are sorted.
    bits = int(min(23, max(10, math.ceil(math.log2(len(keys))))))
    bucket = (keys >> np.uint64(64 - bits)).astype(np.int64)
    counts = np.bincount(bucket, minlength=1 << bits)
    crowded = np.sort(keys[counts[bucket] > 2])
    first, second = crowded[0::2], crowded[1::2]
    if len(first) != len(second) or not np.array_equal(first, second):
        return False, False
    if np.any(second[:-1] == first[1:]):
        return False, False
    forward = sum(int(_mix(a, b).sum()) - int(_mix(b, a).sum()) for a, b in pairs)
    return True, forward % 2**64 == 0


def _finite(triangles: np.ndarray) -> np.ndarray:
    """The triangles without NaN or infinite coordinates (the common case costs one sum)."""
    if np.isfinite(triangles.sum(dtype=np.float64)):
        return triangles
    return triangles[np.isfinite(triangles.reshape(len(triangles), 9)).all(axis=1)]


def _bounds(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest x, y, z: reduced over wide rows (numpy is slow over a 3-wide axis)."""
    flat = triangles.reshape(-1)
    width = 9 * 256
    whole = len(flat) // width * width
    parts = [flat[whole:].reshape(-1, 3)]
    if whole:
        blocks = flat[:whole].reshape(-1, width)
        parts += [blocks.min(axis=0).reshape(-1, 3), blocks.max(axis=0).reshape(-1, 3)]
    values = np.concatenate(parts)
    return values.min(axis=0).astype(float), values.max(axis=0).astype(float)


def mesh_metadata(triangles: np.ndarray, *, encoding: str) -> dict[str, Any]:
    """Triangle count, bounding box (file units, normally mm) and watertight flag."""
    finite = _finite(triangles)
    metadata: dict[str, Any] = {"format": "stl", "encoding": encoding, "triangles": len(triangles)}
    metadata["bounds"] = metadata["size"] = None
    if len(finite):
        low, high = _bounds(finite)
        metadata["bounds"] = {
            "min": [round(float(v), 4) for v in low],
            "max": [round(float(v), 4) for v in high],
        }
        metadata["size"] = [round(float(v), 4) for v in high - low]
    watertight, wound = closure(triangles) if len(finite) == len(triangles) else (False, False)
    metadata["watertight"] = watertight
    metadata["winding_consistent"] = wound if watertight else None
    return metadata


def _rotation(sample: np.ndarray) -> np.ndarray:
    """Rows: screen x, screen y, towards the viewer; the largest extents face the camera."""
    corners = sample.reshape(-1, 3).astype(np.float64)
    _, vectors = np.linalg.eigh(np.cov(corners - corners.mean(axis=0), rowvar=False))
    across, toward = vectors[:, 2], vectors[:, 0]
    area = np.cross(sample[:, 1] - sample[:, 0], sample[:, 2] - sample[:, 0]).astype(np.float64)
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


def _mean(a: np.ndarray) -> np.ndarray:
    return (a[:, 0] + a[:, 1] + a[:, 2]) * np.float32(1 / 3)


def _face_keys(faces: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """z-buffer keys: quantised distance from the viewer above the face index."""
    return (depth.astype(np.uint64) << np.uint64(32)) | faces.astype(np.uint64)


def _splat(zbuf: np.ndarray, side: int, sx, sy, depth, faces, *, corners: bool) -> None:
    """Tiny triangles: their centroid as a point (within one pixel), and corners (two)."""
    keys = _face_keys(faces, depth)
    points = [(_mean(sx), _mean(sy))]
    if corners:
        points += [(sx[:, k], sy[:, k]) for k in range(3)]
    for x, y in points:
        pixel = y.astype(np.int32) * np.int32(side) + x.astype(np.int32)
        np.minimum.at(zbuf, np.clip(pixel, 0, side * side - 1), keys)


def _fill(zbuf: np.ndarray, side: int, sx, sy, sz, faces, box: tuple[int, int]) -> None:
    """Larger triangles: test every pixel centre of a width x height box with edge functions."""
    across = np.arange(box[0], dtype=np.float32) + np.float32(0.5)
    down = np.arange(box[1], dtype=np.float32) + np.float32(0.5)
    chunk = max(1, CHUNK_PIXELS // (box[0] * box[1]))
    for start in range(0, len(sx), chunk):
        part = slice(start, start + chunk)
        tx, ty, tz, tf = sx[part], sy[part], sz[part], faces[part]
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
        depth = (edges[0][hit, hy, hx] * tz[hit, 0] + edges[1][hit, hy, hx] * tz[hit, 1]) / norm
        depth += edges[2][hit, hy, hx] * tz[hit, 2] / norm
        px = np.minimum(x0[hit].astype(np.int64) + hx, side - 1)
        py = np.minimum(y0[hit].astype(np.int64) + hy, side - 1)
        np.minimum.at(zbuf, py * side + px, _face_keys(tf[hit], np.maximum(depth, 0)))


def _box_size(span: np.ndarray) -> np.ndarray:
    """Exact up to 8 pixels, then the next power of two (fewer, larger batches)."""
    rounded = 2 ** np.ceil(np.log2(np.maximum(span, 1))).astype(np.int64)
    return np.where(span <= 8, np.maximum(span, 1), rounded)


def _project(triangles: np.ndarray, side: int) -> tuple[np.ndarray, ...]:
    """Screen x, y (pixels) and depth (31-bit) per corner; per face the normal's z and
    length; and the signed volume."""
    rotation = _rotation(triangles[:: max(1, len(triangles) // 20_000)])
    corners = triangles.reshape(-1, 3)
    vx, vy, vz = ((corners @ rotation[k]).reshape(-1, 3) for k in range(3))
    ex1, ey1, ez1 = vx[:, 1] - vx[:, 0], vy[:, 1] - vy[:, 0], vz[:, 1] - vz[:, 0]
    ex2, ey2, ez2 = vx[:, 2] - vx[:, 0], vy[:, 2] - vy[:, 0], vz[:, 2] - vz[:, 0]
    nz = ex1 * ey2 - ey1 * ex2
    length = np.sqrt((ey1 * ez2 - ez1 * ey2) ** 2 + (ez1 * ex2 - ex1 * ez2) ** 2 + nz**2)
    low = [float(v.min()) for v in (vx, vy, vz)]
    high = [float(v.max()) for v in (vx, vy, vz)]
    scale = side * (1 - 2 * MARGIN) / (max(high[0] - low[0], high[1] - low[1]) or 1.0)
    sx = (vx - np.float32((low[0] + high[0]) / 2)) * np.float32(scale) + np.float32(side / 2)
    sy = (np.float32((low[1] + high[1]) / 2) - vy) * np.float32(scale) + np.float32(side / 2)
    sz = (np.float32(high[2]) - vz) * np.float32((2**31 - 1) / max(high[2] - low[2], 1e-9))
    # Six times the enclosed volume of a closed mesh (divergence theorem): its sign
    # says whether the normals point out (positive) or in.
    volume = float(np.dot(nz, vz[:, 0] + vz[:, 1] + vz[:, 2])) / 3
    return sx, sy, sz, nz, length, volume


def render(triangles: np.ndarray, *, size: int, closed: bool = False) -> bytes:
    """A shaded orthographic three-quarter view as PNG bytes, size x size.

    ``closed`` (watertight and consistently wound): faces turned away are
    hidden behind the others, so they are not drawn at all; an open scan
    shows its inside.
    """
    triangles = _finite(triangles)
    if not len(triangles):
        raise MeshError("the mesh has no triangles")
    side = size * SUPERSAMPLE
    sx, sy, sz, nz, length, volume = _project(triangles, side)
    with np.errstate(invalid="ignore", divide="ignore"):
        facing = nz / length  # cosine between the face's normal and the view direction
    if closed and volume < 0:
        facing = -facing  # an inside-out solid: its normals point in

    zbuf = np.full(side * side, _NO_FACE, dtype=np.uint64)
    faces = np.arange(len(sx), dtype=np.uint32)
    # Pixels whose centres a triangle's bounding box holds, across and down.
    wide = (np.ceil(_high(sx)) - np.floor(_low(sx))).astype(np.int64)
    tall = (np.ceil(_high(sy)) - np.floor(_low(sy))).astype(np.int64)
    drawable = length > 0
    if closed:  # the far side is hidden by the near one
        drawable &= facing > 0
    dot = (wide <= 1) & (tall <= 1) & drawable
    _splat(zbuf, side, sx[dot], sy[dot], _mean(sz[dot]), faces[dot], corners=False)
    tiny = (wide <= 2) & (tall <= 2) & drawable & ~dot
    _splat(zbuf, side, sx[tiny], sy[tiny], _mean(sz[tiny]), faces[tiny], corners=True)
    rest = np.flatnonzero(~tiny & ~dot & drawable)
    boxes = _box_size(wide[rest]) * 65536 + _box_size(tall[rest])
    for box in np.unique(boxes):
        chosen = rest[boxes == box]
        _fill(
            zbuf, side, sx[chosen], sy[chosen], sz[chosen], faces[chosen], divmod(int(box), 65536)
        )
    return _shade(zbuf, facing, side=side)


def _shade(zbuf: np.ndarray, facing: np.ndarray, *, side: int) -> bytes:
    """Lambert shading with the light at the viewer, two-sided, on a light background."""
    pixels = np.broadcast_to(BACKGROUND, (side * side, 3)).copy()
    drawn = np.flatnonzero(zbuf != _NO_FACE)
    cosine = facing[(zbuf[drawn] & _FACE_BITS).astype(np.int64)]
    light = (AMBIENT + (1 - AMBIENT) * np.abs(cosine))[:, None]
    colour = np.where((cosine >= 0)[:, None], FRONT, BACK)
    pixels[drawn] = colour * light
    image = Image.fromarray(pixels.reshape(side, side, 3).astype(np.uint8), "RGB")
    if SUPERSAMPLE > 1:
        image = image.reduce(SUPERSAMPLE)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()
