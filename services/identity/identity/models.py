"""The identity service's tables (its own database; no other service reads them).

Secrets are never stored: link tokens, refresh tokens, CSRF tokens and client
secrets are kept as SHA-256 digests, passwords as argon2id hashes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)
Digest = String(64)  # SHA-256, hex


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""


def _now() -> datetime:
    return datetime.now(UTC)


def _created() -> Mapped[datetime]:
    # Set in Python so the value is known without reading the row back.
    return mapped_column(Timestamp, default=_now, server_default=func.now())


class Office(Base):
    """A practice: a referring office, a specialist or a lab."""

    __tablename__ = "offices"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    specialty: Mapped[str | None] = mapped_column(String(100))
    # Unique: one office per e-mail and per main phone number (sign-up finds duplicates).
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    time_zone: Mapped[str] = mapped_column(String(64))
    notation: Mapped[str] = mapped_column(String(20))
    accepts_referrals: Mapped[bool]
    # Referrals to this office must say how the patient prefers to be contacted.
    requires_contact_method: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Provider(Base):
    """A doctor of an office; soft-deleted, since referrals name them."""

    __tablename__ = "providers"
    __table_args__ = (Index("ix_providers_office_id", "office_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"))
    display_name: Mapped[str] = mapped_column(String(120))
    specialty: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class User(Base):
    """A person of one office, with a role; soft-removed so their past actions keep a name."""

    __tablename__ = "users"
    __table_args__ = (
        # An address belongs to one active user; a removed user's address may sign up again.
        Index(
            "uq_users_email_active",
            "email",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("ix_users_office_id", "office_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = _created()
    removed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Link(Base):
    """An e-mailed single-use link; events carry its id, ``issue_link`` makes its token."""

    __tablename__ = "links"
    __table_args__ = (
        Index("ix_links_user_id", "user_id"),
        Index("ix_links_invitation_id", "invitation_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    purpose: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invitations.id"))
    token_hash: Mapped[str | None] = mapped_column(Digest, unique=True)
    created_at: Mapped[datetime] = _created()
    issued_at: Mapped[datetime | None] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    superseded_at: Mapped[datetime | None] = mapped_column(Timestamp)


class UserSession(Base):
    """A signed-in session: a rotating refresh token, ended by log-out, age or idleness."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    refresh_token_hash: Mapped[str] = mapped_column(Digest, unique=True)
    # The token it replaced: seen again, it was stolen (or copied) and the session ends.
    previous_refresh_token_hash: Mapped[str | None] = mapped_column(Digest, unique=True)
    csrf_hash: Mapped[str] = mapped_column(Digest)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class Revocation(Base):
    """Access tokens of a session, user or API client issued before a moment are void."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_before: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class TermsAcceptance(Base):
    """Who accepted which version of the Terms of Use for an office, when and from where."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (Index("ix_terms_acceptances_office_id", "office_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    version: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(Timestamp)
    ip: Mapped[str | None] = mapped_column(String(64))


class Invitation(Base):
    """An office inviting another office (colleague) or a person to join it (staff)."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_office_id", "office_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"))
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    accepted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    accepted_office_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offices.id"))
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ColleagueLink(Base):
    """One direction of two offices being colleagues; each office sees its own row."""

    __tablename__ = "colleagues"
    __table_args__ = (Index("ix_colleagues_recent", "office_id", "last_interaction_at"),)

    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    colleague_office_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offices.id"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _created()
    last_interaction_at: Mapped[datetime] = mapped_column(Timestamp)


class ApiClient(Base):
    """Another clinic's system acting for an office (OAuth2 client credentials)."""

    __tablename__ = "api_clients"
    __table_args__ = (Index("ix_api_clients_office_id", "office_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offices.id"))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(Digest)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class IdempotencyKey(Base):
    """The first answer of a create call, replayed to a retry with the same key."""

    __tablename__ = "idempotency_keys"

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    operation: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    answer: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()


class AuditEntry(Base):
    """A security event: who, which office, what, when (UTC), from where, with what outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_ip_at", "ip", "at"),
        Index("ix_audit_log_office_id", "office_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    office_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
