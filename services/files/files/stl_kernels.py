"""The inner loops of STL previews, compiled by numba.

previews_stl.py decides what is drawn and checked; these loops do the work
per triangle that numpy would spread over a dozen temporaries of the whole
block: hashing corners and edges for the watertight check, and projecting,
culling and splatting for the drawing. Compiled on first use and cached on
disk (numba's cache: beside this file, or the user's cache folder when this
one is read-only); ``warm()`` compiles them before the first real preview.

Every index written is clamped or bounded by its array: the coordinates
come from an uploaded file.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"nogil": True, "cache": True, "boundscheck": False}

# Multipliers of the corner and edge hashes (golden ratio, xxHash's and MurmurHash3's).
_K_XY = np.uint64(0x9E3779B97F4A7C15)
_K_Z = np.uint64(0xC2B2AE3D27D4EB4F)
_K_MIX = np.uint64(0xFF51AFD7ED558CCD)
_K_EDGE = np.uint64(0xC4CEB9FE1A85EC53)
_S29, _S32, _S33 = np.uint64(29), np.uint64(32), np.uint64(33)
_NEGATIVE_ZERO = np.uint32(0x80000000)  # the bits of -0.0
_EMPTY_SLOT = np.uint64(0)


@numba.njit(inline="always", **_JIT)
def _corner_hash(x, y, z):
    """A 64-bit hash of a corner's exact coordinates, as bits (uint32), -0.0 counted as 0.0:
    equal points, equal hashes."""
    if x == _NEGATIVE_ZERO:
        x = np.uint32(0)
    if y == _NEGATIVE_ZERO:
        y = np.uint32(0)
    if z == _NEGATIVE_ZERO:
        z = np.uint32(0)
    h = (np.uint64(x) | (np.uint64(y) << _S32)) * _K_XY
    h ^= np.uint64(z) * _K_Z
    # MurmurHash3's finaliser: sums of two hashes must not keep the coordinates' symmetries.
    h ^= h >> _S33
    h *= _K_MIX
    h ^= h >> _S29
    return h


@numba.njit(inline="always", **_JIT)
def _edge_key(start, end):
    """The same key whichever way round the edge runs."""
    key = (start + end) * _K_EDGE
    return key ^ (key >> _S32)


@numba.njit(**_JIT)
def edge_keys(bits, out):
    """Every edge's key (3 n of them) into ``out``."""
    k = 0
    for i in range(bits.shape[0]):
        h0 = _corner_hash(bits[i, 0, 0], bits[i, 0, 1], bits[i, 0, 2])
        h1 = _corner_hash(bits[i, 1, 0], bits[i, 1, 1], bits[i, 1, 2])
        h2 = _corner_hash(bits[i, 2, 0], bits[i, 2, 1], bits[i, 2, 2])
        out[k] = _edge_key(h0, h1)
        out[k + 1] = _edge_key(h1, h2)
        out[k + 2] = _edge_key(h2, h0)
        k += 3


_PART_KEYS = 8192  # keys per part of any_twice's table: it stays in the CPU cache
# A table at most half full needs a few probes per key; this many means keys chosen to
# collide, which any_twice leaves to a sort rather than take quadratic time.
_MOST_PROBES = 64
UNDECIDED = 2


@numba.njit(**_JIT)
def any_twice(keys, spare):
    """Whether some key appears twice: 1 if so, 0 if not, UNDECIDED when the keys crowd the
    table (a mesh made to collide: the caller sorts them instead). The keys are spread over
    parts by their top bits (``spare``, as long as ``keys``, holds them so), then each part
    goes through an open-addressing table small enough for the CPU cache."""
    n = keys.shape[0]
    part_bits = 0
    while (n >> part_bits) > _PART_KEYS and part_bits < 16:
        part_bits += 1
    parts = 1 << part_bits
    shift = np.uint64(64 - part_bits) if part_bits else np.uint64(0)
    starts = np.zeros(parts + 1, dtype=np.int64)
    for i in range(n):
        part = np.intp(keys[i] >> shift) if part_bits else np.intp(0)
        starts[part + 1] += 1
    for part in range(parts):
        starts[part + 1] += starts[part]
    cursor = starts[:-1].copy()
    for i in range(n):
        part = np.intp(keys[i] >> shift) if part_bits else np.intp(0)
        spare[cursor[part]] = keys[i]
        cursor[part] += 1
    largest = 0
    for part in range(parts):
        largest = max(largest, starts[part + 1] - starts[part])
    size = 16
    while size < 2 * largest:
        size *= 2
    table = np.zeros(size, dtype=np.uint64)
    for part in range(parts):
        begin, end = starts[part], starts[part + 1]
        slots = 16
        while slots < 2 * (end - begin):
            slots *= 2
        mask = np.uint64(slots - 1)
        zero_seen = False
        for i in range(begin, end):
            key = spare[i]
            if key == _EMPTY_SLOT:  # the table's empty mark: counted aside
                if zero_seen:
                    return 1
                zero_seen = True
                continue
            slot = np.intp(key & mask)
            probes = 0
            while table[slot] != _EMPTY_SLOT:
                if table[slot] == key:
                    return 1
                probes += 1
                if probes > _MOST_PROBES:
                    return UNDECIDED
                slot = (slot + np.intp(1)) & np.intp(slots - 1)
            table[slot] = key
        table[:slots] = 0
    return 0


@numba.njit(inline="always", **_JIT)
def _clamped(value, top):
    """``value`` within 0 and ``top`` (NaN goes to 0)."""
    if value >= 0 and value <= top:
        return value
    return top if value > 0 else np.float32(0)


# The kernels below unpack every array argument before their loop and call nothing that
# takes an array inside it: numba counts references to arrays taken out of tuples or
# passed to helpers, and those atomic counts would cost more than the drawing.


@numba.njit(**_JIT)
def draw(
    triangles,
    axes,
    offsets,
    view,
    closed,
    flip,
    zbuf,
    lattice_u,
    lattice_v,
    lattice_start,
    hidden,
    big_corners,
    big_codes,
    settings,
):
    """Draws triangles (float32, (n, 3, 3), any strides) into ``zbuf`` (uint32 keys, side *
    side): the distance from the viewer quantised above a shade code, the nearest winning.

    Screen x, y and the distance from the viewer are affine functions of the model's
    coordinates (``axes`` rows and ``offsets``), clamped to the picture and the depth range
    (``view``: side, depth, levels per pixel of depth). With ``closed``, faces turned away
    (towards, with ``flip``) are left out, their indices written to ``hidden``. Triangles at
    most LATTICE steps across are splatted as the points of a barycentric lattice (the
    points for ``steps`` are ``lattice_u``/``_v`` from ``lattice_start[steps]`` to
    ``lattice_start[steps + 1]``); larger ones are left to the caller's exact fill:
    ``big_corners`` gets their corners (x, y, distance) and ``big_codes`` their shade codes.
    ``settings``: spacing, lattice, dense extent, dense area, code bits, depth levels.

    Returns (hidden count, big count, whether a corner was clamped, signed volume up to a
    positive factor).
    """
    side, depth, levels = view
    spacing, steps_most, dense_extent, dense_area, code_bits, depth_levels = settings
    edge = np.nextafter(np.float32(side), np.float32(0))  # the last x or y in the picture
    top = np.float32(depth)
    scale = np.float32(levels / 3)
    per_spacing = np.float32(1 / spacing)
    dense_extent = np.float32(dense_extent)
    twice_dense_area = np.float32(2 * dense_area)
    most = np.float32(depth_levels)
    shift = np.uint32(code_bits)
    a00, a01, a02 = axes[0, 0], axes[0, 1], axes[0, 2]
    a10, a11, a12 = axes[1, 0], axes[1, 1], axes[1, 2]
    a20, a21, a22 = axes[2, 0], axes[2, 1], axes[2, 2]
    o0, o1, o2 = offsets[0], offsets[1], offsets[2]
    n_hidden = n_big = 0
    beyond = False
    volume = 0.0
    for i in range(triangles.shape[0]):
        px, py, pz = triangles[i, 0, 0], triangles[i, 0, 1], triangles[i, 0, 2]
        x0 = a00 * px + a01 * py + a02 * pz + o0
        y0 = a10 * px + a11 * py + a12 * pz + o1
        d0 = a20 * px + a21 * py + a22 * pz + o2
        px, py, pz = triangles[i, 1, 0], triangles[i, 1, 1], triangles[i, 1, 2]
        x1 = a00 * px + a01 * py + a02 * pz + o0
        y1 = a10 * px + a11 * py + a12 * pz + o1
        d1 = a20 * px + a21 * py + a22 * pz + o2
        px, py, pz = triangles[i, 2, 0], triangles[i, 2, 1], triangles[i, 2, 2]
        x2 = a00 * px + a01 * py + a02 * pz + o0
        y2 = a10 * px + a11 * py + a12 * pz + o1
        d2 = a20 * px + a21 * py + a22 * pz + o2
        if not (
            0 <= x0 <= edge
            and 0 <= x1 <= edge
            and 0 <= x2 <= edge
            and 0 <= y0 <= edge
            and 0 <= y1 <= edge
            and 0 <= y2 <= edge
            and 0 <= d0 <= top
            and 0 <= d1 <= top
            and 0 <= d2 <= top
        ):  # rare: a corner beyond the picture or the depth range (or not a number)
            beyond = True
            x0, x1, x2 = _clamped(x0, edge), _clamped(x1, edge), _clamped(x2, edge)
            y0, y1, y2 = _clamped(y0, edge), _clamped(y1, edge), _clamped(y2, edge)
            d0, d1, d2 = _clamped(d0, top), _clamped(d1, top), _clamped(d2, top)
        e1x, e1y, e1d = x1 - x0, y1 - y0, d1 - d0
        e2x, e2y, e2d = x2 - x0, y2 - y0, d2 - d0
        # Twice the area on the screen, signed: negative for a face turned towards the viewer.
        nd = e1x * e2y - e1y * e2x
        distance = d0 + d1 + d2
        volume += float(nd) * float(distance)
        if closed and not (nd > 0 if flip else nd < 0):
            hidden[n_hidden] = i  # the far side is hidden by the near one
            n_hidden += 1
            continue
        a = e1y * e2d - e1d * e2y
        b = e1d * e2x - e1x * e2d
        length = np.sqrt(a * a + b * b + nd * nd)
        if not length > 0:  # no area: not drawn
            continue
        facing = nd / (length if flip else -length)  # cosine towards the viewer
        code = np.uint32(abs(facing) * np.float32(255) + np.float32(0.5))
        if facing < 0:  # seen from behind: the second half of the palette
            code |= np.uint32(256)
        extent = max(abs(e1x - e2x), abs(e1x), abs(e2x), abs(e1y - e2y), abs(e1y), abs(e2y))
        if extent <= dense_extent and abs(nd) <= twice_dense_area:
            steps = 1  # a face of a dense mesh: its neighbours' points are closer than a pixel
        else:
            # (extent is at most the picture's side: every corner was clamped into it)
            steps = min(max(int(np.ceil(extent * per_spacing)), 1), steps_most + 1)
        if steps > steps_most:
            big_corners[n_big, 0, 0], big_corners[n_big, 0, 1] = x0, x1
            big_corners[n_big, 0, 2], big_corners[n_big, 1, 0] = x2, y0
            big_corners[n_big, 1, 1], big_corners[n_big, 1, 2] = y1, y2
            big_corners[n_big, 2, 0], big_corners[n_big, 2, 1] = d0, d1
            big_corners[n_big, 2, 2] = d2
            big_codes[n_big] = code
            n_big += 1
            continue
        key = (np.uint32(min(max(distance * scale, np.float32(0)), most)) << shift) | code
        for p in range(lattice_start[steps], lattice_start[steps + 1]):
            column = int(e1x * lattice_u[p] + e2x * lattice_v[p] + x0)
            row = int(e1y * lattice_u[p] + e2y * lattice_v[p] + y0)
            pixel = min(max(row, 0), side - 1) * side + min(max(column, 0), side - 1)
            if key < zbuf[pixel]:
                zbuf[pixel] = key
    return n_hidden, n_big, beyond, volume


@numba.njit(**_JIT)
def scan(triangles, bits, forward, filled, low, high):
    """For the watertight check of triangles (float32 (n, 3, 3), any strides, e.g. a file's
    records; ``bits``: the same as uint32): the XOR of all edge keys, the keys of edges run
    forwards (start hash below end) less the others (mod 2**64), and the keys of edges run
    forwards, written to ``forward`` from ``filled`` on (it must have room for 3 n more).
    And their bounds: ``low`` lowered and ``high`` raised. Stops at the first coordinate that
    is not finite.

    Returns (whether every coordinate was finite, XOR, winding sum, the new ``filled``).
    """
    mixed = np.uint64(0)
    turning = np.uint64(0)
    lx, ly, lz = low[0], low[1], low[2]
    hx, hy, hz = high[0], high[1], high[2]
    for i in range(triangles.shape[0]):
        for c in range(3):
            x, y, z = triangles[i, c, 0], triangles[i, c, 1], triangles[i, c, 2]
            if not (np.isfinite(x) and np.isfinite(y) and np.isfinite(z)):
                return False, mixed, turning, filled
            lx, ly, lz = min(lx, x), min(ly, y), min(lz, z)
            hx, hy, hz = max(hx, x), max(hy, y), max(hz, z)
        h0 = _corner_hash(bits[i, 0, 0], bits[i, 0, 1], bits[i, 0, 2])
        h1 = _corner_hash(bits[i, 1, 0], bits[i, 1, 1], bits[i, 1, 2])
        h2 = _corner_hash(bits[i, 2, 0], bits[i, 2, 1], bits[i, 2, 2])
        for start, end in ((h0, h1), (h1, h2), (h2, h0)):
            key = _edge_key(start, end)
            mixed ^= key
            # Without a branch (its way is a coin toss): every key is written, the count
            # moves on for those run forwards; + key for those, - key for the others.
            ahead = start < end
            forward[filled] = key
            filled += ahead
            sign = np.uint64(0) - np.uint64(not ahead)  # all ones when run backwards
            turning += (key ^ sign) - sign
    low[0], low[1], low[2] = lx, ly, lz
    high[0], high[1], high[2] = hx, hy, hz
    return True, mixed, turning, filled


def warm() -> None:
    """Compiles (or loads from numba's cache) every loop here, on a tetrahedron."""
    corners = np.array(
        [
            [[0, 0, 0], [0, 1, 0], [1, 0, 0]],
            [[0, 0, 0], [0, 0, 1], [0, 1, 0]],
            [[0, 0, 0], [1, 0, 0], [0, 0, 1]],
            [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        ],
        dtype=np.float32,
    )
    bits = corners.view(np.uint32)
    forward = np.empty(12, dtype=np.uint64)
    edge_keys(bits, np.empty(12, dtype=np.uint64))
    zbuf = np.full(16, np.uint32(0xFFFFFFFF), dtype=np.uint32)
    records = np.zeros(
        4, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")]
    )
    records["corners"] = corners
    for mesh in (corners, records["corners"]):  # contiguous, and a file's records
        draw(
            mesh,
            np.eye(3, dtype=np.float32),
            np.zeros(3, dtype=np.float32),
            (4, 1.0, 1.0),
            True,
            False,
            zbuf,
            np.full(1, 1 / 3, dtype=np.float32),
            np.full(1, 1 / 3, dtype=np.float32),
            np.array([0, 0, 1], dtype=np.int64),
            np.empty(4, dtype=np.intp),
            np.empty((4, 3, 3), dtype=np.float32),
            np.empty(4, dtype=np.uint32),
            (1.0, 1, 1.25, 0.4, 10, 1023),
        )
        low, high = np.full(3, np.inf, dtype=np.float32), np.full(3, -np.inf, dtype=np.float32)
        _, _, _, filled = scan(mesh, mesh.view(np.uint32), forward, 0, low, high)
    any_twice(forward[:filled], np.empty(filled, dtype=np.uint64))
