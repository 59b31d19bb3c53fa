"""Writing a referral: create (as a draft or sent at once), edit a draft, send it, delete it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from referrals import content, idempotency, views
from referrals.access import require_sender, visible
from referrals.content import Context
from referrals.exceptions import StageConflict
from referrals.models import Referral, now
from referrals.references import new_reference
from referrals.stages import mark_sent
from shared.contracts import Caller
from shared.contracts.referrals import ReferralDetail, ReferralIn, Stage


def create_referral(
    session: Session,
    *,
    who: Caller,
    cmd: ReferralIn,
    draft: bool,
    ctx: Context,
    idempotency_key: str | None,
) -> ReferralDetail:
    """A new referral from the caller's office: a draft, or sent (everything checked) at once."""

    def make() -> ReferralDetail:
        at = now()
        referral = Referral(
            id=uuid.uuid4(),
            reference=new_reference(session),
            stage=Stage.draft.value,
            sender_office_id=who.office_id,
            created_by_user_id=who.user_id,
            created_by_client_id=who.client_id,
            created_at=at,
            updated_at=at,
        )
        content.apply(session, referral=referral, who=who, cmd=cmd, ctx=ctx, complete=not draft)
        session.add(referral)
        session.flush()
        if not draft:
            mark_sent(session, referral=referral, who=who, at=at)
            session.flush()
        return views.detail(session, referral=referral, who=who, directory=ctx.directory)

    return idempotency.once(
        session,
        office_id=who.office_id,
        operation="create_referral",
        key=idempotency_key,
        model=ReferralDetail,
        make=make,
    )


def _draft(session: Session, *, who: Caller, referral_id: Any, wanted: str) -> Referral:
    referral = visible(session, who=who, referral_id=referral_id, lock=True)
    require_sender(referral, who)
    if referral.stage != Stage.draft:
        raise StageConflict(referral.stage, wanted)
    return referral


def update_draft(
    session: Session, *, who: Caller, referral_id: Any, cmd: ReferralIn, ctx: Context
) -> Referral:
    """Replace what a draft says."""
    referral = _draft(session, who=who, referral_id=referral_id, wanted="edited as a draft")
    content.apply(session, referral=referral, who=who, cmd=cmd, ctx=ctx, complete=False)
    referral.updated_at = now()
    return referral


def send_draft(session: Session, *, who: Caller, referral_id: Any, ctx: Context) -> Referral:
    """Send a draft: everything is checked again, and the letterheads taken as they are now."""
    referral = _draft(session, who=who, referral_id=referral_id, wanted="sent")
    cmd = content.stored_input(referral)
    content.apply(session, referral=referral, who=who, cmd=cmd, ctx=ctx, complete=True)
    mark_sent(session, referral=referral, who=who, at=now())
    session.flush()
    return referral


def delete_draft(session: Session, *, who: Caller, referral_id: Any) -> None:
    """Throw a draft away (a sent referral is cancelled instead)."""
    referral = _draft(session, who=who, referral_id=referral_id, wanted="deleted")
    session.delete(referral)
    session.flush()
