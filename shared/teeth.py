"""Tooth notation: ISO 3950 (FDI), Universal and Palmer, permanent and primary.

Teeth are stored as their FDI code (two digits, quadrant then position from
the midline) and shown in each reader's notation. All three notations name
the same 52 teeth, so every conversion round-trips.

- FDI: permanent quadrants 1 (upper right), 2 (upper left), 3 (lower left),
  4 (lower right), positions 1-8; primary quadrants 5-8, positions 1-5.
- Universal: permanent 1-32 starting at the upper right third molar and
  running clockwise as the dentist faces the patient; primary A-T the same
  way from the upper right second molar.
- Palmer: the position (1-8, or A-E for primary teeth) inside a quadrant
  bracket. Written with the Unicode dentistry symbols ("8⏌", "⎿1", "1⏋",
  "⎾1"); read also in box-drawing ("8┘", "└1", "1┐", "┌1") and ASCII
  ("UR8", "UL1", "LR1", "LL1", "URE") forms.
"""

from __future__ import annotations

import re
from enum import StrEnum

from shared.errors import InvalidInput


class Notation(StrEnum):
    UNIVERSAL = "universal"
    FDI = "fdi"
    PALMER = "palmer"


class UnknownNotation(InvalidInput):
    """The notation is not one of universal, fdi, palmer."""


class UnknownTooth(InvalidInput):
    """The text does not name a tooth in the given notation."""


# (upper?, right?) for each FDI quadrant digit; 1-4 permanent, 5-8 primary.
_QUADRANT_SIDE = {
    1: (True, True),
    2: (True, False),
    3: (False, False),
    4: (False, True),
    5: (True, True),
    6: (True, False),
    7: (False, False),
    8: (False, True),
}
_PRIMARY_LETTERS = "ABCDE"

# Universal numbering walks the arch: upper right -> upper left -> lower left -> lower right.
_UNIVERSAL_PERMANENT = (
    [f"1{p}" for p in range(8, 0, -1)]
    + [f"2{p}" for p in range(1, 9)]
    + [f"3{p}" for p in range(8, 0, -1)]
    + [f"4{p}" for p in range(1, 9)]
)
_UNIVERSAL_PRIMARY = (
    [f"5{p}" for p in range(5, 0, -1)]
    + [f"6{p}" for p in range(1, 6)]
    + [f"7{p}" for p in range(5, 0, -1)]
    + [f"8{p}" for p in range(1, 6)]
)
UNIVERSAL_TO_FDI: dict[str, str] = {str(i + 1): fdi for i, fdi in enumerate(_UNIVERSAL_PERMANENT)}
UNIVERSAL_TO_FDI.update({chr(ord("A") + i): fdi for i, fdi in enumerate(_UNIVERSAL_PRIMARY)})
FDI_TO_UNIVERSAL: dict[str, str] = {fdi: uni for uni, fdi in UNIVERSAL_TO_FDI.items()}

#: Every tooth's FDI code: 32 permanent then 20 primary, in Universal order.
ALL_TEETH: tuple[str, ...] = tuple(UNIVERSAL_TO_FDI.values())

# Palmer brackets: (prefix, suffix) per side for the written (dentistry symbol) form.
_PALMER_SYMBOLS = {
    (True, True): ("", "\u23cc"),  # 8⏌
    (True, False): ("\u23bf", ""),  # ⎿1
    (False, True): ("", "\u23cb"),  # 1⏋
    (False, False): ("\u23be", ""),  # ⎾1
}
_PALMER_BOX = {
    (True, True): ("", "\u2518"),  # 8┘
    (True, False): ("\u2514", ""),  # └1
    (False, True): ("", "\u2510"),  # 1┐
    (False, False): ("\u250c", ""),  # ┌1
}
_ASCII_SIDE = {"UR": (True, True), "UL": (True, False), "LR": (False, True), "LL": (False, False)}

_BRACKET_SIDE: dict[tuple[str, str], tuple[bool, bool]] = {}
for _table in (_PALMER_SYMBOLS, _PALMER_BOX):
    for _side, (_pre, _suf) in _table.items():
        _BRACKET_SIDE[(_pre, _suf)] = _side

_PALMER_BRACKETS = re.escape("".join(p + s for p, s in _PALMER_SYMBOLS.values())) + re.escape(
    "".join(p + s for p, s in _PALMER_BOX.values())
)
_PALMER_RE = re.compile(
    rf"^(?P<pre>[{_PALMER_BRACKETS}]?)\s*(?P<pos>[1-8A-E])\s*(?P<suf>[{_PALMER_BRACKETS}]?)$"
)
_ASCII_RE = re.compile(r"^(?P<side>UR|UL|LR|LL)\s*-?\s*(?P<pos>[1-8A-E])$")


def _fdi_code(upper: bool, right: bool, position: str) -> str:
    primary = position.isalpha()
    for quadrant, side in _QUADRANT_SIDE.items():
        if side == (upper, right) and (quadrant >= 5) == primary:
            number = _PRIMARY_LETTERS.index(position) + 1 if primary else int(position)
            return f"{quadrant}{number}"
    raise AssertionError("every side has a permanent and a primary quadrant")


def notation_of(value: str) -> Notation:
    """The Notation named by ``value`` (case-insensitive), or UnknownNotation naming it."""
    try:
        return Notation(value.strip().lower())
    except ValueError:
        raise UnknownNotation(
            f"unknown tooth notation {value!r}: use universal, fdi or palmer",
            details={"value": value},
        ) from None


def _unknown(tooth: str, notation: Notation) -> UnknownTooth:
    return UnknownTooth(
        f"{tooth!r} is not a {notation.value} tooth",
        details={"value": tooth, "notation": notation.value},
    )


def _parse_palmer(text: str) -> str | None:
    upper = text.upper()
    match = _ASCII_RE.match(upper)
    if match:
        return _fdi_code(*_ASCII_SIDE[match["side"]], match["pos"])
    match = _PALMER_RE.match(upper)
    if not match:
        return None
    side = _BRACKET_SIDE.get((match["pre"], match["suf"]))
    if side is None:  # no bracket, or two, or a bracket on the wrong side of the number
        return None
    return _fdi_code(*side, match["pos"])


def to_fdi(tooth: str, notation: str) -> str:
    """The FDI (ISO 3950) code of ``tooth`` written in ``notation``."""
    notation = notation_of(notation)
    text = tooth.strip()
    fdi: str | None
    if notation is Notation.FDI:
        fdi = text if text in FDI_TO_UNIVERSAL else None
    elif notation is Notation.UNIVERSAL:
        key = text.upper() if text.isalpha() else text.lstrip("0") if text.isdigit() else text
        fdi = UNIVERSAL_TO_FDI.get(key)
    else:
        fdi = _parse_palmer(text)
    if fdi is None:
        raise _unknown(tooth, notation)
    return fdi


def from_fdi(fdi: str, notation: str) -> str:
    """``fdi`` written in ``notation`` (Palmer with the Unicode dentistry symbols)."""
    notation = notation_of(notation)
    if fdi not in FDI_TO_UNIVERSAL:
        raise _unknown(fdi, Notation.FDI)
    if notation is Notation.FDI:
        return fdi
    if notation is Notation.UNIVERSAL:
        return FDI_TO_UNIVERSAL[fdi]
    quadrant, number = int(fdi[0]), int(fdi[1])
    position = _PRIMARY_LETTERS[number - 1] if quadrant >= 5 else str(number)
    prefix, suffix = _PALMER_SYMBOLS[_QUADRANT_SIDE[quadrant]]
    return f"{prefix}{position}{suffix}"


def convert(tooth: str, source: str, target: str) -> str:
    """``tooth`` written in ``source`` notation, rewritten in ``target`` notation."""
    target = notation_of(target)
    return from_fdi(to_fdi(tooth, source), target)


def is_primary(fdi: str) -> bool:
    """True for a primary (deciduous) tooth."""
    return fdi in FDI_TO_UNIVERSAL and int(fdi[0]) >= 5
