"""Offices: their information, setup, Terms of Use, and providers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity import audit, idempotency
from identity.access import Actor, require_admin
from identity.contact import ContactError, check_time_zone, normalise_email, normalise_phone
from identity.models import Office, Provider, TermsAcceptance
from identity.settings import Settings
from identity.tokens import utcnow
from shared.contracts.identity import (
    OfficeKind,
    OfficeOut,
    OfficeProfile,
    OfficeUpdate,
    ProviderIn,
    ProviderOut,
    ProviderUpdate,
    SetupState,
)
from shared.contracts.identity import TermsAcceptance as TermsAcceptanceIn
from shared.errors import Conflict, NotFound
from shared.validation import FieldError, field_error, invalid

# Fields an office always has: they may change but not be emptied.
_REQUIRED = (
    "name",
    "kind",
    "email",
    "phone",
    "time_zone",
    "notation",
    "accepts_referrals",
    "requires_contact_method",
)
TAKEN = "Another office is already registered with this e-mail or phone."


def accepts_referrals_by_default(kind: OfficeKind) -> bool:
    """Specialists and labs receive work; a general practice sends it unless it says otherwise."""
    return kind != OfficeKind.general_practice


def active_providers(session: Session, office_ids: Iterable[UUID]) -> dict[UUID, list[Provider]]:
    """The providers not deleted, per office, by name."""
    ids = list(office_ids)
    found: dict[UUID, list[Provider]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(
        select(Provider)
        .where(Provider.office_id.in_(ids), Provider.deleted_at.is_(None))
        .order_by(Provider.display_name, Provider.created_at)
    )
    for provider in rows:
        found[provider.office_id].append(provider)
    return found


def profile(office: Office, providers: list[Provider]) -> OfficeProfile:
    """What travels with the office's referrals and cases and what the directory shows."""
    return OfficeProfile.model_validate(
        {**_columns(office), "providers": [ProviderOut.model_validate(p) for p in providers]}
    )


def _columns(office: Office) -> dict[str, Any]:
    fields = (name for name in OfficeProfile.model_fields if name != "providers")
    return {name: getattr(office, name) for name in fields}


def profiles(session: Session, *, office_ids: Iterable[UUID]) -> list[OfficeProfile]:
    """The profiles of the offices that exist, in the order asked."""
    ids = list(dict.fromkeys(office_ids))
    offices = {o.id: o for o in session.scalars(select(Office).where(Office.id.in_(ids)))}
    providers = active_providers(session, offices)
    return [profile(offices[i], providers[i]) for i in ids if i in offices]


def office_out(session: Session, *, office: Office, settings: Settings) -> OfficeOut:
    """The office as its own people see it, with the state of its one-time setup."""
    providers = active_providers(session, [office.id])[office.id]
    office_complete = bool(
        office.name
        and office.email
        and office.phone
        and office.address
        and office.time_zone
        and (office.kind != OfficeKind.specialist or office.specialty)
        and providers
    )
    terms_accepted = bool(
        session.scalar(
            select(
                exists().where(
                    TermsAcceptance.office_id == office.id,
                    TermsAcceptance.version == settings.terms_version,
                )
            )
        )
    )
    setup = SetupState(
        office_complete=office_complete,
        terms_accepted=terms_accepted,
        terms_version=settings.terms_version,
        complete=office_complete and terms_accepted,
    )
    return OfficeOut.model_validate(
        {**profile(office, providers).model_dump(), "created_at": office.created_at, "setup": setup}
    )


def get_office(session: Session, *, actor: Actor, settings: Settings) -> OfficeOut:
    """The caller's office."""
    office = session.get(Office, actor.office_id)
    if office is None:
        raise NotFound("No such office.")
    return office_out(session, office=office, settings=settings)


def update_office(
    session: Session, *, actor: Actor, cmd: OfficeUpdate, settings: Settings
) -> OfficeOut:
    """Change the office's information (admin); omitted fields stay as they are."""
    require_admin(actor)
    office = session.get(Office, actor.office_id, with_for_update=True)
    if office is None:
        raise NotFound("No such office.")
    changes = _checked_changes(cmd, settings)
    _refuse_taken(session, office_id=office.id, changes=changes)
    new_kind = changes.get("kind", office.kind) != office.kind
    for name, value in changes.items():
        setattr(office, name, value)
    if new_kind and "accepts_referrals" not in changes:
        office.accepts_referrals = accepts_referrals_by_default(OfficeKind(office.kind))
    office.updated_at = utcnow()
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(TAKEN) from None  # another office took it a moment ago
    audit.record(
        session,
        action="office_updated",
        office_id=office.id,
        user_id=actor.user_id,
        details={"fields": sorted(changes)},
    )
    return office_out(session, office=office, settings=settings)


def _checked_changes(cmd: OfficeUpdate, settings: Settings) -> dict[str, Any]:
    """The fields given, normalised; InvalidInput naming every field that is not acceptable."""
    changes = cmd.model_dump(mode="json", exclude_unset=True)
    errors: list[FieldError] = [
        {"field": name, "message": "This cannot be empty."}
        for name in _REQUIRED
        if name in changes and changes[name] is None
    ]
    checks = {
        "email": normalise_email,
        "phone": lambda value: normalise_phone(value, region=settings.default_phone_region),
        "time_zone": check_time_zone,
    }
    for name, check in checks.items():
        if changes.get(name) is not None:
            try:
                changes[name] = check(changes[name])
            except ContactError as exc:
                errors.append({"field": name, "message": str(exc)})
    if errors:
        raise invalid(errors)
    return changes


def _refuse_taken(session: Session, *, office_id: UUID, changes: dict[str, Any]) -> None:
    clauses = [getattr(Office, f) == changes[f] for f in ("email", "phone") if f in changes]
    if clauses and session.scalar(select(exists().where(Office.id != office_id, or_(*clauses)))):
        raise Conflict(TAKEN)


def accept_terms(
    session: Session,
    *,
    actor: Actor,
    cmd: TermsAcceptanceIn,
    ip: str | None,
    settings: Settings,
) -> OfficeOut:
    """Record that an admin accepted the current Terms of Use for the office."""
    require_admin(actor)
    if actor.user_id is None:
        raise NotFound("No such user.")
    if cmd.version != settings.terms_version:
        raise field_error(
            "version", f"The current Terms of Use are version {settings.terms_version}."
        )
    now = utcnow()
    session.add(
        TermsAcceptance(
            office_id=actor.office_id,
            user_id=actor.user_id,
            version=cmd.version,
            accepted_at=now,
            ip=ip,
        )
    )
    audit.record(
        session,
        action="terms_accepted",
        ip=ip,
        office_id=actor.office_id,
        user_id=actor.user_id,
        details={"version": cmd.version},
        at=now,
    )
    return get_office(session, actor=actor, settings=settings)


# ----------------------------------------------------------------- providers


def list_providers(session: Session, *, actor: Actor) -> list[ProviderOut]:
    """The office's providers, by name."""
    providers = active_providers(session, [actor.office_id])[actor.office_id]
    return [ProviderOut.model_validate(p) for p in providers]


def _own_provider(session: Session, actor: Actor, provider_id: UUID) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None or provider.office_id != actor.office_id or provider.deleted_at:
        raise NotFound("No such provider.")
    return provider


def get_provider(session: Session, *, actor: Actor, provider_id: UUID) -> ProviderOut:
    """One provider of the office."""
    return ProviderOut.model_validate(_own_provider(session, actor, provider_id))


def create_provider(
    session: Session, *, actor: Actor, cmd: ProviderIn, idempotency_key: str | None
) -> ProviderOut:
    """Add a provider to the office (admin)."""
    require_admin(actor)

    def make() -> ProviderOut:
        provider = Provider(
            office_id=actor.office_id, display_name=cmd.display_name, specialty=cmd.specialty
        )
        session.add(provider)
        session.flush()
        return ProviderOut.model_validate(provider)

    return idempotency.once(
        session,
        office_id=actor.office_id,
        operation="create_provider",
        key=idempotency_key,
        model=ProviderOut,
        make=make,
    )


def update_provider(
    session: Session, *, actor: Actor, provider_id: UUID, cmd: ProviderUpdate
) -> ProviderOut:
    """Rename a provider or change their specialty (admin)."""
    provider = _own_provider(session, actor, provider_id)
    require_admin(actor)
    changes = cmd.model_dump(exclude_unset=True)
    if "display_name" in changes and changes["display_name"] is None:
        raise field_error("display_name", "This cannot be empty.")
    for name, value in changes.items():
        setattr(provider, name, value)
    session.flush()
    return ProviderOut.model_validate(provider)


def delete_provider(session: Session, *, actor: Actor, provider_id: UUID) -> None:
    """Remove a provider (admin); kept in the records that name them."""
    provider = _own_provider(session, actor, provider_id)
    require_admin(actor)
    provider.deleted_at = utcnow()
