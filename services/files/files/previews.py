"""Previews: a PNG of about 512 px and the metadata of every accepted file.

Pure functions, no nameko or eventlet: the service calls ``make_preview``
in a process pool right after an upload, so a 50 MB scan never stalls its
event loop. A file that was accepted always gets an answer: ``ready`` with a
PNG, or ``unavailable`` with the metadata that could be read and the reason
(for a DICOM compressed with a codec we do not ship, "no decoder for ...").
Inspection has already checked the format and the size limits.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps

from files import previews_dicom, previews_stl
from shared.contracts.files import FileKind, PreviewState

log = logging.getLogger(__name__)

ORIENTATION = 0x0112  # the EXIF tag
IMAGE_FORMATS = {FileKind.image: ("BMP", "GIF", "JPEG", "PNG"), FileKind.tiff: ("TIFF",)}


@dataclass(frozen=True)
class Preview:
    """The outcome for one file: a PNG (``ready``) or the reason there is none (``unavailable``)."""

    state: PreviewState
    png: bytes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


def make_preview(path: Path, kind: FileKind, *, size: int = 512) -> Preview:
    """The preview of an accepted file of this kind; never raises for what the file holds."""
    makers = {
        FileKind.image: _image_preview,
        FileKind.tiff: _image_preview,
        FileKind.pdf: _pdf_preview,
        FileKind.dicom: _dicom_preview,
        FileKind.stl: _stl_preview,
    }
    kind = FileKind(kind)
    try:
        return makers[kind](Path(path), kind, size)
    except Exception as exc:  # noqa: BLE001 - logged by failed(); the file gets "unavailable"
        return failed({}, kind, exc)


def failed(metadata: dict[str, Any], kind: FileKind, exc: Exception) -> Preview:
    """Unavailable after an unexpected error: logged with its traceback, the metadata kept."""
    log.warning("no preview for a %s file: %s", kind.value, type(exc).__name__, exc_info=True)
    return unavailable(metadata, f"the preview could not be drawn ({type(exc).__name__})")


def unavailable(metadata: dict[str, Any], reason: str) -> Preview:
    return Preview(state=PreviewState.unavailable, png=None, metadata=metadata, reason=reason)


def ready(png: bytes, metadata: dict[str, Any]) -> Preview:
    return Preview(state=PreviewState.ready, png=png, metadata=metadata, reason=None)


def png_bytes(image: Image.Image, *, size: int) -> bytes:
    """PNG of the image shrunk (never enlarged) to fit size x size, aspect kept."""
    if image.width > size or image.height > size:
        image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


# ------------------------------------------------------------------ images


def _image_preview(path: Path, kind: FileKind, size: int) -> Preview:
    """BMP, GIF, JPEG, PNG, TIFF: the first frame or page, EXIF orientation applied."""
    with Image.open(path, formats=IMAGE_FORMATS[kind]) as image:
        width, height = image.size
        if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
            width, height = height, width  # shown turned a quarter
        metadata: dict[str, Any] = {
            "format": image.format.lower() if image.format else None,
            "width": width,
            "height": height,
            "mode": image.mode,
        }
        metadata["pages" if kind is FileKind.tiff else "frames"] = getattr(image, "n_frames", 1)
        if image.format == "JPEG":
            image.draft("RGB", (size, size))  # decode at 1/2, 1/4 or 1/8 scale when that suffices
        picture = displayable(ImageOps.exif_transpose(image), size=size)
    return ready(png_bytes(picture, size=size), metadata)


def displayable(image: Image.Image, *, size: int) -> Image.Image:
    """An 8-bit L, RGB or RGBA copy of any mode Pillow opens (16-bit, float, palette, CMYK...)."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA"):
        image.load()  # the file closes after this; the pixels stay
        return image
    if mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        raw = np.asarray(image)
        step = max(1, max(raw.shape) // (2 * size))  # a big X-ray: never all of it as floats
        values = raw[::step, ::step].astype(np.float64)
        low, high = float(values.min()), float(values.max())
        grey = np.zeros(values.shape) if high <= low else (values - low) * (255 / (high - low))
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode in ("LA", "La", "RGBa", "RGBX"):
        return image.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV


# --------------------------------------------------------------------- PDF


def _pdf_preview(path: Path, kind: FileKind, size: int) -> Preview:
    """The first page rendered to fit size x size on white; the page count."""
    document = pdfium.PdfDocument(path)
    try:
        metadata: dict[str, Any] = {"format": "pdf", "pages": len(document)}
        if not len(document):
            return unavailable(metadata, "the PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()
            metadata["page_size_pt"] = [round(width, 1), round(height, 1)]
            scale = size / max(width, height, 1.0)
            bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
            try:
                picture = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    return ready(png_bytes(picture, size=size), metadata)


# ------------------------------------------------------------------- DICOM


def _dicom_preview(path: Path, kind: FileKind, size: int) -> Preview:
    """The first frame windowed to 8 bits, with the tags the web app shows."""
    ds = previews_dicom.read(path)
    metadata = previews_dicom.metadata(ds)
    try:
        frame = previews_dicom.first_frame(ds)
        pixels = previews_dicom.to_8bit(ds, frame)
        picture = Image.fromarray(np.ascontiguousarray(pixels), "RGB" if pixels.ndim == 3 else "L")
        return ready(png_bytes(picture, size=size), metadata)
    except previews_dicom.NoImage as exc:
        return unavailable(metadata, str(exc))
    except Exception as exc:  # noqa: BLE001 - logged by failed(), e.g. an odd palette
        return failed(metadata, kind, exc)


# --------------------------------------------------------------------- STL


def _stl_preview(path: Path, kind: FileKind, size: int) -> Preview:
    """A shaded three-quarter view; triangle count, bounding box, watertight flag."""
    try:
        triangles, encoding = previews_stl.read_triangles(path, contiguous=False)
    except previews_stl.MeshError as exc:
        return unavailable({}, str(exc))
    try:
        # The watertight check and the drawing in one pass over the triangles.
        metadata, png = previews_stl.preview(triangles, encoding=encoding, size=size)
    except previews_stl.MeshError as exc:
        return unavailable(exc.metadata or {}, str(exc))
    except Exception as exc:  # noqa: BLE001 - logged by failed(); the metadata is kept
        try:
            metadata = previews_stl.mesh_metadata(triangles, encoding=encoding)
        except Exception:  # noqa: BLE001 - the drawing's error is the one logged
            metadata = {}
        return failed(metadata, kind, exc)
    return ready(png, metadata)
