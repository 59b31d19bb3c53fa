"""The notifications service's contracts: the in-app feed, e-mail preferences, mail status.

The gateway validates HTTP input against these models and the service validates it
again; answers are built from the service's rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Inputs: unknown fields are refused, so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Category(StrEnum):
    """What an e-mail is about; a user may turn off every category but ``security``."""

    security = "security"  # verification, password reset, account locked, invitations
    referrals = "referrals"  # referral received, accepted, declined, booked, completed...
    notes = "notes"  # a new note on a referral
    files = "files"  # a new file shared
    cases = "cases"  # lab cases: needs your action, planning booked, shipped
    patient_messages = "patient_messages"  # a patient answered in Patient Talk


# ----------------------------------------------------------------- the feed


class FeedQuery(Strict):
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=100)
    unread_only: bool = False


class NotificationOut(Out):
    id: UUID
    kind: str = Field(examples=["referral_received", "case_shipped"])
    title: str = Field(examples=["Referral R-7K3F9Q received from Bright Smiles"])
    subject_type: str | None = Field(default=None, examples=["referral", "case"])
    subject_id: UUID | None = None
    reference: str | None = Field(default=None, examples=["R-7K3F9Q"])
    link: str | None = Field(default=None, description="where it is in the web app")
    created_at: datetime
    read: bool
    read_at: datetime | None = None


class NotificationPage(Out):
    items: list[NotificationOut]
    total: int
    page: int
    page_size: int
    unread_count: int


class MarkedRead(Out):
    marked: int = Field(description="how many were unread and are now read")
    unread_count: int


# ----------------------------------------------------------------- preferences


class PreferencesIn(Strict):
    """E-mail on (true) or off (false) per category; omitted ones stay as they are.
    ``security`` e-mails cannot be turned off (false is a 422)."""

    security: bool | None = None
    referrals: bool | None = None
    notes: bool | None = None
    files: bool | None = None
    cases: bool | None = None
    patient_messages: bool | None = None


class Preferences(Out):
    """Which e-mails the user receives (the in-app feed always has everything)."""

    security: bool = True
    referrals: bool = True
    notes: bool = True
    files: bool = True
    cases: bool = True
    patient_messages: bool = True


# ----------------------------------------------------------------- operators


class MailOut(Out):
    """A queued, sent or failed e-mail, without its content (operators)."""

    id: UUID
    dedupe_key: str
    status: str = Field(examples=["queued", "sent", "failed"])
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
