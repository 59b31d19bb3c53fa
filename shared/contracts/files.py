"""The files service's contracts: file metadata, upload/download tickets, and its events.

File bytes never travel over RabbitMQ. The gateway asks the files service by
RPC for a short-lived, single-use ticket (authorisation happens there), then
streams the bytes over HTTP to or from the files service's own port with that
ticket. Inspection (is it really a PDF, an image, a DICOM, an STL?) and
previews are the files service's.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import DomainEvent


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OwnerType(StrEnum):
    """What a file is attached to; its service answers "may this caller see / add to it?"."""

    referral = "referral"
    case = "case"


class FileKind(StrEnum):
    pdf = "pdf"
    image = "image"  # BMP, GIF, JPEG, PNG
    tiff = "tiff"
    dicom = "dicom"
    stl = "stl"


class PreviewState(StrEnum):
    pending = "pending"
    ready = "ready"
    unavailable = "unavailable"  # accepted, but no preview can be drawn (e.g. a codec we lack)


class Side(StrEnum):
    ours = "ours"  # sent by the caller's office
    theirs = "theirs"


class UploadTicketIn(BaseModel):
    """What the gateway asks before streaming a file."""

    model_config = ConfigDict(extra="forbid")

    owner_type: OwnerType
    owner_id: UUID
    filename: str | None = Field(default=None, max_length=1000)
    declared_size: int | None = Field(default=None, ge=0)


class Ticket(Out):
    """A single-use capability for one HTTP transfer on the files service's port."""

    ticket: str
    upload_url: str | None = None  # http://<files service>/transfers/<ticket> (PUT the bytes)
    download_url: str | None = None  # the files service's URL, or a presigned S3 URL
    expires_at: datetime
    max_bytes: int | None = None


class FileOut(Out):
    id: UUID
    owner_type: OwnerType
    owner_id: UUID
    kind: FileKind
    media_type: str = Field(examples=["application/dicom"])
    original_name: str | None = Field(description="sanitised; the stored name is generated")
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by_office_id: UUID
    uploaded_by_user_id: UUID | None
    side: Side | None = Field(default=None, description="relative to the caller")
    preview_state: PreviewState
    metadata: dict[str, Any] = Field(
        default={}, description="DICOM tags, page count, image size, STL triangles/bounds..."
    )


class FileList(Out):
    ours: list[FileOut]
    theirs: list[FileOut]


class AccessEntry(Out):
    file_id: UUID
    action: str = Field(examples=["download", "preview"])
    office_id: UUID
    user_id: UUID | None
    client_id: UUID | None
    at: datetime


# ----------------------------------------------------------------- events


class FileUploaded(DomainEvent):
    event_type = "file_uploaded"

    file_id: UUID
    owner_type: OwnerType
    owner_id: UUID
    kind: FileKind
    uploaded_by_office_id: UUID
    uploaded_by_user_id: UUID | None


class FilePreviewReady(DomainEvent):
    event_type = "file_preview_ready"

    file_id: UUID
    owner_type: OwnerType
    owner_id: UUID
    state: PreviewState


class FileRejected(DomainEvent):
    event_type = "file_rejected"

    owner_type: OwnerType
    owner_id: UUID
    office_id: UUID
    user_id: UUID | None
    reason: str = Field(description="why, without the file's content or patient data")
    status: int
