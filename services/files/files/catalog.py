"""The RPC side of files: upload and download tickets, lists, one file, and who opened it."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from files import tickets
from files.access import Owners, visible_file
from files.dependencies import Settings
from files.exceptions import FileNotFound, FileTooLarge, OwnerClosed, PreviewPending, TooManyFiles
from files.models import AccessEntry, File
from files.storage import Storage
from shared.contracts import Caller
from shared.contracts.files import (
    AccessEntry as AccessEntryOut,
)
from shared.contracts.files import (
    FileList,
    FileOut,
    OwnerType,
    PreviewState,
    Side,
    Ticket,
    UploadTicketIn,
)


def file_out(found: File, *, who: Caller | None = None) -> FileOut:
    """The contract form of ``found``, its side relative to ``who``."""
    side = None
    if who is not None:
        side = Side.ours if found.uploaded_by_office_id == who.office_id else Side.theirs
    return FileOut(
        id=found.id,
        owner_type=OwnerType(found.owner_type),
        owner_id=found.owner_id,
        kind=found.kind,
        media_type=found.media_type,
        original_name=found.original_name,
        size=found.size,
        sha256=found.sha256,
        uploaded_at=found.uploaded_at,
        uploaded_by_office_id=found.uploaded_by_office_id,
        uploaded_by_user_id=found.uploaded_by_user_id,
        side=side,
        preview_state=PreviewState(found.preview_state),
        metadata={k: v for k, v in (found.metadata_ or {}).items() if not k.startswith("_")},
    )


def count_files(session: Session, *, owner_type: str, owner_id: UUID) -> int:
    """How many files the owner holds."""
    return session.execute(
        select(func.count())
        .select_from(File)
        .where(File.owner_type == owner_type, File.owner_id == owner_id, File.deleted_at.is_(None))
    ).scalar_one()


def begin_upload(
    session: Session, owners: Owners, settings: Settings, *, who: Caller, cmd: UploadTicketIn
) -> Ticket:
    """A ticket to PUT one file to the owner, once the owner's service says the caller may add."""
    access = owners.check(who, owner_type=cmd.owner_type.value, owner_id=cmd.owner_id)
    if not access.may_add:
        raise OwnerClosed(cmd.owner_type.value)
    limit = settings.max_files_per_owner
    if count_files(session, owner_type=cmd.owner_type.value, owner_id=cmd.owner_id) >= limit:
        raise TooManyFiles(cmd.owner_type.value, limit)
    if cmd.declared_size is not None and cmd.declared_size > settings.max_file_bytes:
        raise FileTooLarge(settings.max_file_bytes, cmd.filename)
    token, expires_at = tickets.issue(
        session,
        purpose="upload",
        who=who,
        owner_type=cmd.owner_type.value,
        owner_id=cmd.owner_id,
        ttl=settings.ticket_ttl,
        filename=cmd.filename,
    )
    return Ticket(
        ticket=token,
        upload_url=f"{settings.public_http_url}/transfers/{token}",
        expires_at=expires_at,
        max_bytes=settings.max_file_bytes,
    )


def list_files(
    session: Session, owners: Owners, *, who: Caller, owner_type: str, owner_id: UUID
) -> FileList:
    """The owner's files, newest first, split into the caller's office's and the other side's."""
    owners.check(who, owner_type=owner_type, owner_id=owner_id)
    found = session.scalars(
        select(File)
        .where(File.owner_type == owner_type, File.owner_id == owner_id, File.deleted_at.is_(None))
        .order_by(File.uploaded_at.desc(), File.id)
    ).all()
    listed = [file_out(f, who=who) for f in found]
    return FileList(
        ours=[f for f in listed if f.side == Side.ours],
        theirs=[f for f in listed if f.side == Side.theirs],
    )


def _record(session: Session, *, found: File, who: Caller, action: str) -> None:
    session.add(
        AccessEntry(
            file_id=found.id,
            action=action,
            office_id=who.office_id,
            user_id=who.user_id,
            client_id=who.client_id,
        )
    )


def begin_download(
    session: Session,
    owners: Owners,
    storage: Storage,
    settings: Settings,
    *,
    who: Caller,
    file_id: object,
    disposition: str,
) -> Ticket:
    """A ticket (or a presigned store URL) to GET the file; the access is recorded."""
    found = visible_file(session, owners, who=who, file_id=file_id)
    inline = disposition == "inline"
    _record(session, found=found, who=who, action="download")
    name = found.original_name or f"file-{found.id}"
    token, expires_at = tickets.issue(
        session,
        purpose="download",
        who=who,
        owner_type=found.owner_type,
        owner_id=found.owner_id,
        ttl=settings.ticket_ttl,
        file_id=found.id,
        disposition="inline" if inline else "attachment",
    )
    url = None
    if not inline:
        url = storage.presigned_url(
            found.storage_key,
            filename=name,
            media_type=found.media_type,
            expires=settings.ticket_ttl,
        )
    return Ticket(
        ticket=token,
        download_url=url or f"{settings.public_http_url}/transfers/{token}",
        expires_at=expires_at,
    )


def begin_preview(
    session: Session, owners: Owners, settings: Settings, *, who: Caller, file_id: object
) -> Ticket:
    """A ticket to GET the file's preview image; the access is recorded."""
    found = visible_file(session, owners, who=who, file_id=file_id)
    if found.preview_state == PreviewState.pending:
        raise PreviewPending()
    if found.preview_state != PreviewState.ready or not found.preview_key:
        raise FileNotFound("preview")
    _record(session, found=found, who=who, action="preview")
    token, expires_at = tickets.issue(
        session,
        purpose="preview",
        who=who,
        owner_type=found.owner_type,
        owner_id=found.owner_id,
        ttl=settings.ticket_ttl,
        file_id=found.id,
        disposition="inline",
    )
    return Ticket(
        ticket=token,
        download_url=f"{settings.public_http_url}/transfers/{token}",
        expires_at=expires_at,
    )


def list_access(
    session: Session, owners: Owners, *, who: Caller, file_id: object
) -> list[AccessEntryOut]:
    """Who opened the file, newest first (both offices may see it)."""
    found = visible_file(session, owners, who=who, file_id=file_id)
    entries = session.scalars(
        select(AccessEntry)
        .where(AccessEntry.file_id == found.id)
        .order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
    ).all()
    return [AccessEntryOut.model_validate(e) for e in entries]
