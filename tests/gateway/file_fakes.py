"""Fakes of the files service for the gateway's file routes: its RPC methods (checked against
services/files/README.md and shared/contracts/files.py) and its HTTP transfer port (a small
Starlette app served by uvicorn in a thread, recording what it receives)."""

from __future__ import annotations

import hashlib
import secrets
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.rpc import wire_kwargs
from shared.contracts import files as contract
from tests.gateway.fakes import Call
from tests.support.readme_rpc import check_call

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
KEPT_BYTES = 1024 * 1024  # a received body is kept whole up to this size, else only hashed


def file_out(owner_id: str, office_id: str, *, size: int = 4, sha256: str = "0" * 64) -> dict:
    return contract.FileOut(
        id=uuid.uuid4(),
        owner_type=contract.OwnerType.referral,
        owner_id=uuid.UUID(owner_id),
        kind=contract.FileKind.image,
        media_type="image/png",
        original_name="scan.png",
        size=size,
        sha256=sha256,
        uploaded_at=NOW,
        uploaded_by_office_id=uuid.UUID(office_id),
        uploaded_by_user_id=None,
        side=contract.Side.ours,
        preview_state=contract.PreviewState.pending,
    ).model_dump(mode="json")


# ----------------------------------------------------------------- the transfer port


@dataclass
class Upload:
    """What one PUT /transfers/<ticket> brought."""

    headers: dict[str, str]
    size: int = 0
    sha256: str = ""
    body: bytes = b""
    complete: bool = False  # the whole body arrived (not cut off by the gateway)


@dataclass
class Download:
    content: bytes
    headers: dict[str, str]
    status: int = 200
    chunk: int = 64 * 1024


@dataclass
class Plan:
    """How the port answers one ticket's upload."""

    status: int = 201  # 201 FileOut; 422 / 409 an error body after reading it all
    stop_after: int | None = None  # answer 413 as soon as this many bytes arrived
    owner_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    office_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class TransferPort:
    """The files service's internal transfer endpoints, recording what they receive."""

    def __init__(self) -> None:
        self.plans: dict[str, Plan] = {}
        self.uploads: dict[str, Upload] = {}
        self.downloads: dict[str, Download] = {}
        self.closed_downloads: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/transfers/{ticket}", self.put, methods=["PUT"]),
                Route("/transfers/{ticket}", self.get, methods=["GET"]),
            ]
        )

    async def put(self, request: Request) -> Response:
        ticket = request.path_params["ticket"]
        plan = self.plans.get(ticket)
        if plan is None:
            return JSONResponse({"detail": "unknown ticket"}, status_code=404)
        upload = self.uploads[ticket] = Upload(headers=dict(request.headers))
        digest = hashlib.sha256()
        kept = bytearray()
        try:
            async for chunk in request.stream():
                upload.size += len(chunk)
                digest.update(chunk)
                if len(kept) + len(chunk) <= KEPT_BYTES:
                    kept += chunk
                if plan.stop_after is not None and upload.size > plan.stop_after:
                    return _refused(413, "the file is larger than the files service's limit")
            upload.complete = True
        except ClientDisconnect:
            return Response(status_code=499)
        finally:
            upload.sha256 = digest.hexdigest()
            upload.body = bytes(kept)
        if plan.status == 201:
            out = file_out(plan.owner_id, plan.office_id, size=upload.size, sha256=upload.sha256)
            return JSONResponse(out, status_code=201)
        return _refused(plan.status, "fake.pdf: not a valid PDF (it is HTML)")

    async def get(self, request: Request) -> Response:
        ticket = request.path_params["ticket"]
        download = self.downloads.get(ticket)
        if download is None:
            return JSONResponse({"detail": "unknown ticket"}, status_code=404)
        if download.status != 200:
            return _refused(download.status, "gone")

        async def chunks() -> AsyncIterator[bytes]:
            try:
                for start in range(0, len(download.content), download.chunk):
                    yield download.content[start : start + download.chunk]
            finally:
                self.closed_downloads.append(ticket)

        return StreamingResponse(chunks(), headers=download.headers)


def _refused(status: int, message: str) -> JSONResponse:
    body = {"detail": message, "errors": [{"field": "file", "message": message}]}
    return JSONResponse(body, status_code=status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, in a thread (no lifespan)."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# ----------------------------------------------------------------- the RPC methods


class FakeFiles:
    """Stands in for gateway.rpc.Services. Every call must use exactly the keyword arguments
    the files README gives the method, with payloads valid against the named contract; the
    tickets it hands out point at ``port``."""

    def __init__(self, port: TransferPort, base_url: str, office_id: uuid.UUID) -> None:
        self.port = port
        self.base_url = base_url
        self.office_id = str(office_id)
        self.calls: list[Call] = []
        self.errors: dict[str, Exception] = {}  # method -> error to raise instead
        self.names = ("files",)
        self.plan = Plan(office_id=self.office_id)  # for the next upload ticket
        self.download: Download | None = None  # for the next download or preview ticket
        self.download_url: str | None = None  # instead of the port's (a presigned URL)
        self.answers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "begin_upload": self._begin_upload,
            "begin_download": self._begin_download,
            "begin_preview": self._begin_download,
            "list_files": lambda kw: {"ours": [], "theirs": []},
            "get_file": lambda kw: file_out(str(uuid.uuid4()), self.office_id),
            "list_access": lambda kw: [
                contract.AccessEntry(
                    file_id=uuid.UUID(kw["file_id"]),
                    action="download",
                    office_id=uuid.UUID(self.office_id),
                    user_id=None,
                    client_id=None,
                    at=NOW,
                ).model_dump(mode="json")
            ],
        }

    def _ticket(self, **urls: str | None) -> dict[str, Any]:
        return contract.Ticket(
            ticket=urls.pop("ticket") or "",
            expires_at=NOW + timedelta(seconds=60),
            **urls,
        ).model_dump(mode="json")

    def _begin_upload(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        ticket = secrets.token_urlsafe(32)
        self.plan.owner_id = kwargs["payload"]["owner_id"]
        self.port.plans[ticket] = self.plan
        return self._ticket(ticket=ticket, upload_url=f"{self.base_url}/transfers/{ticket}")

    def _begin_download(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        ticket = secrets.token_urlsafe(32)
        assert self.download is not None, "set fake.download first"
        self.port.downloads[ticket] = self.download
        url = self.download_url or f"{self.base_url}/transfers/{ticket}"
        return self._ticket(ticket=ticket, download_url=url)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        assert service == "files", service
        check_call(service, method, kwargs, contract)
        self.calls.append(Call(service, method, kwargs))
        if method in self.errors:
            raise self.errors[method]
        return self.answers[method](kwargs)

    def last(self, method: str | None = None) -> Call:
        calls = [c for c in self.calls if method is None or c.method == method]
        assert calls, f"no call to {method}"
        return calls[-1]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]
