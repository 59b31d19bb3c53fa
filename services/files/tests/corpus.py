"""Files for the inspection tests, built at test time: real ones made by the libraries
themselves (Pillow, trimesh, PDFium, pydicom's own test files), and a corpus of bad ones.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pydicom
import pypdfium2 as pdfium
import trimesh
from PIL import Image
from pydicom.data import get_testdata_file

# ------------------------------------------------------------------ good files


def dicom_bytes(name: str) -> bytes:
    """One of the test files shipped inside pydicom's wheel (never downloaded)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not shipped with this pydicom"
    with open(path, "rb") as f:
        return f.read()


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    im = Image.fromarray(pixels, "RGB")
    if fmt == "GIF":
        im = im.convert("P")
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    ims = [Image.new("RGB", (32, 32), color=(i * 60, 0, 0)) for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100)
    return buf.getvalue()


def multipage_tiff(pages: int = 3) -> bytes:
    ims = [Image.new("L", (40 + i, 30 + i), color=i * 60) for i in range(pages)]
    buf = io.BytesIO()
    ims[0].save(buf, "TIFF", save_all=True, append_images=ims[1:], compression="tiff_lzw")
    return buf.getvalue()


def stl_mesh(file_type: str) -> bytes:
    """An icosphere (80 faces at subdivisions=1) exported by trimesh: "stl" or "stl_ascii"."""
    data = trimesh.creation.icosphere(subdivisions=1).export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


def pdf_from_pdfium(pages: int = 2) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(595, 842)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def pdf_from_pillow() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buf, "PDF")
    return buf.getvalue()


# ------------------------------------------------------------------ bad files: builders


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height 1-bit pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(bytes(1000), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def tiff_pages(*sizes: tuple[int, int]) -> bytes:
    """An uncompressed 8-bit grey TIFF written by hand: one IFD per (width, height)."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    next_pointer = 4
    for width, height in sizes:
        pixels = bytes(min(width * height, 4096))  # a huge page gets only a token strip
        strip_at = len(out)
        out += pixels
        ifd_at = len(out)
        struct.pack_into("<I", out, next_pointer, ifd_at)
        tags = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, strip_at),
            (277, 3, 1),
            (278, 4, height),
            (279, 4, len(pixels)),
        ]
        out += struct.pack("<H", len(tags))
        for tag, typ, value in tags:
            short = typ == 3
            packed = struct.pack("<H", value) + b"\x00\x00" if short else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, typ, 1) + packed
        next_pointer = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def stl_header_count(count: int, total_size: int, header: bytes = b"bad mesh") -> bytes:
    body = header.ljust(80, b" ") + struct.pack("<I", count)
    return body + bytes(total_size - len(body))


def binary_stl_with_nan() -> bytes:
    data = bytearray(stl_mesh("stl"))
    struct.pack_into("<f", data, 84 + 12, float("nan"))
    return bytes(data)


def ascii_stl(facets: str, *, end: bool = True) -> bytes:
    return ("solid part\n" + facets + ("endsolid part\n" if end else "")).encode()


FACET = (
    "facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n  vertex 0 1 0\n"
    " endloop\nendfacet\n"
)


def dicom_edited(name: str, **tags: object) -> bytes:
    ds = pydicom.dcmread(get_testdata_file(name, download=False))
    for keyword, value in tags.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def dicom_with_short_pixels() -> bytes:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.PixelData = ds.PixelData[:1000]
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def raw_dataset_without_essentials() -> bytes:
    """Implicit VR little endian, no preamble, no SOP class and no pixels."""
    ds = pydicom.Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Doe^Jane"
    buf = io.BytesIO()
    ds.save_as(buf, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return buf.getvalue()


def part10_without_sop_class() -> bytes:
    return dicom_edited("rtplan.dcm", SOPClassUID=None)


def zip_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mesh.stl", b"solid x\nendsolid x\n")
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF whose standard security handler does not accept the empty password."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (b"11" * 32, b"22" * 32),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R "
    out += b"/ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>\n"
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


def png_with_pdf_header() -> bytes:
    png = image_bytes("PNG")
    text = png_chunk(b"tEXt", b"Comment\x00%PDF-1.4 1 0 obj")
    return png[:33] + text + png[33:]


def jpeg_with_script() -> bytes:
    return image_bytes("JPEG", comment=b"<script>alert(document.cookie)</script>")


def random_bytes(n: int, prefix: bytes = b"") -> bytes:
    return prefix + random.Random(n).randbytes(n)


def cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


# ------------------------------------------------------------------ the corpus


@dataclass(frozen=True)
class Bad:
    case: str
    name: str | None
    build: Callable[[], bytes]
    reason: str  # the message must contain this


HUGE = "exceeds 89 megapixels"
UNSUPPORTED = "is not a supported file type (PDF, BMP, GIF, JPEG, PNG, TIFF, DICOM, STL)"

BAD: list[Bad] = [
    Bad("zero bytes", "scan.pdf", lambda: b"", "scan.pdf is empty"),
    Bad("zero bytes, no name", None, lambda: b"", "the file is empty"),
    Bad(
        "JPEG named .png",
        "xray.png",
        lambda: image_bytes("JPEG"),
        "xray.png: the extension .png does not match the content (JPEG)",
    ),
    Bad(
        "PNG named .jpg",
        "photo.jpg",
        lambda: image_bytes("PNG"),
        "photo.jpg: the extension .jpg does not match the content (PNG)",
    ),
    Bad(
        "PNG named .exe",
        "setup.exe",
        lambda: image_bytes("PNG"),
        "the extension .exe does not match the content (PNG)",
    ),
    Bad(
        "binary STL named .dcm",
        "jaw.dcm",
        lambda: stl_mesh("stl"),
        "jaw.dcm: the extension .dcm does not match the content (STL)",
    ),
    Bad(
        "DICOM named .pdf",
        "ct.pdf",
        lambda: dicom_bytes("CT_small.dcm"),
        "the extension .pdf does not match the content (DICOM)",
    ),
    Bad(
        "DICOM cut at 60 %",
        "ct.dcm",
        lambda: cut(dicom_bytes("CT_small.dcm"), 0.6),
        "ct.dcm is not a valid DICOM file: the file is truncated",
    ),
    Bad(
        "pydicom's own truncated MR",
        "MR_truncated.dcm",
        lambda: dicom_bytes("MR_truncated.dcm"),
        "is not a valid DICOM file: the file is truncated",
    ),
    Bad(
        "pydicom's own truncated RT plan",
        "rtplan.dcm",
        lambda: dicom_bytes("rtplan_truncated.dcm"),
        "is not a valid DICOM file: the file is truncated",
    ),
    Bad(
        "DICOM cut inside its header",
        "ct.dcm",
        lambda: dicom_bytes("CT_small.dcm")[:300],
        "is not a valid DICOM file: it is truncated or has no SOP Class UID",
    ),
    Bad(
        "DICOM pixel data shorter than rows x columns",
        "ct.dcm",
        dicom_with_short_pixels,
        "is not a valid DICOM file: the file is truncated (pixel data 1,000 of 32,768 bytes)",
    ),
    Bad(
        "DICOM without DICM, garbage",
        "ct.dcm",
        lambda: random_bytes(5000),
        "ct.dcm is not a DICOM file",
    ),
    Bad(
        "DICOM without DICM, garbage after a plausible first tag",
        "ct.dcm",
        lambda: random_bytes(5000, prefix=b"\x08\x00\x05\x00"),
        "ct.dcm is not a DICOM file: it has no DICM marker and no readable DICOM dataset",
    ),
    Bad(
        "pydicom's no_meta.dcm (a stray byte before the dataset)",
        "no_meta.dcm",
        lambda: dicom_bytes("no_meta.dcm"),
        "no_meta.dcm is not a DICOM file",
    ),
    Bad(
        "raw dataset without SOP class or pixels",
        "x.dcm",
        raw_dataset_without_essentials,
        "x.dcm is not a DICOM file: it has no DICM marker and no readable DICOM dataset",
    ),
    Bad(
        "Part 10 without SOP class or pixels",
        "plan.dcm",
        part10_without_sop_class,
        "is not a valid DICOM file: it is truncated or has no SOP Class UID",
    ),
    Bad(
        "DICOM claiming 4000 x 4000 x 200 frames",
        "cbct.dcm",
        lambda: dicom_edited("CT_small.dcm", Rows=4000, Columns=4000, NumberOfFrames=200),
        "cbct.dcm: DICOM image of 4000 x 4000 x 200 frames x 1 samples exceeds the limit of "
        "2,000,000,000 samples",
    ),
    Bad(
        "DICOM claiming one 60000 x 60000 frame",
        "pano.dcm",
        lambda: dicom_edited("CT_small.dcm", Rows=60000, Columns=60000),
        "pano.dcm: DICOM image of 60000 x 60000 pixels per frame exceeds 89 megapixels",
    ),
    Bad(
        "text named .dcm",
        "notes.dcm",
        lambda: b"Patient: Jane Doe\nPlease see attached.\n",
        "notes.dcm is a text file, not a DICOM file",
    ),
    Bad(
        "binary STL with 10 extra bytes",
        "scan.stl",
        lambda: stl_mesh("stl") + bytes(10),
        "scan.stl is not a valid STL: file size does not match its triangle count "
        "(80 triangles need 4,084 bytes; the file has 4,094)",
    ),
    Bad(
        "binary STL cut short",
        "scan.stl",
        lambda: stl_mesh("stl")[:-50],
        "scan.stl is not a valid STL: file size does not match its triangle count",
    ),
    Bad(
        "STL claiming 4 billion triangles in 1 KB",
        "scan.stl",
        lambda: stl_header_count(2**32 - 1, 1024),
        "scan.stl: the STL claims 4,294,967,295 triangles; the limit is 5,000,000",
    ),
    Bad(
        "STL whose size fits 6 million triangles (over the cap)",
        "scan.stl",
        lambda: stl_header_count(6_000_000, 1024),
        "the STL claims 6,000,000 triangles; the limit is 5,000,000",
    ),
    Bad(
        "binary STL with no triangles",
        "scan.stl",
        lambda: stl_header_count(0, 84),
        "scan.stl is not a valid STL: it contains no triangles",
    ),
    Bad(
        "binary STL with a NaN coordinate",
        "scan.stl",
        binary_stl_with_nan,
        "scan.stl is not a valid STL: some coordinates are not finite numbers",
    ),
    Bad(
        "ASCII STL that never ends",
        "scan.stl",
        lambda: ascii_stl(FACET * 3, end=False),
        "scan.stl is not a valid STL: the text ends before 'endsolid' (truncated)",
    ),
    Bad(
        "ASCII STL facet with two vertices",
        "scan.stl",
        lambda: ascii_stl(FACET.replace("  vertex 0 1 0\n", "")),
        "scan.stl is not a valid STL: the facet ending on line 6 has 2 vertices",
    ),
    Bad(
        "ASCII STL with a NaN vertex",
        "scan.stl",
        lambda: ascii_stl(FACET.replace("vertex 1 0 0", "vertex nan 0 0")),
        "scan.stl is not a valid STL: line 5 does not hold three finite numbers",
    ),
    Bad(
        "ASCII STL with a line of 2000 characters",
        "scan.stl",
        lambda: ascii_stl("x" * 2000 + "\n"),
        "scan.stl is not a valid STL: line 2 is too long for ASCII STL",
    ),
    Bad(
        "prose that starts with 'solid'",
        "advice.stl",
        lambda: b"Solid advice for your practice:\nbook early.\n",
        "advice.stl is not a valid STL: line 2 is not what ASCII STL expects there",
    ),
    Bad("ZIP named .stl", "scan.stl", zip_archive, "scan.stl is a ZIP archive, not an STL"),
    Bad("JSON named .stl", "scan.stl", lambda: b'{"mesh": []}', "is a text file, not an STL"),
    Bad(
        "HTML named .pdf",
        "report.pdf",
        lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        "report.pdf is an HTML file, not a PDF",
    ),
    Bad(
        "SVG named .png",
        "logo.png",
        lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "logo.png is an SVG image, not a PNG image",
    ),
    Bad(
        "Windows program named .pdf",
        "invoice.pdf",
        lambda: b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00" + bytes(400),
        "invoice.pdf is a Windows program, not a PDF",
    ),
    Bad(
        "ELF program without a name",
        None,
        lambda: b"\x7fELF\x02\x01\x01" + bytes(200),
        f"the file {UNSUPPORTED}: it is a program (ELF)",
    ),
    Bad("plain text", "notes.txt", lambda: b"hello\n", f"notes.txt {UNSUPPORTED}: it is a text"),
    Bad("random bytes", "blob", lambda: random_bytes(3000, b"\x01"), f"blob {UNSUPPORTED}"),
    Bad(
        "PDF header without a body",
        "report.pdf",
        lambda: b"%PDF-1.7\n",
        "report.pdf is not a valid PDF: PDFium cannot read its structure (damaged)",
    ),
    Bad(
        "PDF with 2000 bytes of junk before %PDF",
        "report.pdf",
        lambda: b"\x01" * 2000 + pdf_from_pillow(),
        "report.pdf is not a valid PDF: the %PDF- header is at byte 2,000, after the first "
        "1024 bytes",
    ),
    Bad(
        "PDF protected by a password",
        "report.pdf",
        encrypted_pdf,
        "report.pdf: the PDF is protected by a password; send it without one",
    ),
    Bad(
        "polyglot: a PDF that is also a ZIP",
        "report.pdf",
        lambda: pdf_from_pillow() + zip_archive(),
        "report.pdf: the PDF is also a ZIP archive (a polyglot file)",
    ),
    Bad(
        "polyglot: a PNG that also starts like a PDF",
        "xray.png",
        png_with_pdf_header,
        "xray.png: the PNG image also starts like a PDF (a polyglot file)",
    ),
    Bad(
        "polyglot: a GIF with a script after its end",
        "smile.gif",
        lambda: image_bytes("GIF") + b"\n*/=alert(document.domain);//",
        "smile.gif: GIF image has 29 bytes of other data after its end",
    ),
    Bad(
        "polyglot: a JPEG with a script in its comment",
        "photo.jpg",
        jpeg_with_script,
        "photo.jpg: the JPEG image contains web page or script text (a polyglot file)",
    ),
    Bad(
        "polyglot: HTML with a PDF inside its first 1024 bytes",
        "report.pdf",
        lambda: b"<html><body>%PDF-1.4 hidden</body></html>\n" + pdf_from_pillow()[9:],
        "report.pdf: the PDF contains web page or script text (a polyglot file)",
    ),
    Bad(
        "polyglot: a binary STL whose header is a script",
        "jaw.stl",
        lambda: b"<script>alert(1)</script>".ljust(80) + stl_mesh("stl")[80:],
        "jaw.stl: the STL contains web page or script text (a polyglot file)",
    ),
    Bad(
        "PNG with data after IEND",
        "xray.png",
        lambda: image_bytes("PNG") + b"PK-whatever",
        "xray.png: PNG image has 11 bytes of other data after its end",
    ),
    Bad(
        "PNG decompression bomb (10000 x 10000 declared)",
        "xray.png",
        lambda: png_declaring(10_000, 10_000),
        f"xray.png: PNG image {HUGE}",
    ),
    Bad(
        "PNG bomb over twice Pillow's limit",
        "xray.png",
        lambda: png_declaring(100_000, 100_000),
        f"xray.png: PNG image {HUGE}",
    ),
    Bad(
        "truncated PNG",
        "xray.png",
        lambda: cut(image_bytes("PNG", (256, 256)), 0.5),
        "xray.png is not a valid PNG image: the file ends before the image does (truncated)",
    ),
    Bad(
        "PNG with a damaged chunk",
        "xray.png",
        lambda: image_bytes("PNG")[:40] + b"\xff" * 8 + image_bytes("PNG")[48:],
        "xray.png is not a valid PNG image",
    ),
    Bad(
        "truncated JPEG",
        "photo.jpeg",
        lambda: cut(image_bytes("JPEG", (256, 256)), 0.5),
        "photo.jpeg is not a valid JPEG image: the image data is truncated",
    ),
    Bad(
        "truncated BMP",
        "xray.bmp",
        lambda: cut(image_bytes("BMP", (128, 128)), 0.5),
        "xray.bmp is not a valid BMP image",
    ),
    Bad(
        "truncated GIF",
        "smile.gif",
        lambda: cut(image_bytes("GIF", (128, 128)), 0.5),
        "smile.gif is not a valid GIF image: the file ends before the image does (truncated)",
    ),
    Bad(
        "TIFF with a huge second page",
        "scan.tiff",
        lambda: tiff_pages((64, 64), (30_000, 30_000)),
        f"scan.tiff: TIFF image (page 2) {HUGE} (30000 x 30000 pixels)",
    ),
    Bad(
        "TIFF with a huge only page",
        "scan.tif",
        lambda: tiff_pages((50_000, 50_000)),
        f"scan.tif: TIFF image {HUGE}",
    ),
    Bad(
        "GIF declaring 65535 x 65535",
        "smile.gif",
        lambda: b"GIF89a\xff\xff\xff\xff" + image_bytes("GIF")[10:],
        f"smile.gif: GIF image {HUGE}",
    ),
    Bad(
        "path traversal in the name of an empty file",
        "../../etc/report.pdf",
        lambda: b"",
        "report.pdf is empty",
    ),
]
