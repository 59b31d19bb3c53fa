"""The cases service's contracts: RPC payloads and answers, and its events.

A lab case is work a client office (a dentist) sends to a dental lab: a
prescription (the description), teeth, files (CBCT, model scans) and, for
guided surgery, a virtual planning session booked with the lab. Teeth are
stored as ISO 3950 (FDI) codes and shown to each reader in their own office's
notation. The case moves through the lab's stages; each stage has an urgency
colour that says who must act.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import DomainEvent
from shared.contracts.identity import OfficeProfile
from shared.teeth import Notation

ARCHIVE_NOTE = (
    "Archiving only hides the case from your own list; it does not cancel the case or put it "
    "on hold, and the lab keeps working on it."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseStage(StrEnum):
    missing_files = "missing_files"  # Missing CBCT/Models: on hold until the files arrive
    processing = "processing"  # new or edited, not yet looked at by the lab
    received = "received"  # the lab has checked the case and its files
    ready_to_plan = "ready_to_plan"  # the client books a planning session
    planning_scheduled = "planning_scheduled"
    planning_no_show = "planning_no_show"  # the client missed the session: book again
    manufacturing = "manufacturing"
    finished = "finished"
    shipped = "shipped"
    cancelled = "cancelled"  # by the lab
    on_hold = "on_hold"  # by the lab


STAGE_LABELS: dict[CaseStage, str] = {
    CaseStage.missing_files: "Missing CBCT/Models",
    CaseStage.processing: "Processing",
    CaseStage.received: "Received",
    CaseStage.ready_to_plan: "Ready to Plan",
    CaseStage.planning_scheduled: "Planning Scheduled",
    CaseStage.planning_no_show: "Planning No Show",
    CaseStage.manufacturing: "Manufacturing",
    CaseStage.finished: "Finished",
    CaseStage.shipped: "Shipped",
    CaseStage.cancelled: "Cancelled",
    CaseStage.on_hold: "On Hold",
}


class Colour(StrEnum):
    """How urgent a case is, derived from its stage (see the cases README)."""

    red = "red"  # the client must act
    yellow = "yellow"  # may need attention, or not yet evaluated
    green = "green"  # progressing
    white = "white"  # manufacturing, finished, shipped, cancelled or on hold


class Side(StrEnum):
    client = "client"  # the office that sent the case
    lab = "lab"


class ArchivedFilter(StrEnum):
    exclude = "exclude"  # the main list (default)
    only = "only"
    include = "include"


# ----------------------------------------------------------------- writing a case


class CaseIn(Strict):
    """A new case from the caller's office (the client) to a lab. ``teeth`` are written in
    ``notation`` (default: the client office's preferred notation)."""

    lab_office_id: UUID
    patient_name: str = Field(min_length=1, max_length=200, examples=["Maya Chen"])
    description: str = Field(
        min_length=1,
        max_length=10000,
        examples=["Surgical guide for implants at 36 and 46, 4.1 x 10 mm"],
        description="the prescription text, printed on the RX script",
    )
    teeth: list[str] = Field(default=[], max_length=52, examples=[["19", "30"]])
    notation: Notation | None = None
    due_date: date | None = Field(default=None, description="requested due date (optional)")


class CaseEdit(Strict):
    """What the client may change. Submitting returns the case to Processing and estimates its
    ship date again as if it were new; omitted fields keep their value."""

    description: str | None = Field(default=None, min_length=1, max_length=10000)
    teeth: list[str] | None = Field(default=None, max_length=52)
    notation: Notation | None = None
    due_date: date | None = None


class StageChangeIn(Strict):
    """The lab moves a case on. ``reason`` is required for cancelled and on_hold; ``carrier``
    and ``tracking_number`` (``tracking_url`` optional, http(s)) for shipped."""

    stage: CaseStage
    reason: str | None = Field(default=None, max_length=2000)
    carrier: str | None = Field(default=None, max_length=100, examples=["UPS"])
    tracking_number: str | None = Field(default=None, max_length=100, examples=["1Z999AA1"])
    tracking_url: str | None = Field(default=None, max_length=2000)


class TurnaroundIn(Strict):
    """Business days from entering ``stage`` until the case ships (``min_days``-``max_days``)."""

    stage: CaseStage
    min_days: int = Field(ge=0, le=365)
    max_days: int = Field(ge=0, le=365)


class TurnaroundRules(Strict):
    rules: list[TurnaroundIn] = Field(max_length=20)


class CaseListQuery(Strict):
    side: Side | None = Field(default=None, description="both sides when absent")
    archived: ArchivedFilter = ArchivedFilter.exclude
    stage: list[CaseStage] = []
    colour: list[Colour] = []
    q: str | None = Field(default=None, max_length=100, description="patient name or case ID")
    sort: str = Field(
        default="attention",
        examples=["attention", "-last_modified", "ship_date", "reference", "patient", "stage"],
        description="attention (default: red, yellow, green, white; oldest first within a "
        "colour) or a column: reference, patient, stage, last_modified, ship_date, "
        "other_office, created_at, due_date; '-' for descending",
    )
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=100)


# ----------------------------------------------------------------- planning


class SessionMode(StrEnum):
    video = "video"  # a video-call link
    remote_control = "remote_control"  # a remote-desktop session (e.g. an ID and password)
    phone = "phone"


class SlotIn(Strict):
    """One planning slot, or a weekly pattern when ``repeat_weeks`` > 0 (the same weekday and
    local time for that many more weeks). Times are local to ``time_zone`` (IANA)."""

    start: datetime = Field(description="local wall time in time_zone (no offset), or aware")
    end: datetime
    time_zone: str = Field(examples=["America/Toronto"])
    mode: SessionMode = SessionMode.video
    join_url: str | None = Field(default=None, max_length=2000, description="http(s)")
    join_details: str | None = Field(
        default=None, max_length=2000, description="e.g. remote-control session ID and password"
    )
    repeat_weeks: int = Field(default=0, ge=0, le=52)


class SlotQuery(Strict):
    lab_office_id: UUID
    start: datetime = Field(description="from (inclusive)")
    end: datetime = Field(description="to (exclusive); at most 92 days after start")
    time_zone: str | None = Field(
        default=None, description="the viewer's zone (default: their office's)"
    )


class BookingIn(Strict):
    slot_id: UUID


class RescheduleIn(Strict):
    """The lab moves a booking to another free slot of its own."""

    slot_id: UUID


class BookingCancelIn(Strict):
    reason: str | None = Field(default=None, max_length=2000)


# ----------------------------------------------------------------- reading


class ToothOut(Out):
    iso: str = Field(examples=["36"])
    label: str = Field(description="in the reader's notation", examples=["19"])


class ShipEstimate(Out):
    earliest: date | None
    latest: date | None = Field(description="the ship date shown on the case")


class Shipment(Out):
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shipped_at: datetime


class HistoryEntry(Out):
    stage: CaseStage
    previous_stage: CaseStage | None
    at: datetime
    by_office_id: UUID
    by_user_id: UUID | None
    reason: str | None = None


class SlotOut(Out):
    id: UUID
    lab_office_id: UUID
    start: datetime = Field(description="with the viewer's UTC offset")
    end: datetime
    time_zone: str = Field(description="the zone start/end are shown in (the viewer's)")
    lab_time_zone: str
    mode: SessionMode
    booked: bool = False


class BookingOut(Out):
    id: UUID
    case_id: UUID
    slot_id: UUID
    start: datetime
    end: datetime
    time_zone: str = Field(description="the lab's zone, as in the calendar file")
    mode: SessionMode
    join_url: str | None
    join_details: str | None
    booked_at: datetime
    booked_by_user_id: UUID | None
    google_calendar_url: str
    ics_path: str = Field(examples=["/api/v1/cases/3f1c.../booking.ics"])


class CaseSummary(Out):
    """A row of the case list."""

    id: UUID
    reference: str = Field(examples=["C-2026-00042"])
    patient_name: str
    stage: CaseStage
    stage_label: str
    colour: Colour
    client_office_id: UUID
    client_office_name: str | None
    lab_office_id: UUID
    lab_office_name: str | None
    side: Side = Field(description="the caller's side of this case")
    last_modified_at: datetime = Field(description="changes only when the client creates or edits")
    ship_date: date | None
    due_date: date | None
    created_at: datetime
    archived: bool
    new_notes: int = Field(0, description="notes the other office wrote since this office read")


class CaseDetail(Out):
    id: UUID
    reference: str
    patient_name: str
    description: str
    teeth: list[ToothOut]
    notation: Notation = Field(description="the reader's notation, used for teeth labels")
    stage: CaseStage
    stage_label: str
    colour: Colour
    side: Side
    client: OfficeProfile
    lab: OfficeProfile
    created_by_user_id: UUID | None
    created_at: datetime
    last_modified_at: datetime
    due_date: date | None
    ship: ShipEstimate
    shipment: Shipment | None
    booking: BookingOut | None
    archived: bool = Field(description=ARCHIVE_NOTE)
    history: list[HistoryEntry]
    file_ids: list[UUID] = []
    allowed_stages: list[CaseStage] = Field(description="what the caller may move it to now")
    editable: bool = Field(description="the client may edit it now")
    url: str = Field(description="the case in the web app")


class CaseCreated(Out):
    """The confirmation the web app prints."""

    case: CaseDetail
    confirmation: str = Field(examples=["Case C-2026-00042 was sent to Acme Dental Lab."])
    rx_pdf_path: str = Field(examples=["/api/v1/cases/3f1c.../rx.pdf"])


class CasePage(Out):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class CaseNoteIn(Strict):
    """A note to the other office of the case (the client or the lab)."""

    body: str = Field(
        min_length=1, max_length=10000, examples=["Please send the upper scan again."]
    )


class CaseNoteOut(Out):
    id: UUID
    body: str
    author_user_id: UUID | None
    author_name: str | None
    office_id: UUID = Field(description="the office that wrote it")
    at: datetime
    new: bool = Field(description="written by the other office since you last read")


class CalendarFeedOut(Out):
    """The office's private calendar subscription (all its booked sessions)."""

    url: str | None = Field(description="shown once, when created; null afterwards")
    created_at: datetime
    active: bool


# ----------------------------------------------------------------- events
# No patient data in events: ids, the case reference, offices and stages only.


class CaseCreatedEvent(DomainEvent):
    event_type = "case_created"

    case_id: UUID
    reference: str
    client_office_id: UUID
    lab_office_id: UUID
    created_by_user_id: UUID | None


class CaseUpdated(DomainEvent):
    event_type = "case_updated"

    case_id: UUID
    reference: str
    client_office_id: UUID
    lab_office_id: UUID
    by_user_id: UUID | None


class CaseStageChanged(DomainEvent):
    event_type = "case_stage_changed"

    case_id: UUID
    reference: str
    client_office_id: UUID
    lab_office_id: UUID
    stage: CaseStage
    previous_stage: CaseStage | None
    colour: Colour
    client_must_act: bool = Field(description="the new colour is red")
    by_office_id: UUID
    by_user_id: UUID | None
    at: datetime


class PlanningBooked(DomainEvent):
    event_type = "planning_booked"

    case_id: UUID
    reference: str
    booking_id: UUID
    client_office_id: UUID
    lab_office_id: UUID
    start: datetime
    end: datetime
    time_zone: str
    rescheduled: bool = False


class PlanningCancelled(DomainEvent):
    event_type = "planning_cancelled"

    case_id: UUID
    reference: str
    booking_id: UUID
    client_office_id: UUID
    lab_office_id: UUID
    no_show: bool = False


class CaseShipped(DomainEvent):
    event_type = "case_shipped"

    case_id: UUID
    reference: str
    client_office_id: UUID
    lab_office_id: UUID
    carrier: str
    tracking_number: str
    tracking_url: str | None


class CaseNoteAdded(DomainEvent):
    """A note was written on a case (no note text: the recipient reads it in the app)."""

    event_type = "case_note_added"

    case_id: UUID
    reference: str
    note_id: UUID
    author_office_id: UUID
    recipient_office_id: UUID
