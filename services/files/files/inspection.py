"""What an uploaded file really is, decided by its content, and whether we accept it.

Pure functions (no nameko, no eventlet): the files service runs them in a worker process.
Accepted: PDF; BMP, GIF, JPEG, PNG; TIFF (multi-page); DICOM (Part 10, or a raw dataset
pydicom reads safely); STL (binary and ASCII). A name's extension, when it has one, must
agree with the content. Pixels of DICOM are never decoded here: previews do that.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from files import inspection_dicom as dicom
from files import inspection_stl as stl
from files.inspection_common import FORMATS, SUPPORTED, Refused, not_valid, refused
from files.inspection_raster import inspect_image, inspect_pdf
from shared.contracts.files import FileKind
from shared.errors import InvalidInput, PayloadTooLarge

HEAD_BYTES = 65_536  # enough to find a misplaced %PDF- and to sniff text
PDF_HEADER_WITHIN = 1024  # the PDF specification's allowance for bytes before %PDF-
MAX_NAME = 200

MAGIC = (  # strong signatures of formats we accept, checked before anything else
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
)
OTHER_MAGIC = (  # formats we refuse, named so the refusal says what the file is
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program (ELF)"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
)
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<!--")
# Markup a browser or interpreter would act on; long enough not to occur in pixels by chance.
SCRIPT_MARKERS = re.compile(rb"<(script|html|iframe|svg|body)[\s>/]|<\?php|javascript:", re.I)
BMP_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}
_BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 2**20
    max_image_pixels: int = 89_478_485  # Pillow's own bomb limit; also a DICOM frame's cap
    max_dicom_pixels: int = 2_000_000_000  # rows x columns x frames x samples
    max_stl_triangles: int = 5_000_000


@dataclass(frozen=True)
class Inspection:
    kind: FileKind
    media_type: str
    extension: str  # canonical: "pdf", "png", "jpg", "tiff", "dcm", "stl"...
    metadata: dict[str, Any] = field(default_factory=dict)


class FileRefused(InvalidInput):
    """The content is not a file we accept; the message names the file and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details=[{"field": "file", "message": message}])


def inspect_file(path: Path, *, original_name: str | None, limits: Limits = Limits()) -> Inspection:
    """Decide the format by content (magic bytes and a real parse) and check it is safe."""
    name = sanitize_filename(original_name)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise size_exceeded(size, limits, original_name=name)
    try:
        return _inspect(path, size=size, ext=_extension(name), limits=limits)
    except Refused as refusal:
        raise FileRefused((name or "the file") + refusal.text) from None


def size_exceeded(
    size: int, limits: Limits = Limits(), *, original_name: str | None = None
) -> PayloadTooLarge:
    """The error for a file over the size limit (raise it as soon as the limit is crossed)."""
    mb = limits.max_bytes / 2**20
    if mb >= 1:
        shown = f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"
    else:
        shown = f"{limits.max_bytes:,} bytes"
    message = f"{original_name or 'the file'} is larger than the {shown} limit"
    return PayloadTooLarge(message, details=[{"field": "file", "message": message}])


def sanitize_filename(name: str | None) -> str | None:
    """The base name only, without control characters, NFC, at most 200 characters."""
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in name if unicodedata.category(c) not in ("Cc", "Cs") and c not in "\u2028\u2029"
    ).translate(_BIDI_CONTROLS)
    name = unicodedata.normalize("NFC", name)
    if len(name) > 1 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        name = name[2:]  # "C:scan.png", a drive-relative Windows path
    name = name.lstrip(". ").rstrip(" .")
    if not name:
        return None
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME]
    return name


def zero_dicom_preamble(path: Path) -> None:
    """Overwrite a Part 10 file's 128-byte preamble with zeros (it can hold a program)."""
    with path.open("r+b") as f:
        if dicom.is_part10(f.read(132)):
            f.seek(0)
            f.write(bytes(128))


# ------------------------------------------------------------------ internals


def _extension(name: str | None) -> str | None:
    """The lowercased extension ("scan.STL": "stl"); "1.2.840.10008.5", "Dr. Smith" have none."""
    if not name or "." not in name:
        return None
    ext = name.rsplit(".", 1)[1]
    if re.fullmatch(r"[A-Za-z0-9]{1,10}", ext) and not ext.isdigit():
        return ext.lower()
    return None


def _inspect(path: Path, *, size: int, ext: str | None, limits: Limits) -> Inspection:
    if size == 0:
        raise Refused(" is empty")
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    key = _classify(head, size, ext)
    if ext is not None and ext not in FORMATS[key].extensions:
        raise refused(f"the extension .{ext} does not match the content ({key.upper()})")
    _refuse_polyglots(path, head, size, key)
    metadata = _parse(path, head, size, key, limits)
    fmt = FORMATS[key]
    return Inspection(FileKind(fmt.kind), fmt.media_type, fmt.extension, metadata)


def _classify(head: bytes, size: int, ext: str | None) -> str:
    """The accepted format this content claims to be, or a refusal saying what it is."""
    if dicom.is_part10(head):
        return "dicom"
    for magic, key in MAGIC:
        if head.startswith(magic):
            return key
    for magic, what in OTHER_MAGIC:
        if head.startswith(magic):
            raise _is_other(what, ext)
    if stl.binary_count(head, size) is not None:
        return "stl"
    if b"%PDF-" in head[:PDF_HEADER_WITHIN]:
        return "pdf"
    if head.startswith(b"BM") and len(head) >= 18 and _dib_size(head) in BMP_DIB_SIZES:
        return "bmp"
    if head.startswith(b"MZ"):
        raise _is_other("a Windows program", ext)
    if stl.looks_ascii(head):
        return "stl"
    if dicom.may_be_raw_dataset(head) and (ext is None or ext in FORMATS["dicom"].extensions):
        return "dicom"
    return _unrecognised(head, ext)


def _unrecognised(head: bytes, ext: str | None) -> str:
    expected = _format_for(ext)
    other = _describe_text(head)
    if expected == "stl" and other is None:
        return "stl"  # binary STL by the name: its size rule says what is wrong
    if expected == "pdf" and b"%PDF-" in head:
        at = head.index(b"%PDF-")
        raise not_valid("PDF", f"the %PDF- header is at byte {at:,}, after the first 1024 bytes")
    if other is not None:
        raise _is_other(other, ext)
    if expected is not None:
        label = FORMATS[expected].label
        raise Refused(f" is not {_article(label)} {label}: its content is not recognised")
    raise Refused(f" is not a supported file type ({SUPPORTED})")


def _dib_size(head: bytes) -> int:
    return struct.unpack_from("<I", head, 14)[0]


def _format_for(ext: str | None) -> str | None:
    return next((key for key, f in FORMATS.items() if ext in f.extensions), None)


def _article(label: str) -> str:
    return "an" if label.startswith("STL") else "a"


def _is_other(what: str, ext: str | None) -> Refused:
    expected = _format_for(ext)
    if expected is None:
        return Refused(f" is not a supported file type ({SUPPORTED}): it is {what}")
    label = FORMATS[expected].label
    return Refused(f" is {what}, not {_article(label)} {label}")


def _describe_text(head: bytes) -> str | None:
    """HTML, XML or plain text, told apart so the refusal can say which."""
    sample = head[:4096]
    text = sample.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith(HTML_STARTS) or b"<html" in text[:1024]:
        return "an HTML file"
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "an SVG image" if b"<svg" in text else "an XML file"
    if b"\x00" in sample:
        return None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return None
    return "a text file"


def _refuse_polyglots(path: Path, head: bytes, size: int, key: str) -> None:
    """Content that is also another format (a ZIP, a PDF, a web page) is refused."""
    label = FORMATS[key].label
    if _ends_with_zip(path, size):
        raise refused(f"the {label} is also a ZIP archive (a polyglot file)")
    if key not in ("pdf", "dicom") and b"%PDF-" in head[:PDF_HEADER_WITHIN]:
        raise refused(f"the {label} also starts like a PDF (a polyglot file)")
    if key == "dicom" or (key == "stl" and stl.looks_ascii(head)):
        return  # their own parsers refuse what does not belong (the preamble is zeroed)
    if key == "pdf":
        window = head[: head.find(b"%PDF-")]  # what a browser would see before the PDF
    else:
        with path.open("rb") as f:
            f.seek(max(0, size - 4096))
            window = head[:4096] + b"\n" + f.read()
    if SCRIPT_MARKERS.search(window):
        raise refused(f"the {label} contains web page or script text (a polyglot file)")


def _ends_with_zip(path: Path, size: int) -> bool:
    """A ZIP reader looks for its end record in the last 64 KiB: is there a valid one?"""
    with path.open("rb") as f:
        start = max(0, size - 65_557)
        f.seek(start)
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    while at != -1:
        if at + 22 <= len(tail):
            (comment,) = struct.unpack_from("<H", tail, at + 20)
            if at + 22 + comment == len(tail):
                return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def _parse(path: Path, head: bytes, size: int, key: str, limits: Limits) -> dict[str, Any]:
    if key == "pdf":
        return inspect_pdf(path)
    if key == "dicom":
        return dicom.inspect_dicom(
            path,
            part10=dicom.is_part10(head),
            max_pixels=limits.max_dicom_pixels,
            max_frame_pixels=limits.max_image_pixels,
        )
    if key == "stl":
        if stl.binary_count(head, size) is None and stl.looks_ascii(head):
            return stl.inspect_ascii(path, max_triangles=limits.max_stl_triangles)
        return stl.inspect_binary(path, head, size, max_triangles=limits.max_stl_triangles)
    return inspect_image(path, key, max_pixels=limits.max_image_pixels)
