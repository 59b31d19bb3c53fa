"""What the inspection helpers share: the formats we accept and how a refusal is worded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    key: str  # "png"
    label: str  # "PNG image": how a person calls it
    kind: str  # a FileKind value
    media_type: str
    extension: str  # the canonical one
    extensions: frozenset[str]  # every extension a name may carry for it


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format("pdf", "PDF", "pdf", "application/pdf", "pdf", frozenset({"pdf"})),
        Format("bmp", "BMP image", "image", "image/bmp", "bmp", frozenset({"bmp", "dib"})),
        Format("gif", "GIF image", "image", "image/gif", "gif", frozenset({"gif"})),
        Format(
            "jpeg",
            "JPEG image",
            "image",
            "image/jpeg",
            "jpg",
            frozenset({"jpg", "jpeg", "jpe", "jfif"}),
        ),
        Format("png", "PNG image", "image", "image/png", "png", frozenset({"png"})),
        Format("tiff", "TIFF image", "tiff", "image/tiff", "tiff", frozenset({"tif", "tiff"})),
        Format(
            "dicom",
            "DICOM file",
            "dicom",
            "application/dicom",
            "dcm",
            frozenset({"dcm", "dicom", "dic"}),
        ),
        Format("stl", "STL", "stl", "model/stl", "stl", frozenset({"stl"})),
    )
}

SUPPORTED = "PDF, BMP, GIF, JPEG, PNG, TIFF, DICOM, STL"


class Refused(Exception):
    """A reason to refuse the file, worded to follow its name ("scan.stl" + text)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def not_valid(label: str, why: str) -> Refused:
    """`<name> is not a valid STL: <why>`."""
    return Refused(f" is not a valid {label}: {why}")


def refused(why: str) -> Refused:
    """`<name>: <why>`."""
    return Refused(f": {why}")


def megapixels(pixels: int) -> str:
    """89_478_485 -> "89"; 1_500_000 -> "1.5": how people say an image limit."""
    mp = pixels / 1_000_000
    return f"{int(mp)}" if mp >= 10 else f"{mp:.3g}"
