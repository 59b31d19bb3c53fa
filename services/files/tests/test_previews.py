"""Previews of real files no one here wrote: pydicom's test data; Pillow, pdfium, trimesh output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pypdfium2 as pdfium
import pytest
import trimesh
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate

from files.previews import Preview, make_preview
from shared.contracts.files import FileKind, PreviewState


def dicom(name: str) -> Path:
    found = get_testdata_file(name, download=False)
    # pydicom ships these in its wheel; a missing one means the test set changed: fail loudly.
    assert found is not None, f"{name} is not in this pydicom wheel"
    return Path(found)


def picture(preview: Preview, *, size: int = 512) -> np.ndarray:
    """The preview's PNG decoded, after checking it is ready, small enough and not blank."""
    assert preview.state is PreviewState.ready, preview.reason
    assert preview.reason is None
    json.dumps(preview.metadata)  # the worker sends it as JSON
    image = Image.open(io.BytesIO(preview.png), formats=["PNG"])
    assert image.format == "PNG"
    assert max(image.size) <= size
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 0, "blank preview"
    return pixels


# ------------------------------------------------------------------- DICOM

DECODABLE = [
    # name, transfer syntax, modality, rows, columns
    ("CT_small.dcm", "1.2.840.10008.1.2.1", "CT", 128, 128),
    ("MR_small.dcm", "1.2.840.10008.1.2.1", "MR", 64, 64),
    ("MR_small_implicit.dcm", "1.2.840.10008.1.2", "MR", 64, 64),
    ("MR_small_bigendian.dcm", "1.2.840.10008.1.2.2", "MR", 64, 64),
    ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5", "MR", 64, 64),
    ("MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90", "MR", 64, 64),
    ("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80", "MR", 64, 64),
    ("693_J2KI.dcm", "1.2.840.10008.1.2.4.91", "CT", 512, 512),
    ("SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50", "OT", 100, 100),
    ("SC_rgb_jpeg_gdcm.dcm", "1.2.840.10008.1.2.4.70", "OT", 100, 100),
    ("SC_rgb_rle_16bit.dcm", "1.2.840.10008.1.2.5", "OT", 100, 100),
    ("examples_ybr_color.dcm", "1.2.840.10008.1.2.4.50", "US", 240, 320),
    ("examples_palette.dcm", "1.2.840.10008.1.2.1", "US", 350, 800),
    ("image_dfl.dcm", "1.2.840.10008.1.2.1.99", "OT", 512, 512),
]


@pytest.mark.parametrize(("name", "syntax", "modality", "rows", "columns"), DECODABLE)
def test_dicom_preview_and_metadata(name, syntax, modality, rows, columns):
    preview = make_preview(dicom(name), FileKind.dicom)
    pixels = picture(preview)
    meta = preview.metadata
    assert (meta["modality"], meta["rows"], meta["columns"]) == (modality, rows, columns)
    assert meta["transfer_syntax_uid"] == syntax
    assert meta["transfer_syntax"] == pydicom.uid.UID(syntax).name
    # Aspect kept: the preview is the image's own size, or shrunk to fit 512.
    scale = min(1.0, 512 / max(rows, columns))
    assert pixels.shape[:2] == (round(rows * scale), round(columns * scale))


def test_ct_metadata_is_plain_json_values():
    meta = make_preview(dicom("CT_small.dcm"), FileKind.dicom).metadata
    source = pydicom.dcmread(dicom("CT_small.dcm"))
    assert meta["patient_name"] == str(source.PatientName)
    assert isinstance(meta["patient_name"], str)
    assert meta["patient_id"] == source.PatientID
    assert meta["study_date"] == "2004-01-19"
    assert meta["frames"] == 1
    assert meta["photometric_interpretation"] == "MONOCHROME2"
    assert meta["transfer_syntax"] == "Explicit VR Little Endian"


def test_rgb_dicom_keeps_its_colours():
    pixels = picture(make_preview(dicom("SC_rgb_rle.dcm"), FileKind.dicom))
    source = pydicom.dcmread(dicom("SC_rgb_rle.dcm")).pixel_array
    assert np.array_equal(pixels, source.astype(np.float64))


@pytest.mark.parametrize("name", ["SC_rgb_rle_2frame.dcm", "rtdose.dcm", "examples_ybr_color.dcm"])
def test_multi_frame_dicom_shows_the_first_frame(name):
    preview = make_preview(dicom(name), FileKind.dicom)
    picture(preview)
    assert preview.metadata["frames"] == int(pydicom.dcmread(dicom(name)).NumberOfFrames)
    assert preview.metadata["frames"] > 1


def test_window_from_the_dataset_is_applied(scratch):
    source = pydicom.dcmread(dicom("CT_small.dcm"))
    source.WindowCenter, source.WindowWidth = 40, 400  # soft tissue
    narrow = make_preview(save(source, scratch / "narrow.dcm"), FileKind.dicom)
    del source.WindowCenter, source.WindowWidth
    default = make_preview(save(source, scratch / "default.dcm"), FileKind.dicom)
    assert not np.array_equal(picture(narrow), picture(default))


def test_monochrome1_is_inverted(scratch):
    source = pydicom.dcmread(dicom("MR_small.dcm"))
    as_mono2 = picture(make_preview(save(source, scratch / "mono2.dcm"), FileKind.dicom))
    source.PhotometricInterpretation = "MONOCHROME1"
    as_mono1 = picture(make_preview(save(source, scratch / "mono1.dcm"), FileKind.dicom))
    assert np.array_equal(as_mono1, 255 - as_mono2)


def test_dicom_without_pixels_is_unavailable_with_metadata():
    preview = make_preview(dicom("rtplan.dcm"), FileKind.dicom)
    assert preview.state is PreviewState.unavailable
    assert preview.png is None
    assert preview.reason == "no image in this DICOM file"
    assert preview.metadata["modality"] == "RTPLAN"
    assert preview.metadata["frames"] == 0


def test_transfer_syntax_without_decoder_is_unavailable_with_metadata(scratch):
    source = pydicom.dcmread(dicom("CT_small.dcm"))
    source.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: no decoder
    source.PixelData = encapsulate([source.PixelData])  # compressed syntaxes need fragments
    source["PixelData"].VR = "OB"
    preview = make_preview(save(source, scratch / "mpeg2.dcm"), FileKind.dicom)
    assert preview.state is PreviewState.unavailable
    assert preview.reason == "no decoder for MPEG2 Main Profile / Main Level"
    assert preview.metadata["modality"] == "CT"
    assert preview.metadata["rows"] == 128
    assert preview.metadata["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.100"


def test_12_bit_jpeg_extended_needs_a_gpl_decoder_so_is_unavailable():
    preview = make_preview(dicom("JPGExtended.dcm"), FileKind.dicom)
    assert preview.state is PreviewState.unavailable
    assert preview.reason == "no decoder for JPEG Extended (Process 2 and 4)"
    assert preview.metadata["rows"] == 1024


def test_truncated_pixel_data_is_unavailable_not_an_error():
    preview = make_preview(dicom("MR_truncated.dcm"), FileKind.dicom)
    assert preview.state is PreviewState.unavailable
    assert preview.metadata["modality"] == "MR"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path


def save(ds: pydicom.Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


# ------------------------------------------------------------------ images


def gradient(mode: str, size: tuple[int, int] = (900, 600)) -> Image.Image:
    ramp = np.linspace(0, 255, size[0] * size[1]).reshape(size[1], size[0]).astype(np.uint8)
    rgb = Image.fromarray(np.dstack([ramp, ramp[::-1], np.full_like(ramp, 90)]), "RGB")
    return rgb.convert(mode) if mode != "RGB" else rgb


@pytest.mark.parametrize(
    ("fmt", "mode", "suffix"),
    [
        ("PNG", "RGB", "png"),
        ("PNG", "RGBA", "png"),
        ("PNG", "P", "png"),
        ("PNG", "L", "png"),
        ("JPEG", "RGB", "jpg"),
        ("JPEG", "CMYK", "jpg"),
        ("JPEG", "L", "jpg"),
        ("BMP", "RGB", "bmp"),
        ("GIF", "P", "gif"),
    ],
)
def test_image_is_scaled_to_fit_keeping_its_aspect(scratch, fmt, mode, suffix):
    path = scratch / f"picture.{suffix}"
    gradient(mode).save(path, fmt)
    preview = make_preview(path, FileKind.image)
    pixels = picture(preview)
    assert pixels.shape[:2] == (341, 512)
    assert (preview.metadata["width"], preview.metadata["height"]) == (900, 600)
    assert preview.metadata["format"] == fmt.lower()


def test_16_bit_png_is_stretched_to_8_bits(scratch):
    ramp = np.linspace(1000, 4000, 300 * 200).reshape(200, 300).astype(np.uint16)
    path = scratch / "xray.png"
    Image.fromarray(ramp).save(path)
    preview = make_preview(path, FileKind.image)
    pixels = picture(preview)
    assert pixels.min() == 0 and pixels.max() == 255
    assert preview.metadata["mode"].startswith("I")


def test_exif_orientation_is_applied(scratch):
    path = scratch / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    gradient("RGB", (800, 400)).save(path, "JPEG", exif=exif)
    preview = make_preview(path, FileKind.image)
    assert picture(preview).shape[:2] == (512, 256)
    assert (preview.metadata["width"], preview.metadata["height"]) == (400, 800)


def test_multi_page_tiff_shows_the_first_page_and_counts_pages(scratch):
    path = scratch / "scan.tiff"
    first = gradient("RGB", (400, 300))
    others = [Image.new("RGB", (200, 200), "black"), Image.new("L", (50, 70), 128)]
    first.save(path, "TIFF", save_all=True, append_images=others, compression="tiff_lzw")
    preview = make_preview(path, FileKind.tiff)
    assert picture(preview).shape[:2] == (300, 400)
    assert preview.metadata["pages"] == 3


def test_16_bit_tiff(scratch):
    path = scratch / "xray.tif"
    Image.fromarray(np.arange(256 * 128, dtype=np.uint16).reshape(128, 256)).save(path, "TIFF")
    assert picture(make_preview(path, FileKind.tiff)).shape[:2] == (128, 256)


# --------------------------------------------------------------------- PDF


def test_pdf_first_page_and_page_count(scratch):
    path = scratch / "letter.pdf"
    pages = [gradient("RGB", (850, 1100)), Image.new("RGB", (850, 1100), "white")]
    pages[0].save(path, "PDF", save_all=True, append_images=[pages[1], pages[1]], resolution=100)
    assert len(pdfium.PdfDocument(path)) == 3
    preview = make_preview(path, FileKind.pdf)
    pixels = picture(preview)
    assert max(pixels.shape[:2]) == 512
    assert pixels.shape[0] > pixels.shape[1]  # portrait
    assert preview.metadata["pages"] == 3


def test_pdf_made_by_pdfium(scratch):
    document = pdfium.PdfDocument.new()
    for _ in range(2):
        document.new_page(595, 842)
    path = scratch / "blank.pdf"
    document.save(path)
    preview = make_preview(path, FileKind.pdf)
    assert preview.state is PreviewState.ready
    assert preview.metadata["pages"] == 2
    assert preview.metadata["page_size_pt"] == [595.0, 842.0]


# --------------------------------------------------------------------- STL


def mesh_preview(mesh: trimesh.Trimesh, path: Path, file_type: str = "stl") -> Preview:
    mesh.export(path, file_type=file_type)
    return make_preview(path, FileKind.stl)


def test_closed_mesh_is_watertight_and_drawn_in_the_middle(scratch):
    preview = mesh_preview(trimesh.creation.icosphere(subdivisions=3, radius=10), scratch / "a.stl")
    meta = preview.metadata
    assert meta["triangles"] == 1280
    assert meta["watertight"] is True
    assert meta["encoding"] == "binary"
    assert meta["bounds"] == {"min": [-10.0, -10.0, -10.0], "max": [10.0, 10.0, 10.0]}
    pixels = picture(preview)
    assert pixels.shape[:2] == (512, 512)
    background = pixels[0, 0]
    assert background.mean() > 200  # light
    assert np.abs(pixels[256, 256] - background).sum() > 30  # the mesh is in the middle
    drawn = np.abs(pixels - background).sum(axis=2) > 30
    rows, columns = np.nonzero(drawn)
    assert abs(rows.mean() - 256) < 15 and abs(columns.mean() - 256) < 15
    assert 0.4 < drawn.mean() < 0.8


def coverage(preview: Preview) -> float:
    """The share of the picture that is not background."""
    pixels = picture(preview)
    return float((np.abs(pixels - pixels[0, 0]).sum(axis=2) > 30).mean())


def test_inside_out_and_badly_wound_closed_meshes_are_drawn_whole(scratch):
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=10)
    right = mesh_preview(sphere, scratch / "right.stl")
    assert right.metadata["winding_consistent"] is True
    inside_out = trimesh.Trimesh(sphere.vertices, sphere.faces[:, ::-1], process=False)
    reversed_preview = mesh_preview(inside_out, scratch / "inside-out.stl")
    assert reversed_preview.metadata["watertight"] is True
    assert reversed_preview.metadata["winding_consistent"] is True
    faces = sphere.faces.copy()
    faces[::7] = faces[::7, ::-1]
    mixed = mesh_preview(trimesh.Trimesh(sphere.vertices, faces, process=False), scratch / "m.stl")
    assert mixed.metadata["watertight"] is True
    assert mixed.metadata["winding_consistent"] is False
    for other in (reversed_preview, mixed):
        assert coverage(other) == pytest.approx(coverage(right), abs=0.01)
        centre = picture(other)[200:312, 200:312]
        assert (np.abs(centre - picture(other)[0, 0]).sum(axis=2) > 30).all()  # no holes


def test_open_box_is_not_watertight(scratch):
    box = trimesh.creation.box(extents=(30, 20, 10))
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-1], process=False)
    preview = mesh_preview(open_box, scratch / "open.stl")
    assert preview.metadata["triangles"] == 11
    assert preview.metadata["watertight"] is False
    assert preview.metadata["winding_consistent"] is None
    picture(preview)
    closed = mesh_preview(box, scratch / "closed.stl")
    assert closed.metadata["watertight"] is True


def test_box_with_repeated_faces_is_not_watertight(scratch):
    """Every edge count is even, but some are four: the XOR shortcut passes, the sort must not."""
    box = trimesh.creation.box(extents=(30, 20, 10))
    doubled = trimesh.Trimesh(box.vertices, np.vstack([box.faces, box.faces[:2]]), process=False)
    assert mesh_preview(doubled, scratch / "d.stl").metadata["watertight"] is False


def test_ascii_stl(scratch):
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=5)
    preview = mesh_preview(sphere, scratch / "ascii.stl", file_type="stl_ascii")
    assert preview.metadata["encoding"] == "ascii"
    assert preview.metadata["triangles"] == 320
    assert preview.metadata["watertight"] is True
    picture(preview)


def test_open_scan_like_surface_is_drawn(scratch):
    x, y = np.meshgrid(np.linspace(0, 40, 81), np.linspace(0, 20, 41))
    heights = 2 * np.sin(x / 3) * np.cos(y / 2)
    mesh = trimesh.Trimesh(*_grid(x, y, heights), process=False)
    preview = mesh_preview(mesh, scratch / "scan.stl")
    assert preview.metadata["watertight"] is False
    assert preview.metadata["size"] == [40.0, 20.0, pytest.approx(4.0, abs=0.1)]
    pixels = picture(preview)
    assert np.abs(pixels[256, 256] - pixels[0, 0]).sum() > 30


def _grid(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, columns = x.shape
    index = np.arange(rows * columns).reshape(rows, columns)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, 1:].ravel(), index[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return np.column_stack([x.ravel(), y.ravel(), z.ravel()]), faces


def test_stl_without_triangles_is_unavailable(scratch):
    path = scratch / "empty.stl"
    path.write_bytes(b"\0" * 80 + (0).to_bytes(4, "little"))
    preview = make_preview(path, FileKind.stl)
    assert preview.state is PreviewState.unavailable
    assert preview.metadata["triangles"] == 0
    assert preview.metadata["watertight"] is False


# ------------------------------------------------------------ never raises


@pytest.mark.parametrize("kind", list(FileKind))
def test_a_file_that_does_not_parse_is_unavailable_not_an_error(scratch, kind):
    path = scratch / "garbage.bin"
    path.write_bytes(b"this is not a medical file\n" * 10)
    preview = make_preview(path, kind)
    assert preview.state is PreviewState.unavailable
    assert preview.png is None
    assert preview.reason
    json.dumps(preview.metadata)
