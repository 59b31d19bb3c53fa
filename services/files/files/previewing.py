"""Previews, made right after an upload in separate processes (never on the service's hub).

Each preview runs in a ``files.preview_worker --serve`` child process,
talked to over its pipes through eventlet's green subprocess, at most
``PREVIEW_WORKERS`` at a time: a 50 MB CBCT or a million-triangle mesh
costs CPU in its own process while the service keeps answering and
heartbeating. Workers live on from job to job (PreviewPool): starting one
costs about a second (the decoders' imports, the mesh kernels), which a
preview should not wait for each time. A worker that crashes or hangs
costs that preview only: it is killed, and the next job gets a new one.

The stored object is first copied to the spool folder (the store may be
S3), the PNG stored under a new key, and ``file_preview_ready`` recorded
with the row's new state.
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
#: Jobs a worker takes before it is replaced (whatever a decoder keeps is given back).
JOBS_PER_WORKER = 200


class PreviewStopped(Exception):
    """The preview's process was stopped (the service is stopping): the file stays pending."""


class PreviewWorker:
    """One long-lived ``files.preview_worker --serve`` process: a job at a time, as JSON
    lines over its pipes. Its stderr (JSON log lines) is the service's."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "files.preview_worker", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.jobs = 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, job: dict[str, str], *, timeout: float) -> dict[str, Any] | None:
        """The worker's answer to ``job``; None when it died on it. Raises eventlet.Timeout
        when it takes longer than ``timeout`` seconds."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.jobs += 1
        with eventlet.Timeout(timeout):
            try:
                self.process.stdin.write(json.dumps(job).encode() + b"\n")
                self.process.stdin.flush()
            except OSError:  # it had died: a broken pipe
                return None
            line = self.process.stdout.readline()
        if not line:
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """Let it finish: the end of its input stops it."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(OSError):
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


class PreviewPool:
    """Warm preview workers, reused from job to job (each starts in about a second: the
    decoders' imports and the mesh kernels); at most as many as jobs run at once."""

    def __init__(self, *, jobs_per_worker: int = JOBS_PER_WORKER) -> None:
        self.jobs_per_worker = jobs_per_worker
        self.idle: list[PreviewWorker] = []
        self.busy: set[PreviewWorker] = set()
        self.stopping = False

    def run(self, source: Path, kind: str, png: Path) -> dict[str, Any]:
        """One preview in a worker; its answer, or ``unavailable`` with why not."""
        worker = self._take()
        self.busy.add(worker)
        try:
            answer = worker.ask(
                {"source": str(source), "kind": kind, "png": str(png)},
                timeout=PREVIEW_TIMEOUT_SECONDS,
            )
        except eventlet.Timeout:
            worker.kill()
            return {"state": "unavailable", "reason": "the preview took too long", "metadata": {}}
        finally:
            self.busy.discard(worker)
        if answer is None:
            worker.kill()
            if self.stopping:
                raise PreviewStopped()
            log.warning(
                "preview worker stopped during a preview",
                extra={"returncode": worker.process.returncode},
            )
            return {"state": "unavailable", "reason": "no preview could be drawn", "metadata": {}}
        if self.stopping or worker.jobs >= self.jobs_per_worker:
            worker.close()
        else:
            self.idle.append(worker)
        return answer

    def _take(self) -> PreviewWorker:
        if self.stopping:
            raise PreviewStopped()
        while self.idle:
            worker = self.idle.pop()
            if worker.alive:
                return worker
            worker.kill()  # died while idle: reaped
        return PreviewWorker()

    def stop(self) -> None:
        """Stops every worker; a preview being drawn is lost (its file stays pending)."""
        self.stopping = True
        for worker in [*self.idle, *self.busy]:
            worker.kill()
        self.idle.clear()


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
    pool: PreviewPool,
) -> None:
    """Draw the file's preview, store it, and record the new state with its event."""
    found = session.get(File, file_id)
    if found is None:
        return
    source = _copy_out(storage, found.storage_key, settings.spool_dir)
    png = source.with_name(source.name + ".png")
    try:
        answer = pool.run(source, found.kind, png)
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
        self.pool = PreviewPool()

    def stop(self) -> None:
        # A preview still drawing when the service stops is lost with its process; the
        # file stays "pending" (a later version may retry pending previews at start).
        self.pool.stop()

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
                make_and_store(session, storage, self.settings, file_id=file_id, pool=self.pool)
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
