"""File bytes between browsers and the files service, with bounded memory.

Uploads: the multipart body is read as it arrives (``request.stream()``), fed to
python-multipart's streaming parser, and the bytes of the part named ``file`` go on
at once to the files service in a streaming PUT to the ticket's ``upload_url``. The
two sides meet in an ``asyncio.Queue`` of a few chunks, so memory holds a few request
chunks whatever the file's size; the count of the file's bytes stops the upload with
413 the moment it crosses the limit, without reading the rest.

Downloads and previews: the ticket's ``download_url`` is streamed back chunk by chunk
(``aiter_raw``) with the files service's headers; the upstream response is closed when
the client goes away. A URL elsewhere than the files service (a presigned S3 URL) is
answered with a 307 redirect to it.

See services/files/README.md ("HTTP transfers").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from shared.errors import Unavailable
from shared.logging import request_id_var

FILE_FIELD = "file"
#: Chunks waiting between the request and the upstream PUT (each at most a request chunk,
#: about 64 KiB with uvicorn): the whole of the upload's buffering.
QUEUE_CHUNKS = 4
#: Room for the multipart framing (boundaries, part headers, small extra fields) beyond
#: the file's own bytes in a request's Content-Length.
MULTIPART_OVERHEAD = 64 * 1024
#: Headers of the files service's answer a download passes on.
RELAYED_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-disposition",
    "etag",
    "last-modified",
    "cache-control",
)
MB = 1024 * 1024

BeginUpload = Callable[[str | None, int | None], Awaitable[str]]


def upstream_client(*, timeout: float, connect_timeout: float) -> httpx.AsyncClient:
    """The one client for transfers with the files service (made in the app's lifespan)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=False,
        trust_env=False,  # internal traffic: no proxies from the environment
    )


def size_text(limit: int) -> str:
    """52428800 -> "50 MB" (MB as 2**20 bytes, as the limits are configured)."""
    if limit >= MB:
        value = limit / MB
        return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"
    if limit >= 1024:
        return f"{limit / 1024:.0f} KB"
    return f"{limit} bytes"


def too_large_message(limit: int) -> str:
    return f"the file is larger than the {size_text(limit)} limit"


class TransferError(Exception):
    """An answer for the client in the errors' shape, naming the field ``file``."""

    def __init__(self, status: int, message: str, field_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field_message = field_message or message

    def response(self) -> JSONResponse:
        return error_response(
            self.status,
            {
                "detail": self.message,
                "errors": [{"field": FILE_FIELD, "message": self.field_message}],
            },
        )


def error_response(status: int, body: dict[str, Any]) -> JSONResponse:
    """An error body as the rest of the API gives it: with the request id."""
    body.setdefault("request_id", request_id_var.get())
    headers = {"Connection": "close"} if status == 413 else None
    return JSONResponse(status_code=status, content=body, headers=headers)


# ----------------------------------------------------------------- multipart


class _FileParts:
    """python-multipart's callbacks, turned into the events of the part named ``file``.

    After each ``feed``: ``started`` once the file part's headers are complete (with its
    ``filename``), ``data`` the file's bytes seen in that chunk, ``ended`` once the part
    closed. Other parts are skipped; their size counts in ``other_bytes``.
    """

    def __init__(self, boundary: bytes) -> None:
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )
        self.started = False
        self.ended = False
        self.filename: str | None = None
        self.data: list[bytes] = []
        self.other_bytes = 0
        self.fed = 0  # bytes fed before the current chunk
        self.data_offset: int | None = None  # where the file's bytes begin in the body
        self._in_file = False
        self._field = bytearray()
        self._value = bytearray()
        self._headers: dict[str, bytes] = {}

    def feed(self, chunk: bytes) -> list[bytes]:
        """The file's bytes in ``chunk`` (FormParserError when the body is malformed)."""
        self.data = []
        self.parser.write(chunk)
        self.fed += len(chunk)
        if self.started and self.data_offset is None and not self.data:
            self.data_offset = self.fed  # the headers ended with the chunk
        return self.data

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"")
        _, options = parse_options_header(disposition.decode("latin-1"))
        name = options.get(b"name", b"").decode("latin-1")
        if name == FILE_FIELD and not self.started:
            self.started = self._in_file = True
            raw = options.get(b"filename")
            # Browsers send the name's UTF-8 bytes as they are (RFC 7578 section 4.2).
            self.filename = raw.decode("utf-8", "replace") if raw else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            if self.data_offset is None:
                self.data_offset = self.fed + start
            self.data.append(data[start:end])
        else:
            self.other_bytes += end - start

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self.ended = True


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise TransferError(
            422,
            "invalid request: file",
            'send the file as multipart/form-data, in a part named "file"',
        )
    return boundary


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise TransferError(400, "the Content-Length header is not a number") from None


class _Upload:
    """One upload: the request's body in, the file's bytes out to the files service."""

    def __init__(
        self, request: Request, client: httpx.AsyncClient, *, limit: int, begin: BeginUpload
    ) -> None:
        self.request = request
        self.client = client
        self.limit = limit
        self.begin = begin
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
        self.put: asyncio.Task[httpx.Response] | None = None
        self.received = 0  # the file's bytes so far
        self.read = 0  # the request body's bytes so far

    async def run(self) -> Response:
        boundary = _boundary(self.request)
        length = _content_length(self.request)
        if length is not None and length > self.limit + MULTIPART_OVERHEAD:
            raise TransferError(413, too_large_message(self.limit))
        parts = _FileParts(boundary)
        chunks = self.request.stream().__aiter__()
        try:
            pending = await self._until_file(parts, chunks)
            url = await self.begin(parts.filename, self._declared(length, parts, boundary))
            self.put = asyncio.create_task(self._send(url, parts.filename))
            for data in pending:
                if not await self._forward(data):
                    return await self._answer()
            if parts.ended:  # the whole file came with its headers
                await self._finish()
            async for chunk in chunks:
                if parts.ended:
                    self._skip(chunk)
                    continue
                for data in self._feed(parts, chunk):
                    if not await self._forward(data):
                        return await self._answer()
                if parts.ended:
                    await self._finish()
            if not parts.ended:
                raise TransferError(422, "invalid request: file", "the multipart body ends early")
            return await self._answer()
        finally:
            if self.put is not None and not self.put.done():
                self.put.cancel()  # closes the upstream request: nothing of it is kept
                with contextlib.suppress(BaseException):
                    await self.put

    async def _until_file(self, parts: _FileParts, chunks: AsyncIterator[bytes]) -> list[bytes]:
        """Reads up to the file part's headers; the file's bytes already read with them."""
        async for chunk in chunks:
            data = self._feed(parts, chunk)
            if parts.started:
                return data
        raise TransferError(422, "invalid request: file", 'required: a part named "file"')

    def _feed(self, parts: _FileParts, chunk: bytes) -> list[bytes]:
        self.read += len(chunk)
        try:
            data = parts.feed(chunk)
        except FormParserError:
            raise TransferError(
                422, "invalid request: file", "the multipart body is malformed"
            ) from None
        if parts.other_bytes > MULTIPART_OVERHEAD:
            raise TransferError(413, "the form's other fields are too large")
        return data

    def _skip(self, chunk: bytes) -> None:
        """After the file: the closing boundary (and maybe small fields), not kept."""
        self.read += len(chunk)
        if self.read - self.received > 2 * MULTIPART_OVERHEAD:
            raise TransferError(413, "the form's other fields are too large")

    def _declared(self, length: int | None, parts: _FileParts, boundary: bytes) -> int | None:
        """The file's size as the Content-Length tells it (exact when the file is the last
        part), or None when unknown or over the limit (the count while streaming decides)."""
        if length is None or parts.data_offset is None:
            return None
        size = length - parts.data_offset - (len(boundary) + 8)  # "\r\n--" boundary "--\r\n"
        return size if 0 <= size <= self.limit else None

    async def _forward(self, data: bytes) -> bool:
        """Counts and queues ``data``; False once the files service has answered early."""
        self.received += len(data)
        if self.received > self.limit:
            raise TransferError(413, too_large_message(self.limit))
        return await self._queue(data)

    async def _finish(self) -> None:
        await self._queue(None)

    async def _queue(self, item: bytes | None) -> bool:
        assert self.put is not None
        if self.put.done():
            return False
        if not self.queue.full():
            self.queue.put_nowait(item)
            return True
        waiting = asyncio.ensure_future(self.queue.put(item))
        done, _ = await asyncio.wait({waiting, self.put}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            return True
        waiting.cancel()
        return False

    async def _body(self) -> AsyncIterator[bytes]:
        while (item := await self.queue.get()) is not None:
            yield item

    async def _send(self, url: str, filename: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream"}
        if filename:
            headers["X-Original-Filename"] = quote(filename, safe="")
        return await self.client.put(url, content=self._body(), headers=headers)

    async def _answer(self) -> Response:
        """The files service's answer, relayed: 201 with FileOut, or its error as it is."""
        assert self.put is not None
        try:
            answer = await self.put
        except httpx.HTTPError as exc:
            raise Unavailable("the files service did not take the file; try again") from exc
        return relay_json(answer)


def relay_json(answer: httpx.Response) -> Response:
    if answer.status_code >= 500:
        raise Unavailable("the files service could not take the file; try again")
    try:
        body = answer.json()
    except ValueError:
        body = {"detail": answer.text or answer.reason_phrase}
    if answer.status_code >= 400:
        return error_response(
            answer.status_code, body if isinstance(body, dict) else {"detail": str(body)}
        )
    return JSONResponse(status_code=answer.status_code, content=body)


async def forward_upload(
    request: Request, client: httpx.AsyncClient, *, limit: int, begin: BeginUpload
) -> Response:
    """Streams the ``file`` part of ``request`` to the URL ``begin(filename, size)`` gives."""
    try:
        return await _Upload(request, client, limit=limit, begin=begin).run()
    except TransferError as refused:
        return refused.response()
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening


# ----------------------------------------------------------------- downloads


class _UpstreamStream(StreamingResponse):
    """Streams an upstream response; closes it however the sending ends."""

    def __init__(self, upstream: httpx.Response, headers: dict[str, str]) -> None:
        super().__init__(upstream.aiter_raw(), status_code=200, headers=headers)
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.upstream.aclose()


def is_files_service(url: str, files_origin: str) -> bool:
    """Whether ``url`` is the files service's own transfer URL (streamed through here) rather
    than an object store's presigned URL (signed in its query; the browser fetches it).

    A ``/transfers/`` URL without a query counts as the files service's even on another
    origin, so that a gateway whose FILES_PUBLIC_HTTP_URL is unset or stale never sends a
    browser to an internal address."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() == files_origin:
        return True
    return parts.path.startswith("/transfers/") and not parts.query


async def relay_download(client: httpx.AsyncClient, url: str, *, files_origin: str) -> Response:
    """The file at ``url`` streamed through, or a redirect when it is not the files service's."""
    if not is_files_service(url, files_origin):
        # A presigned URL of the object store: the browser fetches it itself.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    try:
        upstream = await client.send(client.build_request("GET", url), stream=True)
    except httpx.HTTPError as exc:
        raise Unavailable("the files service did not answer; try again") from exc
    if upstream.status_code != 200:
        try:
            await upstream.aread()
        finally:
            await upstream.aclose()
        return relay_json(upstream)
    headers = {name: upstream.headers[name] for name in RELAYED_HEADERS if name in upstream.headers}
    headers["x-content-type-options"] = "nosniff"
    headers.setdefault("cache-control", "private, no-store")
    return _UpstreamStream(upstream, headers)
