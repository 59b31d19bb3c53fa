"""A failed commit leaves no object in the store (the row and the object go together)."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from files.dependencies import Settings
from files.models import TransferTicket
from files.storage import LocalStorage
from files.uploads import Spooled, store
from shared.contracts import Caller
from shared.db import make_engine
from shared.outbox import PRODUCER_KEY
from tests.support.infra import sql_rows


class CommitFailed(Exception):
    pass


def test_a_failed_commit_deletes_the_stored_object(migrated_database, tmp_path: Path) -> None:
    url = migrated_database("files")
    engine = make_engine(url)
    storage = LocalStorage(tmp_path / "store")
    source = tmp_path / "upload.part"
    source.write_bytes(b"%PDF-1.4 whatever")
    who = Caller(office_id=uuid.uuid4(), user_id=uuid.uuid4())
    ticket = TransferTicket(owner_type="referral", owner_id=uuid.uuid4())
    inspection = SimpleNamespace(kind="pdf", media_type="application/pdf", metadata={"pages": 1})

    def failing_commit() -> None:
        raise CommitFailed()

    with Session(bind=engine, info={PRODUCER_KEY: "files"}) as session:
        with pytest.raises(CommitFailed):
            store(
                session,
                storage,
                Settings(),
                ticket=ticket,
                who=who,
                spooled=Spooled(source, source.stat().st_size, "0" * 64),
                inspection=inspection,
                name="a.pdf",
                commit=failing_commit,
            )
        session.rollback()
    engine.dispose()
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
    assert sql_rows(url, "SELECT count(*) FROM files") == [(0,)]
    assert sql_rows(url, "SELECT count(*) FROM outbox_messages") == [(0,)]
