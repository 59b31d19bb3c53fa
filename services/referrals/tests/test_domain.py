"""Domain rules that need neither broker nor database."""

from __future__ import annotations

import uuid

import pytest

from referrals.content import _check_teeth, _Errors
from referrals.dependencies import Settings
from referrals.models import Referral
from referrals.references import ALPHABET
from referrals.stages import allowed
from shared.contracts.identity import OfficeProfile
from shared.directory import ProfileCache
from shared.teeth import Notation


def test_references_avoid_look_alike_characters() -> None:
    assert not set("0O1I") & set(ALPHABET)
    assert len(set(ALPHABET)) == 32


@pytest.mark.parametrize(
    ("stage", "receiver", "sender"),
    [
        ("sent", ["accepted", "declined", "forwarded"], ["cancelled"]),
        ("accepted", ["contacted", "booked"], ["cancelled"]),
        ("contacted", ["booked"], ["cancelled"]),
        ("booked", ["booked", "completed"], []),
        ("completed", ["closed"], []),
        ("closed", [], []),
        ("declined", [], []),
        ("draft", [], []),
    ],
)
def test_who_may_move_a_referral_where(stage: str, receiver: list, sender: list) -> None:
    referral = Referral(stage=stage, sender_office_id=uuid.uuid4(), receiver_office_id=uuid.uuid4())
    assert allowed(referral, referral.receiver_office_id) == receiver
    assert allowed(referral, referral.sender_office_id) == sender
    assert allowed(referral, uuid.uuid4()) == []


def test_teeth_are_stored_once_each_in_chart_order_and_unknown_ones_named() -> None:
    errors = _Errors()
    assert _check_teeth(["14", "3", "3", "A"], Notation.UNIVERSAL, errors) == ["16", "26", "55"]
    assert errors == []
    _check_teeth(["3", "99"], Notation.FDI, errors)
    assert [e["field"] for e in errors] == ["teeth.0", "teeth.1"]


def test_the_profile_cache_forgets_after_its_ttl() -> None:
    office = OfficeProfile(
        id=uuid.uuid4(),
        name="Lakeside Oral Surgery",
        kind="specialist",
        email="desk@lakeside.example",
        phone="+14165550134",
        time_zone="America/Toronto",
        notation=Notation.FDI,
        accepts_referrals=True,
    )
    assert ProfileCache(ttl=30).get(office.id) is None
    cache = ProfileCache(ttl=30)
    cache.put(office)
    assert cache.get(office.id) == office
    stale = ProfileCache(ttl=-1)
    stale.put(office)
    assert stale.get(office.id) is None


def test_settings_refuse_an_unknown_paper_size() -> None:
    assert Settings.from_config({}).pdf_page_size == "Letter"
    assert Settings.from_config({"PDF_PAGE_SIZE": "A4", "NOTATION_CACHE_SECONDS": "5"}) == (
        Settings(pdf_page_size="A4", notation_cache_seconds=5.0)
    )
    with pytest.raises(ValueError, match="PDF_PAGE_SIZE"):
        Settings.from_config({"PDF_PAGE_SIZE": "Legal"})
