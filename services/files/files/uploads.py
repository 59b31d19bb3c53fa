"""Receiving one upload: spool with a running SHA-256 and a hard size limit, inspect, store.

Nothing of a refused file stays behind: the spooled file is removed, no row
is written and no object is left in the store (a failed commit deletes the
object it had just stored).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect as pyinspect
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from eventlet import tpool
from sqlalchemy import text
from sqlalchemy.orm import Session

from files.catalog import count_files
from files.dependencies import Settings
from files.exceptions import FileTooLarge, TooManyFiles
from files.models import File, TransferTicket
from files.storage import Storage, new_key
from shared.contracts import Caller
from shared.contracts.files import FileKind, FileRejected, FileUploaded, OwnerType
from shared.errors import BridgeworkError
from shared.outbox import record_event

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


@dataclass
class Spooled:
    """The received bytes in a temporary file, with their size and SHA-256."""

    path: Path
    size: int
    sha256: str

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def spool(stream: IO[bytes], *, spool_dir: str, max_bytes: int, name: str | None) -> Spooled:
    """Copy ``stream`` to a temporary file, stopping as soon as it crosses ``max_bytes``."""
    Path(spool_dir).mkdir(parents=True, exist_ok=True)
    handle, raw_path = tempfile.mkstemp(dir=spool_dir, prefix="upload-", suffix=".part")
    path, digest, size = Path(raw_path), hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(max_bytes, name)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
    return Spooled(path, size, digest.hexdigest())


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def inspection_limits(settings: Settings) -> Any:
    """``inspection.Limits`` from the settings (whichever of our limits it takes)."""
    from files.inspection import Limits

    known = {
        "max_bytes": settings.max_file_bytes,
        "max_file_bytes": settings.max_file_bytes,
        "stl_max_triangles": settings.stl_max_triangles,
        "max_stl_triangles": settings.stl_max_triangles,
    }
    accepted = pyinspect.signature(Limits).parameters
    return Limits(**{k: v for k, v in known.items() if k in accepted})


def inspect_spooled(spooled: Spooled, *, name: str | None, settings: Settings) -> Any:
    """The file's Inspection (FileRefused when its content is not acceptable), off the hub."""
    from files.inspection import inspect_file

    limits = inspection_limits(settings)
    return tpool.execute(inspect_file, spooled.path, original_name=name, limits=limits)


def zero_preamble(spooled: Spooled) -> None:
    """Zero a DICOM preamble in place; the recorded SHA-256 is of the stored bytes."""
    from files.inspection import zero_dicom_preamble

    tpool.execute(zero_dicom_preamble, spooled.path)
    spooled.sha256 = tpool.execute(_hash_file, spooled.path)


def reject(
    session: Session,
    *,
    ticket: TransferTicket,
    who: Caller,
    error: BridgeworkError,
    status: int,
    name: str | None,
) -> None:
    """Record why an upload was refused (never the file's name or content)."""
    record_event(
        session,
        FileRejected(
            owner_type=OwnerType(ticket.owner_type),
            owner_id=ticket.owner_id,
            office_id=who.office_id,
            user_id=who.user_id,
            reason=_reason(error, name),
            status=status,
        ),
    )


def _reason(error: BridgeworkError, name: str | None) -> str:
    details = error.details
    reason = str(details["reason"]) if isinstance(details, dict) and details.get("reason") else ""
    reason = reason or error.message
    return reason.replace(name, "the file") if name else reason


def lock_owner(session: Session, *, owner_type: str, owner_id: UUID) -> None:
    """Serialise uploads to one owner until the transaction ends (an advisory lock)."""
    digest = hashlib.sha256(f"files:{owner_type}:{owner_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def store(
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    ticket: TransferTicket,
    who: Caller,
    spooled: Spooled,
    inspection: Any,
    name: str | None,
    commit: Callable[[], None],
) -> File:
    """Check the count under the owner's lock, store the object, write the row and the event."""
    lock_owner(session, owner_type=ticket.owner_type, owner_id=ticket.owner_id)
    limit = settings.max_files_per_owner
    if count_files(session, owner_type=ticket.owner_type, owner_id=ticket.owner_id) >= limit:
        raise TooManyFiles(ticket.owner_type, limit)
    key = new_key()
    storage.put(key, spooled.path)
    try:
        row = File(
            owner_type=ticket.owner_type,
            owner_id=ticket.owner_id,
            kind=FileKind(str(inspection.kind)).value,
            media_type=inspection.media_type,
            original_name=name,
            storage_key=key,
            size=spooled.size,
            sha256=spooled.sha256,
            uploaded_by_office_id=who.office_id,
            uploaded_by_user_id=who.user_id,
            uploaded_by_client_id=who.client_id,
            preview_state="pending",
            metadata_=dict(inspection.metadata or {}),
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            FileUploaded(
                file_id=row.id,
                owner_type=OwnerType(row.owner_type),
                owner_id=row.owner_id,
                kind=FileKind(row.kind),
                uploaded_by_office_id=row.uploaded_by_office_id,
                uploaded_by_user_id=row.uploaded_by_user_id,
            ),
        )
        commit()
    except BaseException:
        storage.delete(key)
        raise
    return row
