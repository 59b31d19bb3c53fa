"""STL previews beyond the basics of test_previews.py: the watertight check on meshes big enough
for its bucketed path, odd coordinates, and the shaded picture of dense meshes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from files import previews_stl
from files.previews import Preview, make_preview
from shared.contracts.files import FileKind, PreviewState


def triangles(mesh: trimesh.Trimesh) -> np.ndarray:
    return np.ascontiguousarray(mesh.triangles, dtype=np.float32)


def preview_of(mesh: trimesh.Trimesh, path: Path) -> Preview:
    mesh.export(path, file_type="stl")
    return make_preview(path, FileKind.stl)


def pixels(preview: Preview) -> np.ndarray:
    assert preview.state is PreviewState.ready, preview.reason
    image = Image.open(io.BytesIO(preview.png), formats=["PNG"])
    assert image.size == (512, 512)
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def drawn(picture: np.ndarray) -> np.ndarray:
    """Pixels that are not the background (the corner's colour)."""
    return np.abs(picture - picture[0, 0]).sum(axis=2) > 30


@pytest.fixture(scope="module")
def torus() -> np.ndarray:
    """72,000 triangles: more than the 65,536 keys above which the check splits its table."""
    return triangles(trimesh.creation.torus(30, 8, major_sections=300, minor_sections=120))


def test_big_closed_mesh_is_watertight_whatever_the_order_of_its_triangles(torus):
    assert previews_stl.closure(torus) == (True, True)
    shuffled = torus[np.random.default_rng(5).permutation(len(torus))]
    assert previews_stl.closure(shuffled) == (True, True)


@pytest.mark.parametrize("where", [0, 40_000, 71_999])
def test_big_mesh_missing_one_triangle_is_open(torus, where):
    assert previews_stl.closure(np.delete(torus, where, axis=0)) == (False, False)


@pytest.mark.parametrize("where", [0, 40_000, 71_999])
def test_big_mesh_with_a_duplicated_triangle_is_not_watertight(torus, where):
    # The copy makes three edges appear three times: odd counts.
    doubled = np.concatenate([torus, torus[where : where + 1]])
    assert previews_stl.closure(doubled) == (False, False)
    # A copy each way round keeps every count even and every edge run as often each way:
    # only finding an edge four times can tell.
    both_ways = np.concatenate([torus, torus[where : where + 1], torus[where : where + 1, ::-1]])
    assert previews_stl.closure(both_ways) == (False, False)


def test_big_mesh_wound_both_ways_is_watertight_but_not_consistent(torus):
    mixed = torus.copy()
    mixed[::3] = mixed[::3, ::-1]
    assert previews_stl.closure(mixed) == (True, False)
    twice = np.concatenate([mixed, mixed[7:8], mixed[7:8]])  # one face there three times
    assert previews_stl.closure(twice) == (False, False)


def test_two_boxes_sharing_an_edge_are_not_watertight():
    """Non-manifold: the shared edge belongs to four triangles, each box closed on its own."""
    box = triangles(trimesh.creation.box(extents=(2, 2, 2)))
    assert previews_stl.closure(box) == (True, True)
    beside = box + np.array([2, 2, 0], dtype=np.float32)  # touches along the edge x = y = 1
    assert previews_stl.closure(np.concatenate([box, beside])) == (False, False)
    apart = box + np.array([5, 0, 0], dtype=np.float32)
    assert previews_stl.closure(np.concatenate([box, apart])) == (True, True)


def test_negative_zero_is_the_same_point_as_zero():
    box = triangles(trimesh.creation.box(extents=(2, 2, 2)).apply_translation([1, 1, 1]))
    assert (box == 0).any()
    signed = box.copy()
    signed[::2][signed[::2] == 0] = -0.0  # some triangles write the corner as -0.0
    assert np.signbit(signed).any()
    assert previews_stl.closure(signed) == (True, True)


def test_mirrored_corners_are_not_merged():
    """Coordinates that differ only in sign hash apart: a box is not a flat square."""
    square = np.array([[[-1, -1, 0], [1, -1, 0], [1, 1, 0]], [[-1, -1, 0], [1, 1, 0], [-1, 1, 0]]])
    twice = np.concatenate([square, square[:, ::-1]]).astype(np.float32)
    assert previews_stl.closure(twice) == (False, False)  # 4 triangles: too few for a solid
    box = triangles(trimesh.creation.box(extents=(2, 2, 2)))
    squashed = box.copy()
    squashed[..., 2] = np.abs(squashed[..., 2])  # top and bottom now the same square
    assert previews_stl.closure(squashed) == (False, False)


def test_sphere_is_shaded_brighter_where_it_faces_the_viewer(tmp_path):
    preview = preview_of(trimesh.creation.icosphere(subdivisions=4, radius=10), tmp_path / "s.stl")
    picture = pixels(preview)
    mask = drawn(picture)
    brightness = picture.sum(axis=2)
    rows, columns = np.nonzero(mask)
    centre = brightness[int(rows.mean()), int(columns.mean())]
    rim = brightness[int(rows.mean()), columns.min() + 2]
    assert centre > rim + 150  # lit where it faces the light at the viewer, dark at the rim
    assert np.ptp(brightness[mask]) > 200


@pytest.mark.parametrize(
    "sections",
    [(650, 200), (1000, 500), (2500, 200)],
    ids=["260k", "1M, each face one point", "1M slivers"],
)
def test_dense_torus_is_drawn_whole_with_its_hole_and_shading(tmp_path, sections):
    """260,000 to 1,000,000 triangles, most smaller than a pixel: drawn as points (one each
    for the smallest), it must not show pinholes, and it is still a lit ring around an empty
    middle."""
    mesh = trimesh.creation.torus(30, 8, major_sections=sections[0], minor_sections=sections[1])
    assert len(mesh.faces) > previews_stl.SUPERSAMPLE_UP_TO
    preview = preview_of(mesh, tmp_path / "dense.stl")
    assert preview.metadata["triangles"] == 2 * sections[0] * sections[1]
    assert preview.metadata["watertight"] is True
    assert preview.metadata["bounds"]["max"] == pytest.approx([38.0, 38.0, 8.0], abs=1e-3)
    picture = pixels(preview)
    mask = drawn(picture)
    assert not mask[256, 256]  # the hole in the middle
    assert 0.3 < mask.mean() < 0.7
    inside = mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    assert not (inside & ~mask[1:-1, 1:-1]).any(), "pinholes in the surface"
    brightness = picture.sum(axis=2)[mask]
    assert np.ptp(brightness) > 200 and brightness.std() > 20


def test_open_surface_is_drawn_from_its_outer_side_and_its_back_in_another_colour(tmp_path):
    """A bowl (a sphere with its cap cut off) is seen from where its normals point: from
    below it is all outer side (ivory); with its normals turned in, it is seen from above,
    into the bowl (ivory) with the far rim's back showing (bluish)."""
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=10)
    keep = sphere.triangles_center[:, 2] < 4
    shares = []
    for name, faces in (("out", sphere.faces[keep]), ("in", sphere.faces[keep][:, ::-1])):
        bowl = trimesh.Trimesh(sphere.vertices, faces, process=False)
        preview = preview_of(bowl, tmp_path / f"{name}.stl")
        assert preview.metadata["watertight"] is False
        picture = pixels(preview)
        colours = picture[drawn(picture)]
        shares.append(float((colours[:, 2] > colours[:, 0] + 10).mean()))
    assert shares[0] == 0.0
    assert 0.1 < shares[1] < 0.6


def test_a_stray_triangle_outside_the_sampled_bounds_is_still_in_the_picture(tmp_path):
    """The renderer frames the mesh from a sample of its triangles; a far corner it missed
    makes it start again with the true bounds rather than draw off the picture."""
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=10)  # 81,920 triangles
    alone = preview_of(sphere, tmp_path / "alone.stl")
    stray = np.array([[200, 0, 0], [201, 0, 0], [200, 1, 0]], dtype=np.float64)
    vertices = np.vstack([sphere.vertices, stray])
    faces = np.vstack([sphere.faces[:1], [len(sphere.vertices) + np.arange(3)], sphere.faces[1:]])
    with_stray = preview_of(trimesh.Trimesh(vertices, faces, process=False), tmp_path / "far.stl")
    assert with_stray.metadata["bounds"]["max"][0] == 201.0
    small, big = drawn(pixels(with_stray)), drawn(pixels(alone))
    assert small.mean() < big.mean() / 4  # the sphere shrank to leave room for the stray
    rows, columns = np.nonzero(small)
    assert np.ptp(columns) > 300 or np.ptp(rows) > 300  # both ends of the picture are used


def write_binary(path: Path, corners: np.ndarray) -> Path:
    records = np.zeros(
        len(corners), dtype=[("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attr", "<u2")]
    )
    records["corners"] = corners
    path.write_bytes(b"\0" * 80 + len(corners).to_bytes(4, "little") + records.tobytes())
    return path


def test_huge_coordinates_and_a_broken_triangle_still_give_a_picture(tmp_path):
    sphere = np.asarray(trimesh.creation.icosphere(subdivisions=3).triangles) * 1e30
    preview = make_preview(write_binary(tmp_path / "huge.stl", sphere), FileKind.stl)
    assert preview.metadata["watertight"] is True
    assert 0.4 < drawn(pixels(preview)).mean() < 0.8
    broken = np.concatenate([sphere / 1e30, [[[np.nan, 0, 0], [1, 1, 1], [0, 1, 0]]]])
    preview = make_preview(write_binary(tmp_path / "nan.stl", broken), FileKind.stl)
    assert preview.metadata["watertight"] is False  # a triangle that is not one
    assert preview.metadata["bounds"] == {"min": [-1.0, -1.0, -1.0], "max": [1.0, 1.0, 1.0]}
    assert 0.4 < drawn(pixels(preview)).mean() < 0.8


def test_a_single_flat_triangle_is_drawn(tmp_path):
    corners = np.array([[[0, 0, 0], [10, 0, 0], [0, 10, 0]]])
    preview = make_preview(write_binary(tmp_path / "one.stl", corners), FileKind.stl)
    assert preview.metadata["triangles"] == 1
    assert preview.metadata["watertight"] is False
    assert 0.1 < drawn(pixels(preview)).mean() < 0.5


# ------------------------------------------------- the check and the drawing in one pass


def _bowl(faces_in: bool) -> trimesh.Trimesh:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=10)
    faces = sphere.faces[sphere.triangles_center[:, 2] < 4]
    return trimesh.Trimesh(sphere.vertices, faces[:, ::-1] if faces_in else faces, process=False)


def _one_pass_meshes() -> dict[str, trimesh.Trimesh]:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=10)
    mixed = sphere.faces.copy()
    mixed[::7] = mixed[::7, ::-1]
    return {
        "closed": trimesh.creation.torus(30, 8, major_sections=300, minor_sections=120),
        "inside out": trimesh.Trimesh(sphere.vertices, sphere.faces[:, ::-1], process=False),
        "wound both ways": trimesh.Trimesh(sphere.vertices, mixed, process=False),
        "open bowl": _bowl(faces_in=False),
        "open bowl, normals in": _bowl(faces_in=True),
    }


@pytest.mark.parametrize("name", list(_one_pass_meshes()))
def test_one_pass_gives_the_metadata_and_the_picture_of_the_two(tmp_path, name):
    """preview() checks and draws each block together, guessing the mesh closed while it
    draws: it must give exactly what mesh_metadata() then render() give, from the file's
    records as make_preview() reads them."""
    path = tmp_path / "mesh.stl"
    _one_pass_meshes()[name].export(path, file_type="stl")
    records, encoding = previews_stl.read_triangles(path, contiguous=False)
    assert not records.flags.c_contiguous  # a view of the 50-byte records
    whole, _ = previews_stl.read_triangles(path)
    assert np.array_equal(records, whole)
    metadata = previews_stl.mesh_metadata(whole, encoding=encoding)
    closed = bool(metadata["watertight"] and metadata["winding_consistent"])
    png = previews_stl.render(whole, size=512, closed=closed)
    assert previews_stl.preview(records, encoding=encoding, size=512) == (metadata, png)
    assert make_preview(path, FileKind.stl) == Preview(PreviewState.ready, png, metadata, None)
    assert metadata["watertight"] is (not name.startswith("open"))


def test_a_broken_triangle_the_framing_sample_missed_still_gives_the_rest(tmp_path):
    """A NaN corner far from the triangles sampled for the framing is found block by block:
    not watertight, the bounds and the picture those of the other triangles."""
    sphere = np.asarray(trimesh.creation.icosphere(subdivisions=6, radius=10).triangles)
    where = 40_001  # of 81,920: the samples take every 40th and every 4th triangle
    assert where % (len(sphere) // 2_000) and where % (len(sphere) // 20_000)
    broken = sphere.copy()
    broken[where, 1] = [np.nan, 0, 0]
    whole = make_preview(write_binary(tmp_path / "whole.stl", sphere), FileKind.stl)
    preview = make_preview(write_binary(tmp_path / "broken.stl", broken), FileKind.stl)
    assert whole.metadata["watertight"] is True
    assert preview.metadata["watertight"] is False
    assert preview.metadata["triangles"] == len(sphere)
    assert preview.metadata["bounds"] == whole.metadata["bounds"]
    assert abs(drawn(pixels(preview)).mean() - drawn(pixels(whole)).mean()) < 0.01


def test_a_dense_mesh_is_drawn_in_indexed_colour_within_a_level_of_the_full_palette():
    """Meshes drawn at the asked size (no reduction) are saved as a 256-colour PNG: every
    shade must stay within about one level of 255 of the RGB palette's."""
    keys = np.arange(1 << previews_stl.CODE_BITS, dtype=np.uint32)
    side = 32
    zbuf = np.resize(keys, side * side)
    image = Image.open(io.BytesIO(previews_stl._shade(zbuf, side=side, supersample=1)))
    assert image.mode == "P"
    shown = np.asarray(image.convert("RGB"), dtype=int).reshape(-1, 3)
    wanted = previews_stl.PALETTE[zbuf & np.uint32((1 << previews_stl.CODE_BITS) - 1)]
    assert np.abs(shown - wanted.astype(int)).max() <= 2
    background = zbuf == previews_stl._EMPTY
    assert (shown[background] == previews_stl.BACKGROUND).all()


def test_edge_keys_made_to_collide_are_left_to_a_sort_rather_than_take_quadratic_time():
    from files import stl_kernels

    rng = np.random.default_rng(3)
    keys = rng.integers(1, 2**63, 200_000, dtype=np.uint64)
    spare = np.empty_like(keys)
    assert stl_kernels.any_twice(keys, spare) == 0
    planted = keys.copy()
    planted[150_000] = planted[7]
    assert stl_kernels.any_twice(planted, spare) == 1
    # Distinct keys with the same low bits and top bits: one bucket of one part, which a
    # crafted mesh could aim at (the corner hash can be inverted).
    crafted = (np.arange(1, 50_001, dtype=np.uint64) << np.uint64(32)) | np.uint64(0x5)
    assert stl_kernels.any_twice(crafted, np.empty_like(crafted)) == stl_kernels.UNDECIDED


def test_the_sorting_fallback_gives_the_same_answers(torus, monkeypatch):
    from files import stl_kernels

    monkeypatch.setattr(stl_kernels, "any_twice", lambda keys, spare: stl_kernels.UNDECIDED)
    assert previews_stl.closure(torus) == (True, True)
    # Each box closed on its own, sharing one edge: only the duplicate check can tell.
    box = triangles(trimesh.creation.box(extents=(2, 2, 2)))
    beside = box + np.array([2, 2, 0], dtype=np.float32)
    assert previews_stl.closure(np.concatenate([box, beside])) == (False, False)
