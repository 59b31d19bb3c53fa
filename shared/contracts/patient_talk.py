"""Patient Talk's contracts: private threads between one office and one patient.

An office writes to a patient of one of its referrals or cases; the patient gets an
e-mail (or a text) with a link, confirms their date of birth on the page the link
opens, and reads and answers the thread. The office side is called with a ``caller``;
the patient side with the link's token or the patient session's token instead.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from shared.contracts.events import DomainEvent


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ThreadOwnerType(StrEnum):
    referral = "referral"
    case = "case"


class Channel(StrEnum):
    email = "email"
    text = "text"


class Author(StrEnum):
    office = "office"
    patient = "patient"


class AccessAction(StrEnum):
    """What a patient (or someone holding the link) did."""

    opened = "opened"
    link_refused = "link_refused"  # an expired or revoked link was used
    verify_ok = "verify_ok"
    verify_failed = "verify_failed"
    verify_refused = "verify_refused"  # too many failed tries: refused without checking
    read = "read"
    replied = "replied"
    signed_out = "signed_out"


# ----------------------------------------------------------------- office side, in


class PatientThreadIn(Strict):
    """Start a thread with a patient of one of the office's referrals or cases."""

    owner_type: ThreadOwnerType
    owner_id: UUID
    patient_name: str = Field(min_length=1, max_length=200, examples=["Maya Chen"])
    email: EmailStr | None = Field(default=None, examples=["maya.chen@example.com"])
    mobile_phone: str | None = Field(
        default=None,
        max_length=30,
        examples=["+1 416 555 0199"],
        description="with its country code; stored as E.164",
    )
    date_of_birth: date = Field(
        examples=["1988-04-12"], description="what the patient confirms to open the thread"
    )
    preferred_channel: Channel = Channel.email

    @field_validator("mobile_phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise ValueError(
                "Write the number with its country code, e.g. +1 416 555 0199."
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise ValueError("Not a valid phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @field_validator("date_of_birth")
    @classmethod
    def _past(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise ValueError("Give the patient's real date of birth.")
        return value


class PatientThreadQuery(Strict):
    """Threads of the caller's office; with an owner (both fields), only that referral's or
    case's."""

    owner_type: ThreadOwnerType | None = None
    owner_id: UUID | None = None


class PatientMessageIn(Strict):
    body: str = Field(min_length=1, max_length=5000, examples=["Your crown is ready."])


# ----------------------------------------------------------------- patient side, in


class PatientVerifyIn(Strict):
    date_of_birth: date = Field(examples=["1988-04-12"])


# ----------------------------------------------------------------- answers


class PatientMessageOut(Out):
    id: UUID
    author: Author
    author_user_id: UUID | None = None
    body: str
    at: datetime


class LinkOut(Out):
    id: UUID
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool = Field(description="neither expired nor revoked")


class PatientThreadOut(Out):
    """A thread as its office sees it in lists."""

    id: UUID
    office_id: UUID
    owner_type: ThreadOwnerType
    owner_id: UUID
    patient_name: str
    email: str | None
    mobile_phone: str | None
    date_of_birth: date
    preferred_channel: Channel
    created_at: datetime
    last_message_at: datetime | None
    unread: int = Field(description="patient replies the office has not opened yet")


class PatientThreadDetail(PatientThreadOut):
    messages: list[PatientMessageOut]
    links: list[LinkOut]


class PatientSent(Out):
    """The office's message, and where the notice went (the link is never shown again)."""

    message: PatientMessageOut
    link: LinkOut
    emailed: bool
    texted: bool


class RevokedLinks(Out):
    revoked: int = Field(description="links (and the sessions opened with them) ended now")


class PatientAccessEntry(Out):
    id: int
    link_id: UUID | None
    action: AccessAction
    ip: str | None
    at: datetime


class LinkInfo(Out):
    """What the page shows before the date of birth is confirmed: no patient data."""

    office_name: str
    expires_at: datetime


class PatientSession(Out):
    """A patient's short session (the gateway keeps ``session_token`` in an HttpOnly cookie)."""

    session_token: str
    expires_at: datetime
    office_name: str


class PatientSessionStarted(Out):
    """The gateway's answer to a confirmed date of birth (the token stays in the cookie)."""

    office_name: str
    expires_at: datetime


class PatientThreadView(Out):
    """The thread as the patient sees it."""

    office_name: str
    patient_name: str
    messages: list[PatientMessageOut]
    session_expires_at: datetime


# ----------------------------------------------------------------- events


class PatientMessageReceived(DomainEvent):
    """A patient answered: a signal for the office (ids only, never the text)."""

    event_type = "patient_message_received"

    thread_id: UUID
    message_id: UUID
    office_id: UUID
    owner_type: ThreadOwnerType
    owner_id: UUID
