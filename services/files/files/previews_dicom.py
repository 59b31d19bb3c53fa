"""DICOM previews: every dataset's metadata, and its first frame windowed to 8 bits if decodable.

Decoders are the permissive ones installed (pylibjpeg-openjpeg, -rle,
pyjpegls, GDCM, Pillow); pylibjpeg-libjpeg is GPL and never used, so for
example 12-bit JPEG Extended has no decoder here: such files keep their
metadata and get no preview.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, get_decoder, pixel_array
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

log = logging.getLogger(__name__)

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class NoImage(Exception):
    """The dataset holds metadata but no image we can draw; ``str()`` says why."""


def read(path: Path) -> Dataset:
    """The dataset, with a transfer syntax guessed from its encoding when the file has none."""
    ds = pydicom.dcmread(path, force=True)
    meta = ds.file_meta
    if "TransferSyntaxUID" not in meta and ds.original_encoding[0] is not None:
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (
            (ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)
            if little
            else ExplicitVRBigEndian
        )
    return ds


def _text(ds: Dataset, keyword: str) -> str | None:
    try:
        value = ds.get(keyword)
    except Exception:  # noqa: BLE001 - a malformed element is left out, not fatal
        return None
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _number(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value is None or value == "" else int(value)
    except Exception:  # noqa: BLE001 - as above
        return None


def _date(ds: Dataset, keyword: str) -> str | None:
    """ISO 8601 when the DA value is a valid date, else the raw text."""
    raw = _text(ds, keyword)
    if raw and len(raw) == 8 and raw.isdigit():
        try:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
        except ValueError:
            return raw
    return raw


def metadata(ds: Dataset) -> dict[str, Any]:
    """The tags the web app shows, as plain JSON values (never raises)."""
    syntax = ds.file_meta.get("TransferSyntaxUID")
    return {
        "format": "dicom",
        "patient_name": _text(ds, "PatientName"),
        "patient_id": _text(ds, "PatientID"),
        "birth_date": _date(ds, "PatientBirthDate"),
        "study_date": _date(ds, "StudyDate"),
        "study_description": _text(ds, "StudyDescription"),
        "modality": _text(ds, "Modality"),
        "rows": _number(ds, "Rows"),
        "columns": _number(ds, "Columns"),
        "frames": _number(ds, "NumberOfFrames") or (1 if _has_pixels(ds) else 0),
        "transfer_syntax_uid": str(syntax) if syntax else None,
        "transfer_syntax": syntax_name(syntax),
        "photometric_interpretation": _text(ds, "PhotometricInterpretation"),
    }


def syntax_name(syntax: str | None) -> str | None:
    if not syntax:
        return None
    name = UID(str(syntax)).name
    return name if name and name != str(syntax) else str(syntax)


def _has_pixels(ds: Dataset) -> bool:
    return any(keyword in ds for keyword in PIXEL_KEYWORDS)


def first_frame(ds: Dataset) -> np.ndarray:
    """The first frame, decoded (only that frame); raises NoImage with the reason when we cannot."""
    if not _has_pixels(ds):
        raise NoImage("no image in this DICOM file")
    syntax = ds.file_meta.get("TransferSyntaxUID")
    name = syntax_name(syntax) or "an unknown transfer syntax"
    if syntax is None:
        raise NoImage("no transfer syntax in this DICOM file")
    try:
        if "PixelData" in ds and not get_decoder(syntax).is_available:
            raise NoImage(f"no decoder for {name}")
        return pixel_array(ds, index=0)
    except NoImage:
        raise
    except NotImplementedError:
        raise NoImage(f"no decoder for {name}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure: no preview, never an error
        if "not support" in str(exc) or "no pixel data handlers" in str(exc).lower():
            raise NoImage(f"no decoder for {name}") from None
        log.info("DICOM pixel data not decodable (%s): %s", name, type(exc).__name__)
        raise NoImage(f"the image data could not be decoded ({name})") from None


def to_8bit(ds: Dataset, frame: np.ndarray) -> np.ndarray:
    """Grey: modality LUT, window (or 1st-99th percentile), MONOCHROME1 inverted. Colour: scaled."""
    photometric = (_text(ds, "PhotometricInterpretation") or "MONOCHROME2").upper()
    if photometric == "PALETTE COLOR":
        frame = apply_color_lut(frame, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        return _scale(frame, 0, 2**bits - 1)
    if frame.ndim == 3:  # RGB (YBR is converted by pydicom)
        if frame.dtype == np.uint8:
            return frame
        bits = _number(ds, "BitsStored") or frame.dtype.itemsize * 8
        return _scale(frame, 0, 2**bits - 1)
    values = apply_modality_lut(frame, ds).astype(np.float64)
    low, high = _window(ds, values)
    grey = _scale(values, low, high)
    return 255 - grey if photometric == "MONOCHROME1" else grey


def _window(ds: Dataset, values: np.ndarray) -> tuple[float, float]:
    """The dataset's first window centre/width (DICOM's linear function), else percentiles."""
    try:
        centre, width = ds.get("WindowCenter"), ds.get("WindowWidth")
        if centre is not None and width is not None:
            centre = float(centre[0] if isinstance(centre, pydicom.multival.MultiValue) else centre)
            width = float(width[0] if isinstance(width, pydicom.multival.MultiValue) else width)
            if width >= 1:
                return centre - 0.5 - (width - 1) / 2, centre - 0.5 + (width - 1) / 2
    except (TypeError, ValueError):
        pass
    low, high = (float(v) for v in np.percentile(values, (1, 99)))
    if high <= low:
        low, high = float(values.min()), float(values.max())
    return low, high


def _scale(values: np.ndarray, low: float, high: float) -> np.ndarray:
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8) + (255 if low > 0 else 0)
    scaled = (values.astype(np.float64) - low) * (255.0 / (high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)
