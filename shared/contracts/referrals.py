"""The referrals service's contracts: RPC payloads and answers, and its events.

A referral is a patient sent from one office (the sender) to another (the
receiver). Teeth are stored as ISO 3950 (FDI) codes and shown to each reader
in their own office's notation; tooth numbers typed in free text (case notes,
notes) are never converted.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import DomainEvent
from shared.contracts.identity import Address, OfficeProfile
from shared.teeth import Notation

TEETH_IN_NOTES_WARNING = (
    "Tooth numbers typed in case notes or notes are kept as written and are not converted "
    "to the reader's notation; choose teeth in `teeth` for that."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class ContactMethod(StrEnum):
    phone = "phone"
    text = "text"
    email = "email"


class Urgency(StrEnum):
    routine = "routine"
    soon = "soon"
    urgent = "urgent"


class Stage(StrEnum):
    draft = "draft"
    sent = "sent"
    accepted = "accepted"
    declined = "declined"
    forwarded = "forwarded"
    contacted = "contacted"
    booked = "booked"
    completed = "completed"
    closed = "closed"  # the report was sent back
    cancelled = "cancelled"


class Box(StrEnum):
    sent = "sent"
    received = "received"


# ----------------------------------------------------------------- writing a referral


class PatientIn(Strict):
    """The patient. In a draft every field may be missing; sending needs the required ones."""

    first_name: str | None = Field(default=None, max_length=100, examples=["Maya"])
    last_name: str | None = Field(default=None, max_length=100, examples=["Chen"])
    date_of_birth: date | None = Field(default=None, examples=["1988-04-12"])
    sex: Sex | None = None
    phones: list[str] = Field(default=[], max_length=3, examples=[["+1 416 555 0199"]])
    email: str | None = Field(default=None, max_length=254)
    address: Address | None = None
    preferred_contact: ContactMethod | None = None
    insurance_note: str | None = Field(default=None, max_length=2000)


class ReferralIn(Strict):
    """Create (as a draft or sent at once) or update a draft. ``teeth`` are written in
    ``notation`` (default: the sender office's preferred notation)."""

    receiver_office_id: UUID | None = None
    requested_provider_id: UUID | None = None
    referring_provider_id: UUID | None = None
    patient: PatientIn = PatientIn()
    procedure_ids: list[UUID] = Field(default=[], max_length=30)
    other_procedures: str | None = Field(default=None, max_length=500, examples=["Bone graft"])
    urgency: Urgency = Urgency.routine
    teeth: list[str] = Field(
        default=[],
        max_length=52,
        examples=[["3", "14"]],
        description="tooth labels in `notation`; stored as ISO 3950 codes and shown to each "
        "reader in their own notation. " + TEETH_IN_NOTES_WARNING,
    )
    notation: Notation | None = None
    case_notes: str | None = Field(
        default=None, max_length=10000, description=TEETH_IN_NOTES_WARNING
    )


class StageChange(Strict):
    """Move a referral on. ``reason`` is required to decline or cancel, ``forward_to_office_id``
    to forward, ``appointment_at`` to book."""

    stage: Stage
    reason: str | None = Field(default=None, max_length=2000)
    forward_to_office_id: UUID | None = None
    appointment_at: datetime | None = None


class NoteIn(Strict):
    body: str = Field(min_length=1, max_length=10000, description=TEETH_IN_NOTES_WARNING)


class ProcedureIn(Strict):
    name: str = Field(min_length=1, max_length=120, examples=["Third molar extraction"])


class ListQuery(Strict):
    box: Box
    stage: list[Stage] = []
    other_office_id: UUID | None = None
    procedure_id: UUID | None = None
    sent_from: date | None = None
    sent_to: date | None = None
    q: str | None = Field(default=None, max_length=100, description="patient name or reference")
    sort: str = Field(
        default="-sent_at",
        examples=["-sent_at", "patient_name", "stage", "other_office", "urgency", "updated_at"],
        description="a listed column, '-' for descending",
    )
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=100)


# ----------------------------------------------------------------- reading a referral


class ToothOut(Out):
    iso: str = Field(examples=["16"])
    label: str = Field(description="in the reader's notation", examples=["3"])


class ProcedureOut(Out):
    id: UUID
    name: str


class PatientOut(Out):
    first_name: str | None
    last_name: str | None
    date_of_birth: date | None
    sex: Sex | None
    phones: list[str]
    email: str | None
    address: dict[str, Any] | None
    preferred_contact: ContactMethod | None
    insurance_note: str | None


class Party(Out):
    """An office on the referral as it was when it was sent (its letterhead)."""

    office: OfficeProfile
    provider_id: UUID | None = None
    provider_name: str | None = None


class TimelineEntry(Out):
    stage: Stage
    at: datetime
    by_user_id: UUID | None
    by_office_id: UUID
    reason: str | None = None
    appointment_at: datetime | None = None
    forwarded_to: UUID | None = None


class NoteOut(Out):
    id: UUID
    body: str
    author_user_id: UUID | None
    author_name: str | None
    office_id: UUID
    at: datetime
    new: bool = Field(description="written by the other office since you last read")


class ReferralSummary(Out):
    """A row of a list."""

    id: UUID
    reference: str = Field(examples=["R-7K3F9Q"])
    stage: Stage
    urgency: Urgency
    patient_name: str
    sender_office_id: UUID
    sender_office_name: str | None
    receiver_office_id: UUID | None
    receiver_office_name: str | None
    procedures: list[str]
    sent_at: datetime | None
    updated_at: datetime
    appointment_at: datetime | None
    new_notes: int
    needs_attention: bool


class ReferralDetail(Out):
    id: UUID
    reference: str
    stage: Stage
    urgency: Urgency
    sender: Party
    receiver: Party | None
    patient: PatientOut
    procedures: list[ProcedureOut]
    other_procedures: str | None
    teeth: list[ToothOut]
    notation: Notation = Field(description="the reader's notation, used for teeth labels")
    case_notes: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    appointment_at: datetime | None
    forwarded_from_id: UUID | None = None
    timeline: list[TimelineEntry]
    notes: list[NoteOut]
    file_ids: list[UUID] = []
    allowed_stages: list[Stage] = Field(description="what the caller may move it to now")


class ReferralPage(Out):
    items: list[ReferralSummary]
    total: int
    page: int
    page_size: int


class BoxCounts(Out):
    by_stage: dict[str, int]
    needs_attention: int
    unread_notes: int


class Dashboard(Out):
    sent: BoxCounts
    received: BoxCounts


# ----------------------------------------------------------------- events


class ReferralSent(DomainEvent):
    event_type = "referral_sent"

    referral_id: UUID
    reference: str
    sender_office_id: UUID
    receiver_office_id: UUID
    sent_by: UUID | None
    urgency: Urgency
    forwarded_from_id: UUID | None = None


class ReferralStageChanged(DomainEvent):
    event_type = "referral_stage_changed"

    referral_id: UUID
    reference: str
    sender_office_id: UUID
    receiver_office_id: UUID
    stage: Stage
    previous_stage: Stage
    by_office_id: UUID
    by_user_id: UUID | None
    at: datetime
    appointment_at: datetime | None = None


class ReferralNoteAdded(DomainEvent):
    event_type = "referral_note_added"

    referral_id: UUID
    reference: str
    note_id: UUID
    author_office_id: UUID
    recipient_office_id: UUID


class ReferralCancelled(DomainEvent):
    event_type = "referral_cancelled"

    referral_id: UUID
    reference: str
    sender_office_id: UUID
    receiver_office_id: UUID
    by_user_id: UUID | None
