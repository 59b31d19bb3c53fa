"""DICOM: Part 10 files, or raw datasets pydicom reads safely; headers only, never pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments
from pydicom.uid import UID

from files.inspection_common import Refused, megapixels, not_valid, refused

LABEL = "DICOM file"
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
UNDEFINED = 0xFFFFFFFF
DEFER = 1_048_576


def is_part10(head: bytes) -> bool:
    return head[128:132] == b"DICM"


def may_be_raw_dataset(head: bytes) -> bool:
    """A dataset without preamble starts with a tag of group 0002 or 0008 (either byte order)."""
    return head[:2] in (b"\x02\x00", b"\x08\x00", b"\x00\x08")


def inspect_dicom(
    path: Path, *, part10: bool, max_pixels: int, max_frame_pixels: int
) -> dict[str, Any]:
    """Read the dataset (pixel data stays encoded) and check it is whole and of sane size."""
    ds = _read(path, part10=part10)
    try:
        return _inspect_dataset(ds, path=path, part10=part10, limits=(max_pixels, max_frame_pixels))
    except Refused:
        raise
    except Exception as exc:  # pydicom converts values lazily: hostile ones fail here
        if not part10:
            raise _not_dicom() from exc
        raise not_valid(LABEL, "its data elements cannot be read (damaged)") from exc


def _inspect_dataset(
    ds: Dataset, *, path: Path, part10: bool, limits: tuple[int, int]
) -> dict[str, Any]:
    max_pixels, max_frame_pixels = limits
    sop_class = ds.get("SOPClassUID") or ds.file_meta.get("MediaStorageSOPClassUID")
    has_pixels = "PixelData" in ds and "Rows" in ds and "Columns" in ds
    if not part10 and not ds.get("SOPClassUID") and not has_pixels:
        raise _not_dicom()
    if not ds.get("SOPClassUID") and not has_pixels and sop_class != DICOMDIR_SOP_CLASS:
        raise not_valid(LABEL, "it is truncated or has no SOP Class UID")
    _check_whole(ds, size=path.stat().st_size)
    meta = _metadata(ds, part10=part10)
    if "PixelData" in ds:
        _check_pixel_data(ds, meta, max_pixels=max_pixels, max_frame_pixels=max_frame_pixels)
    return meta


def _not_dicom() -> Refused:
    return Refused(" is not a DICOM file: it has no DICM marker and no readable DICOM dataset")


def _read(path: Path, *, part10: bool) -> Dataset:
    try:
        # Large values (native pixel data) stay on disk: only their length is read.
        return pydicom.dcmread(path, force=not part10, defer_size=DEFER)
    except Exception as exc:  # pydicom raises many kinds on hostile input
        if not part10:
            raise _not_dicom() from exc
        raise not_valid(LABEL, "its header cannot be read (damaged or truncated)") from exc


def _check_whole(ds: Dataset, *, size: int, depth: int = 0) -> None:
    """An element whose value is shorter than its declared length means the file was cut."""
    if depth > 16:
        raise not_valid(LABEL, "its sequences are nested too deeply")
    try:
        for tag in list(ds.keys()):
            elem = ds.get_item(tag)
            if isinstance(elem, RawDataElement):
                if _is_cut(elem, size):
                    raise not_valid(LABEL, "the file is truncated")
                if elem.VR != "SQ" and elem.length != UNDEFINED:
                    continue
                elem = ds[tag]
            if elem.VR == "SQ":
                for item in elem.value:
                    _check_whole(item, size=size, depth=depth + 1)
    except Refused:
        raise
    except Exception as exc:  # any kind pydicom raises on a damaged element
        raise not_valid(LABEL, "its data elements cannot be read (damaged)") from exc


def _is_cut(elem: RawDataElement, size: int) -> bool:
    if elem.length == UNDEFINED:
        return False
    if elem.value is None:  # deferred: it must at least fit in the file
        return elem.value_tell + elem.length > size
    return len(elem.value) < elem.length


def _metadata(ds: Dataset, *, part10: bool) -> dict[str, Any]:
    syntax = ds.file_meta.get("TransferSyntaxUID") if part10 else None
    return {
        "format": "DICOM",
        "transfer_syntax_uid": str(syntax) if syntax else None,
        "transfer_syntax": UID(str(syntax)).name if syntax else None,
        "sop_class_uid": str(ds.get("SOPClassUID", "")) or None,
        "modality": str(ds.get("Modality", "")) or None,
        "rows": _int(ds.get("Rows")),
        "columns": _int(ds.get("Columns")),
        "frames": _int(ds.get("NumberOfFrames")) or (1 if "PixelData" in ds else None),
        "samples_per_pixel": _int(ds.get("SamplesPerPixel")),
        "has_preamble": part10,
    }


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _check_pixel_data(
    ds: Dataset, meta: dict[str, Any], *, max_pixels: int, max_frame_pixels: int
) -> None:
    rows, cols = meta["rows"] or 0, meta["columns"] or 0
    frames, samples = meta["frames"] or 1, meta["samples_per_pixel"] or 1
    if rows < 1 or cols < 1 or frames < 1 or samples < 1:
        raise not_valid(LABEL, "its pixel data has no valid rows, columns or frames")
    if rows * cols > max_frame_pixels:
        raise refused(
            f"DICOM image of {rows} x {cols} pixels per frame exceeds "
            f"{megapixels(max_frame_pixels)} megapixels"
        )
    if rows * cols * frames * samples > max_pixels:
        raise refused(
            f"DICOM image of {rows} x {cols} x {frames} frames x {samples} samples exceeds "
            f"the limit of {max_pixels:,} samples"
        )
    raw = ds.get_item("PixelData")
    if not isinstance(raw, RawDataElement):
        return
    if raw.length == UNDEFINED:
        _check_fragments(raw.value)
        return
    bits = _int(ds.get("BitsAllocated")) or 8
    expected = (rows * cols * frames * samples * bits + 7) // 8
    found = len(raw.value) if raw.value is not None else raw.length
    if found < expected:
        raise not_valid(
            LABEL, f"the file is truncated (pixel data {found:,} of {expected:,} bytes)"
        )


def _check_fragments(data: bytes | None) -> None:
    try:
        fragments = sum(1 for _ in generate_fragments(data or b""))
    except Exception as exc:  # any kind pydicom raises on damaged fragments
        raise not_valid(LABEL, "its compressed pixel data is damaged or truncated") from exc
    if fragments == 0:
        raise not_valid(LABEL, "its compressed pixel data is empty")
