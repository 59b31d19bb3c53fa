"""Who is calling, and which referrals they may see: the sending and the receiving office only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from referrals.exceptions import ReferralNotFound
from referrals.models import Referral
from shared.contracts import Caller
from shared.contracts.referrals import Stage
from shared.errors import PermissionDenied
from shared.validation import parse, parse_id


def caller_of(caller: Any) -> Caller:
    """The caller the gateway passed (verified there, from a signed token)."""
    return parse(Caller, caller, field="caller")


def may_see(referral: Referral, office_id: UUID) -> bool:
    """The sender always; the receiver once it was sent (a draft is the sender's alone)."""
    if referral.sender_office_id == office_id:
        return True
    return referral.receiver_office_id == office_id and referral.stage != Stage.draft


def visible(session: Session, *, who: Caller, referral_id: Any, lock: bool = False) -> Referral:
    """The referral if the caller's office may see it, else ReferralNotFound (never 403)."""
    rid = parse_id(referral_id, field="referral_id")
    referral = session.get(Referral, rid, with_for_update=lock)
    if referral is None or not may_see(referral, who.office_id):
        raise ReferralNotFound()
    return referral


def require_sender(referral: Referral, who: Caller) -> None:
    """PermissionDenied unless the caller's office sent the referral."""
    if referral.sender_office_id != who.office_id:
        raise PermissionDenied("Only the office that sent the referral can do this.")
