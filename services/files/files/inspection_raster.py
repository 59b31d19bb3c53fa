"""Pictures and documents: BMP, GIF, JPEG, PNG and TIFF through Pillow, PDF through PDFium."""

from __future__ import annotations

import multiprocessing
import struct
from pathlib import Path
from typing import Any, BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageFile, UnidentifiedImageError

from files.inspection_common import FORMATS, Refused, megapixels, not_valid, refused

PILLOW_FORMAT = {"bmp": "BMP", "gif": "GIF", "jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}
MAX_PAGES = 1000  # TIFF pages / GIF frames: more is not a dental image, and costs time
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# PDFium is not thread-safe. inspect_file runs in OS threads (eventlet's tpool), where
# threading.Lock, patched by eventlet into a green lock, would not hold: take an OS semaphore.
_pdfium_lock = multiprocessing.Lock()


def inspect_image(path: Path, key: str, *, max_pixels: int) -> dict[str, Any]:
    """Open, verify and decode an image with Pillow, refusing bombs before decoding."""
    label = FORMATS[key].label
    # A truncated image must be refused, not padded with grey: some libraries (WeasyPrint)
    # turn Pillow's process-wide switch on at import; this process wants it off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if key == "png":
        _check_png_chunks(path)
    frames = _count_gif_frames(path) if key == "gif" else 1
    # Pillow's own bomb check (its process-wide MAX_IMAGE_PIXELS, left untouched) refuses
    # twice its limit at open; our limit is checked on the size before anything is decoded.
    try:
        with Image.open(path, formats=[PILLOW_FORMAT[key]]) as im:
            _check_pixels(im.size, label, max_pixels)
            im.verify()
        with Image.open(path, formats=[PILLOW_FORMAT[key]]) as im:
            width, height = im.size
            pages = _load_pages(im, label, max_pixels) if key == "tiff" else _load_one(im)
    except Image.DecompressionBombError as exc:
        raise refused(f"{label} exceeds {megapixels(max_pixels)} megapixels") from exc
    except Refused:
        raise
    except Exception as exc:  # Pillow's decoders raise many kinds on hostile input
        raise not_valid(label, _pillow_reason(exc)) from exc
    meta: dict[str, Any] = {"format": key.upper(), "width": width, "height": height}
    if key == "tiff":
        meta["pages"] = pages
    if key == "gif":
        meta["frames"] = frames
    return meta


def _check_pixels(size: tuple[int, int], label: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise refused(
            f"{label} exceeds {megapixels(max_pixels)} megapixels ({width} x {height} pixels)"
        )
    if width < 1 or height < 1:
        raise not_valid(label, "it has no pixels")


def _load_one(im: Image.Image) -> int:
    im.load()
    return 1


def _load_pages(im: Image.Image, label: str, max_pixels: int) -> int:
    """Every page's size is checked before that page is decoded."""
    page = 0
    while True:
        _check_pixels(im.size, f"{label} (page {page + 1})", max_pixels)
        im.load()
        page += 1
        try:
            im.seek(page)
        except EOFError:
            return page
        if page >= MAX_PAGES:
            raise refused(f"{label} has more than {MAX_PAGES} pages")


def _pillow_reason(exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return "the image data is truncated"
    if isinstance(exc, UnidentifiedImageError):
        return "the image header cannot be read"
    if "Decompressed Data Too Large" in text or "Too much memory" in text:
        return "it holds too much compressed data (a decompression bomb)"
    return "the image data cannot be decoded"


def _check_png_chunks(path: Path) -> None:
    """Walk the chunks: truncation, and data hidden after IEND (polyglots), are refused."""
    with path.open("rb") as f:
        f.seek(len(PNG_SIGNATURE))
        while True:
            head = f.read(8)
            if len(head) < 8:
                raise not_valid("PNG image", "the file ends before the image does (truncated)")
            length, ctype = struct.unpack(">I4s", head)
            f.seek(length + 4, 1)  # the data and its CRC
            if ctype == b"IEND":
                break
        here = f.tell()
        size = f.seek(0, 2)
        if here > size:
            raise not_valid("PNG image", "the file ends before the image does (truncated)")
        if here < size:
            raise refused(f"PNG image has {size - here} bytes of other data after its end")


def _count_gif_frames(path: Path) -> int:
    """Walk the blocks to the trailer: frames are counted, data after the end is refused."""
    with path.open("rb") as f:
        header = f.read(13)
        if len(header) < 13:
            raise not_valid("GIF image", "the file ends before the image does (truncated)")
        flags = header[10]
        if flags & 0x80:
            f.seek(3 * (2 ** ((flags & 7) + 1)), 1)
        frames = 0
        while True:
            block = f.read(1)
            if block == b";":
                break
            if block == b"!":
                f.seek(1, 1)
                _skip_sub_blocks(f)
            elif block == b",":
                descriptor = f.read(9)
                if len(descriptor) < 9:
                    break
                if descriptor[8] & 0x80:
                    f.seek(3 * (2 ** ((descriptor[8] & 7) + 1)), 1)
                f.seek(1, 1)  # LZW minimum code size
                _skip_sub_blocks(f)
                frames += 1
                if frames > MAX_PAGES:
                    raise refused(f"GIF image has more than {MAX_PAGES} frames")
            elif not block:
                raise not_valid("GIF image", "the file ends before the image does (truncated)")
            else:
                raise not_valid("GIF image", "its blocks are malformed")
        here, size = f.tell(), f.seek(0, 2)
    if here < size:
        raise refused(f"GIF image has {size - here} bytes of other data after its end")
    if frames == 0:
        raise not_valid("GIF image", "it contains no image")
    return frames


def _skip_sub_blocks(f: BinaryIO) -> None:
    while True:
        n = f.read(1)
        if not n:
            raise not_valid("GIF image", "the file ends before the image does (truncated)")
        if n == b"\x00":
            return
        f.seek(n[0], 1)


def inspect_pdf(path: Path) -> dict[str, Any]:
    """PDFium opens it without a password and finds at least one page."""
    with _pdfium_lock:
        try:
            doc = pdfium.PdfDocument(path)
        except Exception as exc:  # PdfiumError, or anything else a hostile file provokes
            if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
                raise refused("the PDF is protected by a password; send it without one") from exc
            raise not_valid("PDF", "PDFium cannot read its structure (damaged)") from exc
        try:
            pages = len(doc)
            encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1
        finally:
            doc.close()
    if pages < 1:
        raise not_valid("PDF", "it has no pages")
    return {"format": "PDF", "pages": pages, "encrypted": encrypted}
