"""The ids of a case's files: the files service owns the files, and says when one arrives."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cases import stages
from cases.models import Case, CaseFile
from shared.contracts import Caller
from shared.contracts.cases import CaseStage
from shared.contracts.files import FileUploaded


def attach(session: Session, *, event: FileUploaded, at: datetime) -> None:
    """List the file on its case (once; an unknown case is skipped); the first file of a case
    in Missing CBCT/Models moves it to Processing, by the uploader."""
    case = session.get(Case, event.owner_id, with_for_update=True)
    if case is None:
        return
    session.execute(
        insert(CaseFile)
        .values(case_id=case.id, file_id=event.file_id, attached_at=at)
        .on_conflict_do_nothing()
    )
    if case.stage == CaseStage.missing_files:
        uploader = Caller(office_id=event.uploaded_by_office_id, user_id=event.uploaded_by_user_id)
        stages.enter(session, case, CaseStage.processing, who=uploader)


def file_ids(session: Session, *, case_id: uuid.UUID) -> list[uuid.UUID]:
    """The case's files, oldest first."""
    return list(
        session.scalars(
            select(CaseFile.file_id)
            .where(CaseFile.case_id == case_id)
            .order_by(CaseFile.attached_at, CaseFile.file_id)
        )
    )
