"""Inspection by content: real files are accepted with their metadata, a corpus of bad
files is refused with a reason a person can act on, and names are sanitised.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files

from files.inspection import (
    FileRefused,
    Inspection,
    Limits,
    inspect_file,
    sanitize_filename,
    size_exceeded,
    zero_dicom_preamble,
)
from shared.contracts.files import FileKind
from shared.errors import InvalidInput, PayloadTooLarge

from . import corpus

# Hostile DICOM makes pydicom warn (unknown encodings...) before we refuse it.
# and Pillow warns of a bomb it leaves for us to refuse.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:pydicom.*"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]


def inspect_bytes(
    tmp_path: Path, data: bytes, name: str | None, limits: Limits | None = None
) -> Inspection:
    path = tmp_path / "upload.bin"  # the stored name never comes from the user
    path.write_bytes(data)
    return inspect_file(path, original_name=name, limits=limits or Limits())


# ------------------------------------------------------------------ real files


DICOM_FILES = [
    ("CT_small.dcm", "CT", "1.2.840.10008.1.2.1", 128, 128, 1),
    ("MR_small.dcm", "MR", "1.2.840.10008.1.2.1", 64, 64, 1),
    ("MR_small_RLE.dcm", "MR", "1.2.840.10008.1.2.5", 64, 64, 1),
    ("JPEG2000.dcm", "NM", "1.2.840.10008.1.2.4.91", 1024, 256, 1),
    ("SC_rgb_jpeg_dcmtk.dcm", "OT", "1.2.840.10008.1.2.4.50", 100, 100, 1),
    ("SC_rgb_rle_2frame.dcm", "OT", "1.2.840.10008.1.2.5", 100, 100, 2),
    ("rtdose.dcm", "RTDOSE", "1.2.840.10008.1.2", 10, 10, 15),
    ("rtplan.dcm", "RTPLAN", "1.2.840.10008.1.2", None, None, None),
]


def test_pydicom_ships_the_files_these_tests_use() -> None:
    shipped = {Path(p).name for p in get_testdata_files()}
    wanted = {row[0] for row in DICOM_FILES} | {"rtstruct.dcm", "MR_truncated.dcm"}
    assert wanted <= shipped


@pytest.mark.parametrize(("file", "modality", "syntax", "rows", "cols", "frames"), DICOM_FILES)
def test_pydicom_test_files_are_accepted_with_their_header(
    tmp_path, file, modality, syntax, rows, cols, frames
) -> None:
    result = inspect_bytes(tmp_path, corpus.dicom_bytes(file), file)

    assert (result.kind, result.media_type, result.extension) == (
        FileKind.dicom,
        "application/dicom",
        "dcm",
    )
    meta = result.metadata
    assert meta["modality"] == modality
    assert meta["transfer_syntax_uid"] == syntax
    assert meta["transfer_syntax"] == pydicom.uid.UID(syntax).name
    assert (meta["rows"], meta["columns"], meta["frames"]) == (rows, cols, frames)
    assert meta["has_preamble"] is True


@pytest.mark.parametrize("name", [None, "IM000001", "1.2.840.113619.2.55.3", "CT.DICOM", "a.dic"])
def test_dicom_may_have_no_extension_or_any_dicom_one(tmp_path, name) -> None:
    result = inspect_bytes(tmp_path, corpus.dicom_bytes("MR_small.dcm"), name)
    assert result.kind == FileKind.dicom


def test_a_raw_dataset_without_preamble_is_accepted_when_pydicom_reads_it(tmp_path) -> None:
    result = inspect_bytes(tmp_path, corpus.dicom_bytes("rtstruct.dcm"), "rtstruct.dcm")

    assert result.kind == FileKind.dicom
    assert result.metadata["has_preamble"] is False
    assert result.metadata["modality"] == "RTSTRUCT"
    assert result.metadata["sop_class_uid"] == "1.2.840.10008.5.1.4.1.1.481.3"


IMAGES = [
    ("BMP", "xray.bmp", "image/bmp", "bmp"),
    ("GIF", "smile.GIF", "image/gif", "gif"),
    ("JPEG", "photo.jpg", "image/jpeg", "jpg"),
    ("JPEG", "photo.JPEG", "image/jpeg", "jpg"),
    ("PNG", "xray.png", "image/png", "png"),
    ("PNG", None, "image/png", "png"),
]


@pytest.mark.parametrize(("fmt", "name", "media_type", "extension"), IMAGES)
def test_pillow_images_are_accepted(tmp_path, fmt, name, media_type, extension) -> None:
    result = inspect_bytes(tmp_path, corpus.image_bytes(fmt, (64, 48)), name)

    assert (result.kind, result.media_type, result.extension) == (
        FileKind.image,
        media_type,
        extension,
    )
    assert (result.metadata["width"], result.metadata["height"]) == (64, 48)
    assert result.metadata["format"] == fmt


def test_an_animated_gif_reports_its_frames(tmp_path) -> None:
    result = inspect_bytes(tmp_path, corpus.animated_gif(4), "wave.gif")
    assert result.metadata["frames"] == 4


@pytest.mark.parametrize("name", ["scan.tif", "scan.TIFF", None])
def test_a_multipage_tiff_is_accepted_with_its_pages(tmp_path, name) -> None:
    result = inspect_bytes(tmp_path, corpus.multipage_tiff(3), name)

    assert (result.kind, result.media_type, result.extension) == (
        FileKind.tiff,
        "image/tiff",
        "tiff",
    )
    assert result.metadata["pages"] == 3
    assert (result.metadata["width"], result.metadata["height"]) == (40, 30)


def test_a_handwritten_tiff_within_the_limit_is_accepted(tmp_path) -> None:
    result = inspect_bytes(tmp_path, corpus.tiff_pages((64, 64), (32, 16)), "two.tif")
    assert result.metadata["pages"] == 2


@pytest.mark.parametrize(("file_type", "encoding"), [("stl", "binary"), ("stl_ascii", "ascii")])
def test_trimesh_meshes_are_accepted(tmp_path, file_type, encoding) -> None:
    result = inspect_bytes(tmp_path, corpus.stl_mesh(file_type), "jaw.stl")

    assert (result.kind, result.media_type, result.extension) == (FileKind.stl, "model/stl", "stl")
    assert result.metadata["encoding"] == encoding
    assert result.metadata["triangles"] == 80


def test_a_binary_stl_whose_header_says_solid_is_read_as_binary(tmp_path) -> None:
    data = b"solid exported by a scanner".ljust(80, b" ") + corpus.stl_mesh("stl")[80:]
    result = inspect_bytes(tmp_path, data, None)
    assert result.metadata == {"format": "STL", "encoding": "binary", "triangles": 80}


def test_an_ascii_stl_with_several_solids_counts_every_facet(tmp_path) -> None:
    data = corpus.ascii_stl(corpus.FACET * 2) + corpus.ascii_stl(corpus.FACET)
    assert inspect_bytes(tmp_path, data, "parts.stl").metadata["triangles"] == 3


@pytest.mark.parametrize("build", [corpus.pdf_from_pdfium, corpus.pdf_from_pillow])
def test_real_pdfs_are_accepted_with_their_page_count(tmp_path, build) -> None:
    result = inspect_bytes(tmp_path, build(), "Referral letter.pdf")

    assert (result.kind, result.media_type, result.extension) == (
        FileKind.pdf,
        "application/pdf",
        "pdf",
    )
    assert result.metadata["pages"] == (2 if build is corpus.pdf_from_pdfium else 1)
    assert result.metadata["encrypted"] is False


def test_a_pdf_may_have_up_to_1024_bytes_before_its_header(tmp_path) -> None:
    result = inspect_bytes(tmp_path, b"\x01" * 1000 + corpus.pdf_from_pillow(), "a.pdf")
    assert result.kind == FileKind.pdf


# ------------------------------------------------------------------ the bad-file corpus


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(corpus.BAD) >= 30
    assert len({bad.case for bad in corpus.BAD}) == len(corpus.BAD)


@pytest.mark.parametrize("bad", corpus.BAD, ids=[bad.case for bad in corpus.BAD])
def test_bad_files_are_refused_with_a_reason(tmp_path, bad) -> None:
    with pytest.raises(FileRefused) as caught:
        inspect_bytes(tmp_path, bad.build(), bad.name)

    error = caught.value
    assert bad.reason in error.message
    assert isinstance(error, InvalidInput) and error.kind == "invalid"
    assert error.details == [{"field": "file", "message": error.message}]


def test_a_bomb_is_refused_before_decoding(tmp_path) -> None:
    started = time.perf_counter()
    with pytest.raises(FileRefused):
        inspect_bytes(tmp_path, corpus.png_declaring(60_000, 60_000), "bomb.png")
    assert time.perf_counter() - started < 1


def test_pillows_global_bomb_limit_is_left_as_it_was(tmp_path) -> None:
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    inspect_bytes(tmp_path, corpus.image_bytes("PNG"), "a.png", Limits(max_image_pixels=5000))
    with pytest.raises(FileRefused):
        inspect_bytes(tmp_path, corpus.image_bytes("PNG"), "a.png", Limits(max_image_pixels=500))
    assert before == Image.MAX_IMAGE_PIXELS


def test_limits_are_configurable(tmp_path) -> None:
    small = Limits(max_image_pixels=1000, max_stl_triangles=10, max_dicom_pixels=5000)
    mr = corpus.dicom_bytes("MR_small.dcm")  # 64 x 64

    cases = [
        (corpus.image_bytes("PNG", (64, 48)), "a.png", small, "PNG image exceeds 0.001 megapixels"),
        (corpus.stl_mesh("stl"), "a.stl", small, "claims 80 triangles; the limit is 10"),
        (corpus.stl_mesh("stl_ascii"), "a.stl", small, "has more than 10 triangles"),
        (mr, "a.dcm", small, "64 x 64 pixels per frame exceeds 0.001 megapixels"),
        (mr, "a.dcm", Limits(max_dicom_pixels=4000), "exceeds the limit of 4,000 samples"),
    ]
    for data, name, limits, reason in cases:
        with pytest.raises(FileRefused, match=reason):
            inspect_bytes(tmp_path, data, name, limits)


def test_a_file_over_the_size_limit_is_too_large(tmp_path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(51 * 2**20)  # sparse: 51 MB without writing them

    with pytest.raises(PayloadTooLarge) as caught:
        inspect_file(path, original_name="C:\\scans\\cbct.dcm")

    assert caught.value.message == "cbct.dcm is larger than the 50 MB limit"
    assert caught.value.kind == "too_large"


def test_size_exceeded_names_the_limit() -> None:
    assert size_exceeded(60 * 2**20).message == "the file is larger than the 50 MB limit"
    error = size_exceeded(2000, Limits(max_bytes=1000))
    assert error.message == "the file is larger than the 1,000 bytes limit"
    assert error.details == [{"field": "file", "message": error.message}]


# ------------------------------------------------------------------ DICOM preamble


def test_zero_dicom_preamble_clears_an_executable_preamble(tmp_path) -> None:
    original = corpus.dicom_bytes("CT_small.dcm")
    pedicom = b"MZ\x90\x00" + b"\xcc" * 124 + original[128:]  # a "PEDICOM" polyglot
    path = tmp_path / "upload.bin"
    path.write_bytes(pedicom)
    assert inspect_file(path, original_name="ct.dcm").kind == FileKind.dicom

    zero_dicom_preamble(path)

    stored = path.read_bytes()
    assert stored[:128] == bytes(128)
    assert stored[128:] == original[128:]
    assert inspect_file(path, original_name="ct.dcm").metadata["modality"] == "CT"


def test_zero_dicom_preamble_leaves_other_files_alone(tmp_path) -> None:
    path = tmp_path / "raw.dcm"
    data = corpus.dicom_bytes("rtstruct.dcm")
    path.write_bytes(data)

    zero_dicom_preamble(path)

    assert path.read_bytes() == data


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\scan.png", "scan.png"),
        ("C:\\Users\\Ana\\Desktop\\jaw scan.stl", "jaw scan.stl"),
        ("C:scan.png", "scan.png"),
        ("/var/../x.pdf", "x.pdf"),
        ("a\x00b.png", "ab.png"),
        ("tab\there\nnewline.pdf", "tabherenewline.pdf"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("...hidden.png", "hidden.png"),
        ("  spaced.pdf  ", "spaced.pdf"),
        ("report.pdf.", "report.pdf"),
        ("Dr. Smith referral.pdf", "Dr. Smith referral.pdf"),
        (None, None),
        ("", None),
        ("..", None),
        ("../", None),
        ("\x00\x01", None),
    ],
)
def test_sanitize_filename(given, kept) -> None:
    assert sanitize_filename(given) == kept


NAME = "R\u00e1\u00f0iograf\u00eda \U0001d7d9.png"  # "Ráðiografía 𝟙.png", composed  # noqa: RUF003


def test_sanitize_filename_normalises_unicode_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", NAME)
    assert decomposed != NAME

    kept = sanitize_filename(decomposed)

    assert kept == NAME
    assert unicodedata.is_normalized("NFC", kept)


def test_sanitize_filename_caps_length_and_keeps_the_extension() -> None:
    kept = sanitize_filename("x" * 300 + ".png")
    assert kept is not None and len(kept) == 200 and kept.endswith("x.png")

    assert sanitize_filename("y" * 300) == "y" * 200
    assert len(sanitize_filename("é" * 300 + ".dcm") or "") == 200


def test_the_refusal_names_the_sanitised_file(tmp_path) -> None:
    long_name = "\x00../" + "r" * 300 + ".pdf"
    with pytest.raises(FileRefused) as caught:
        inspect_bytes(tmp_path, b"<html>no</html>", long_name)
    assert caught.value.message == "r" * 196 + ".pdf is an HTML file, not a PDF"


def test_a_truncated_image_is_refused_even_after_a_library_turned_on_lenient_loading(
    tmp_path, monkeypatch
) -> None:
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES at import."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    [bad] = [bad for bad in corpus.BAD if bad.case == "truncated JPEG"]
    with pytest.raises(FileRefused) as caught:
        inspect_bytes(tmp_path, bad.build(), bad.name)
    assert bad.reason in caught.value.message
