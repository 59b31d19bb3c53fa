"""Previews, made right after an upload in separate processes (never on the service's hub).

Each preview runs ``files.preview_worker`` as a child process through
eventlet's green subprocess, at most ``PREVIEW_WORKERS`` at a time: a 50 MB
CBCT or a million-triangle mesh costs CPU in its own process while the
service keeps answering and heartbeating. The stored object is first copied
to the spool folder (the store may be S3), the PNG stored under a new key,
and ``file_preview_ready`` recorded with the row's new state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

import eventlet
from eventlet.green import subprocess
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from sqlalchemy.orm import Session

from files.dependencies import BlobStore, Settings
from files.models import File
from files.storage import Storage, new_key
from shared.contracts.files import FilePreviewReady, OwnerType, PreviewState
from shared.db import Database
from shared.outbox import CONTEXT_KEY, PRODUCER_KEY, record_event

log = logging.getLogger(__name__)

PREVIEW_TIMEOUT_SECONDS = 300


class PreviewStopped(Exception):
    """The preview's process was stopped (the service is stopping): the file stays pending."""


def run_worker(
    source: Path, kind: str, png: Path, *, children: set[Any] | None = None
) -> dict[str, Any]:
    """Run one preview in a child process; its answer, or ``unavailable`` with why not."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-m", "files.preview_worker", str(source), kind, str(png)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    if children is not None:
        children.add(child)
    try:
        with eventlet.Timeout(PREVIEW_TIMEOUT_SECONDS):
            out, err = child.communicate()
    except eventlet.Timeout:
        child.kill()
        child.wait()
        return {"state": "unavailable", "reason": "the preview took too long", "metadata": {}}
    finally:
        if children is not None:
            children.discard(child)
    if child.returncode < 0:
        raise PreviewStopped()
    if child.returncode != 0:
        log.warning(
            "preview worker failed", extra={"stderr_tail": err.decode(errors="replace")[-500:]}
        )
        return {"state": "unavailable", "reason": "no preview could be drawn", "metadata": {}}
    answer: dict[str, Any] = json.loads(out or b"{}")
    return answer


def _copy_out(storage: Storage, key: str, spool_dir: str) -> Path:
    Path(spool_dir).mkdir(parents=True, exist_ok=True)
    handle, raw = tempfile.mkstemp(dir=spool_dir, prefix="preview-src-")
    with os.fdopen(handle, "wb") as out:
        for chunk in storage.open_stream(key):
            out.write(chunk)
    return Path(raw)


def make_and_store(
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    file_id: UUID,
    children: set[Any] | None = None,
) -> None:
    """Draw the file's preview, store it, and record the new state with its event."""
    found = session.get(File, file_id)
    if found is None:
        return
    source = _copy_out(storage, found.storage_key, settings.spool_dir)
    png = source.with_name(source.name + ".png")
    try:
        answer = run_worker(source, found.kind, png, children=children)
        state = PreviewState(answer.get("state") or "unavailable")
        metadata = {**(found.metadata_ or {}), **(answer.get("metadata") or {})}
        if state == PreviewState.ready and png.exists():
            metadata["_preview_sha256"] = hashlib.sha256(png.read_bytes()).hexdigest()
            metadata["_preview_size"] = png.stat().st_size
            key = new_key()
            storage.put(key, png)
            found.preview_key = key
        elif state == PreviewState.ready:
            state = PreviewState.unavailable
        if answer.get("reason") and state != PreviewState.ready:
            metadata["preview_unavailable_reason"] = str(answer["reason"])
        found.preview_state = state.value
        found.metadata_ = metadata
        record_event(
            session,
            FilePreviewReady(
                file_id=found.id,
                owner_type=OwnerType(found.owner_type),
                owner_id=found.owner_id,
                state=state,
            ),
        )
        session.commit()
    finally:
        for leftover in (source, png):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def mark_unavailable(session: Session, *, file_id: UUID) -> None:
    """The file gets no preview (the drawing failed); listeners hear it as usual."""
    found = session.get(File, file_id)
    if found is None or found.preview_state != PreviewState.pending:
        return
    found.preview_state = PreviewState.unavailable.value
    record_event(
        session,
        FilePreviewReady(
            file_id=found.id,
            owner_type=OwnerType(found.owner_type),
            owner_id=found.owner_id,
            state=PreviewState.unavailable,
        ),
    )
    session.commit()


class PreviewJobs(DependencyProvider):
    """Runs previews after the upload's worker has answered, a few at a time."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)
        self.slots = Semaphore(self.settings.preview_workers)
        self.children: set[Any] = set()

    def stop(self) -> None:
        # A preview still drawing when the service stops is lost with its process; the
        # file stays "pending" (a later version may retry pending previews at start).
        for child in list(self.children):
            with contextlib.suppress(OSError):
                child.kill()

    def kill(self) -> None:
        self.stop()

    def _provider(self, kind: type) -> Any:
        return next(d for d in self.container.dependencies if isinstance(d, kind))

    def get_dependency(self, worker_ctx: Any) -> PreviewJobs:
        return self

    def schedule(self, file_id: UUID, context: dict[str, Any] | None = None) -> None:
        """Make the file's preview soon (in a managed green thread of the container)."""
        self.container.spawn_managed_thread(lambda: self._run(file_id, dict(context or {})))

    def _run(self, file_id: UUID, context: dict[str, Any]) -> None:
        database: Database = self._provider(Database)
        storage: Storage = self._provider(BlobStore).storage
        with self.slots:
            session = Session(
                bind=database.engine,
                info={PRODUCER_KEY: self.container.service_name, CONTEXT_KEY: context},
                expire_on_commit=False,
            )
            try:
                make_and_store(
                    session, storage, self.settings, file_id=file_id, children=self.children
                )
            except PreviewStopped:
                session.rollback()
            except Exception:
                session.rollback()
                log.exception("could not make a preview")
                # Never "pending" for ever: the file stays, without a preview.
                with contextlib.suppress(Exception):
                    mark_unavailable(session, file_id=file_id)
            finally:
                session.close()
        if database.relay is not None:
            database.relay.wake()
