"""Tooth notation: every tooth, every direction, every accepted spelling, and the refusals."""

from __future__ import annotations

import pytest

from shared import teeth
from shared.teeth import ALL_TEETH, Notation, convert, from_fdi, to_fdi


def test_there_are_32_permanent_and_20_primary_teeth() -> None:
    assert len(ALL_TEETH) == len(set(ALL_TEETH)) == 52
    assert sum(teeth.is_primary(t) for t in ALL_TEETH) == 20


@pytest.mark.parametrize("fdi", ALL_TEETH)
@pytest.mark.parametrize("source", list(Notation))
@pytest.mark.parametrize("target", list(Notation))
def test_every_conversion_round_trips(fdi: str, source: Notation, target: Notation) -> None:
    written = from_fdi(fdi, source)
    converted = convert(written, source, target)
    assert to_fdi(converted, target) == fdi
    assert convert(converted, target, source) == written


@pytest.mark.parametrize(
    ("universal", "fdi", "palmer"),
    [
        ("1", "18", "8⏌"),
        ("3", "16", "6⏌"),
        ("8", "11", "1⏌"),
        ("9", "21", "⎿1"),
        ("16", "28", "⎿8"),
        ("17", "38", "⎾8"),
        ("24", "31", "⎾1"),
        ("25", "41", "1⏋"),
        ("32", "48", "8⏋"),
        ("A", "55", "E⏌"),
        ("E", "51", "A⏌"),
        ("F", "61", "⎿A"),
        ("J", "65", "⎿E"),
        ("K", "75", "⎾E"),
        ("O", "71", "⎾A"),
        ("P", "81", "A⏋"),
        ("T", "85", "E⏋"),
    ],
)
def test_known_teeth_in_each_notation(universal: str, fdi: str, palmer: str) -> None:
    assert to_fdi(universal, "universal") == fdi
    assert from_fdi(fdi, "universal") == universal
    assert from_fdi(fdi, "palmer") == palmer
    assert to_fdi(palmer, "palmer") == fdi


@pytest.mark.parametrize(
    ("written", "fdi"),
    [
        ("8┘", "18"),
        ("└1", "21"),
        ("1┐", "41"),
        ("┌1", "31"),
        ("E┘", "55"),
        ("UR8", "18"),
        ("UL1", "21"),
        ("LR1", "41"),
        ("LL1", "31"),
        ("URE", "55"),
        ("ll a", "71"),
        ("UR-3", "13"),
        (" 6⏌ ", "16"),
    ],
)
def test_palmer_is_read_in_box_drawing_and_ascii_forms(written: str, fdi: str) -> None:
    assert to_fdi(written, "palmer") == fdi


@pytest.mark.parametrize(
    ("written", "notation", "fdi"),
    [
        ("03", "universal", "16"),
        ("a", "universal", "55"),
        (" 16 ", "fdi", "16"),
        ("t", "UNIVERSAL", "85"),
    ],
)
def test_lenient_spellings(written: str, notation: str, fdi: str) -> None:
    assert to_fdi(written, notation) == fdi


@pytest.mark.parametrize(
    ("written", "notation"),
    [
        ("0", "universal"),
        ("33", "universal"),
        ("U", "universal"),
        ("", "universal"),
        ("1.5", "universal"),
        ("10", "fdi"),
        ("19", "fdi"),
        ("49", "fdi"),
        ("56", "fdi"),
        ("86", "fdi"),
        ("91", "fdi"),
        ("8", "palmer"),
        ("9⏌", "palmer"),
        ("F⏌", "palmer"),
        ("⎿1⏌", "palmer"),
        ("⏌8", "palmer"),
        ("UX1", "palmer"),
        ("UR9", "palmer"),
        ("URF", "palmer"),
        ("<script>", "fdi"),
    ],
)
def test_unknown_teeth_are_refused_naming_the_value(written: str, notation: str) -> None:
    with pytest.raises(teeth.UnknownTooth) as raised:
        to_fdi(written, notation)
    assert repr(written) in raised.value.message
    assert raised.value.details == {"value": written, "notation": notation.lower()}
    assert raised.value.kind == "invalid"


@pytest.mark.parametrize("notation", ["", "iso", "palmers", "FDI2"])
def test_unknown_notations_are_refused_naming_the_value(notation: str) -> None:
    with pytest.raises(teeth.UnknownNotation, match=repr(notation)):
        convert("11", notation, "fdi")
    with pytest.raises(teeth.UnknownNotation, match=repr(notation)):
        convert("11", "fdi", notation)


def test_from_fdi_refuses_a_code_that_is_not_a_tooth() -> None:
    with pytest.raises(teeth.UnknownTooth, match="'99'"):
        from_fdi("99", "palmer")
