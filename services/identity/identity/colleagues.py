"""Colleagues (offices that invited each other or work together) and the directory."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from identity.access import Actor
from identity.models import ColleagueLink, Office, Provider
from identity.offices import active_providers, profile
from shared.contracts.identity import Colleague, DirectoryEntry, OfficeKind

MAX_RESULTS = 100

log = logging.getLogger(__name__)


def link_colleagues(
    session: Session,
    *,
    office_id: UUID,
    colleague_office_id: UUID,
    relation: str,
    reverse_relation: str,
    now: datetime,
) -> None:
    """Make two offices colleagues both ways, or bring an existing link to the top."""
    for mine, theirs, how in (
        (office_id, colleague_office_id, relation),
        (colleague_office_id, office_id, reverse_relation),
    ):
        statement = insert(ColleagueLink).values(
            office_id=mine,
            colleague_office_id=theirs,
            relation=how,
            created_at=now,
            last_interaction_at=now,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[ColleagueLink.office_id, ColleagueLink.colleague_office_id],
                set_={"relation": how, "last_interaction_at": now},
            )
        )


def list_colleagues(session: Session, *, actor: Actor) -> list[Colleague]:
    """The caller's colleagues, most recent interaction first."""
    rows = session.execute(
        select(ColleagueLink, Office)
        .join(Office, Office.id == ColleagueLink.colleague_office_id)
        .where(ColleagueLink.office_id == actor.office_id)
        .order_by(ColleagueLink.last_interaction_at.desc())
    ).all()
    providers = active_providers(session, [office.id for _, office in rows])
    return [
        Colleague(
            office=profile(office, providers[office.id]),
            relation=link.relation,
            last_interaction_at=link.last_interaction_at,
        )
        for link, office in rows
    ]


def search_directory(
    session: Session, *, actor: Actor, q: str, kind: OfficeKind | None, limit: int
) -> list[DirectoryEntry]:
    """Offices that accept referrals, matched on name, specialty, city or a provider's name.

    Case-insensitive and partial; the caller's colleagues come first, then by name.
    """
    colleague = ColleagueLink.office_id.is_not(None)
    query = (
        select(Office, colleague)
        .outerjoin(
            ColleagueLink,
            (ColleagueLink.office_id == actor.office_id)
            & (ColleagueLink.colleague_office_id == Office.id),
        )
        .where(
            Office.accepts_referrals.is_(True),
            Office.name.is_not(None),
            Office.id != actor.office_id,
        )
    )
    if kind is not None:
        query = query.where(Office.kind == kind.value)
    if q:
        query = query.where(_matches(q))
    rows = session.execute(
        query.order_by(colleague.desc(), func.lower(Office.name), Office.id).limit(
            max(1, min(limit, MAX_RESULTS))
        )
    ).all()
    providers = active_providers(session, [office.id for office, _ in rows])
    return [
        DirectoryEntry(office=profile(office, providers[office.id]), colleague=bool(is_colleague))
        for office, is_colleague in rows
    ]


def _matches(q: str) -> ColumnElement[bool]:
    # autoescape: a % or _ typed by the person is a character, not a wildcard.
    provider_named = exists().where(
        Provider.office_id == Office.id,
        Provider.deleted_at.is_(None),
        or_(
            Provider.display_name.icontains(q, autoescape=True),
            Provider.specialty.icontains(q, autoescape=True),
        ),
    )
    return or_(
        Office.name.icontains(q, autoescape=True),
        Office.specialty.icontains(q, autoescape=True),
        Office.address["city"].astext.icontains(q, autoescape=True),
        provider_named,
    )


def record_referral(
    session: Session, *, sender_office_id: UUID, receiver_office_id: UUID, at: datetime
) -> None:
    """Offices that sent each other a referral become colleagues (``sent_work`` for the sender).

    An office this service does not know (none is ever deleted, so only a stray event) links
    nothing: retrying could never succeed, and it must not hold up the events behind it.
    """
    ids = {sender_office_id, receiver_office_id}
    known = session.scalar(select(func.count()).select_from(Office).where(Office.id.in_(ids)))
    if known != len(ids):
        log.warning("referral_sent names an office this service does not know: nothing linked")
        return
    link_colleagues(
        session,
        office_id=sender_office_id,
        colleague_office_id=receiver_office_id,
        relation="sent_work",
        reverse_relation="received_work",
        now=at,
    )
