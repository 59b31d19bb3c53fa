"""The file routes: uploads streamed through to the files service's transfer port byte for
byte and with bounded memory, the limit enforced while streaming, the service's answers
relayed, downloads and previews streamed back with their headers.

The files service is faked twice (tests/gateway/file_fakes.py): its RPC methods, checked
against services/files/README.md, and its HTTP transfer port, a real HTTP server in a thread
that records what arrives. Uploads that must cross real sockets (chunked bodies, the limit
crossed mid-stream, memory) go to the gateway served by uvicorn in a thread as well.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.settings import GatewaySettings
from gateway.streaming import (
    MULTIPART_OVERHEAD,
    is_files_service,
    too_large_message,
    upstream_client,
)
from shared.contracts.files import AccessEntry, FileList, FileOut
from shared.errors import RemoteError
from tests.gateway.conftest import make_app
from tests.gateway.fakes import SigningKey, Subject
from tests.gateway.file_fakes import (
    Download,
    FakeFiles,
    ServerThread,
    TransferPort,
    Upload,
)

REFERRAL = str(uuid.uuid4())
FILE = str(uuid.uuid4())
UPLOAD = f"/api/v1/referrals/{REFERRAL}/files"
LIMIT = 1024 * 1024  # MAX_UPLOAD_BYTES in these tests, but for the memory test's app
MB = 1024 * 1024


@pytest.fixture(scope="module")
def port() -> Iterator[tuple[TransferPort, str]]:
    transfer = TransferPort()
    with ServerThread(transfer.app) as server:
        yield transfer, server.url


@pytest.fixture
def fake(port: tuple[TransferPort, str], subject: Subject) -> FakeFiles:
    transfer, url = port
    return FakeFiles(transfer, url, subject.office_id)


def files_app(fake: FakeFiles, key: SigningKey, limit: int = LIMIT) -> FastAPI:
    """The gateway without its lifespan, its upstream client made as the lifespan makes it."""
    app = make_app(
        fake,  # type: ignore[arg-type]
        key,
        MAX_UPLOAD_BYTES=limit,
        FILES_PUBLIC_HTTP_URL=fake.base_url,
    )
    settings: GatewaySettings = app.state.settings
    app.state.upstream = upstream_client(
        timeout=settings.transfer_timeout, connect_timeout=settings.transfer_connect_timeout
    )
    return app


@pytest.fixture
def app(fake: FakeFiles, key: SigningKey) -> FastAPI:
    return files_app(fake, key)


@pytest.fixture
def bearer(key: SigningKey, subject: Subject) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(subject.claims())}"}


@pytest.fixture
def gateway(app: FastAPI) -> Iterator[str]:
    """The app served over real sockets (uvicorn in a thread, no lifespan)."""
    with ServerThread(app) as server:
        yield server.url


def only_upload(fake: FakeFiles) -> Upload:
    """What reached the transfer port for this test's upload ticket (nothing: an empty
    record, the gateway having stopped before the request got there)."""
    [ticket] = [t for t, plan in fake.port.plans.items() if plan is fake.plan]
    return fake.port.uploads.get(ticket) or Upload(headers={})


def multipart(
    boundary: str, filename: str, chunks: Iterator[bytes], *, before: bytes = b""
) -> Iterator[bytes]:
    """A multipart/form-data body around ``chunks``, produced as it is sent."""
    yield before
    yield (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from chunks
    yield f"\r\n--{boundary}--\r\n".encode()


class Counted:
    """Chunks of a repeated block, counting how many the sender was asked for."""

    def __init__(self, total: int, block: int = 64 * 1024) -> None:
        self.total = total
        self.pattern = os.urandom(block)
        self.pulled = 0
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        while sent < self.total:
            chunk = self.pattern[: min(len(self.pattern), self.total - sent)]
            sent += len(chunk)
            self.pulled = sent
            self.digest.update(chunk)
            yield chunk


# ----------------------------------------------------------------- uploads


def test_the_file_part_arrives_byte_identical_with_its_name(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str], subject: Subject
) -> None:
    content = os.urandom(300_000) + b"\r\n--not-the-boundary\r\n" + os.urandom(1000)
    name = "Röntgen 16 & 17.png"
    answer = client.post(
        UPLOAD,
        data={"note": "before the file"},
        files={"file": (name, content, "image/png")},
        headers=bearer,
    )
    assert answer.status_code == 201, answer.text
    out = FileOut.model_validate(answer.json())
    assert out.size == len(content)
    assert out.sha256 == hashlib.sha256(content).hexdigest()

    upload = only_upload(fake)
    assert upload.body == content and upload.complete
    assert upload.headers["x-original-filename"] == quote(name, safe="")
    assert upload.headers["content-type"] == "application/octet-stream"

    assert fake.methods() == ["begin_upload"]
    call = fake.last("begin_upload")
    assert call.kwargs["caller"]["office_id"] == str(subject.office_id)
    assert call.kwargs["payload"] == {
        "owner_type": "referral",
        "owner_id": REFERRAL,
        "filename": name,
        "declared_size": len(content),  # the file is the last part: its size is known
    }


def test_an_empty_file_and_a_file_without_a_name(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    boundary = "b0undary"
    body = b"".join(
        (
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"\r\n\r\n',
            b"\r\n--" + boundary.encode() + b"--\r\n",
        )
    )
    answer = client.post(
        UPLOAD,
        content=body,
        headers={**bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 201, answer.text
    upload = only_upload(fake)
    assert upload.size == 0 and upload.complete
    assert "x-original-filename" not in upload.headers
    assert fake.last("begin_upload").kwargs["payload"]["filename"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": {"note": "no file"}, "files": {"other": ("a.png", b"x")}}, "named"),
        ({"json": {"file": "x"}}, "multipart/form-data"),
        ({"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data"}}, ""),
    ],
    ids=["no file part", "not multipart", "no boundary"],
)
def test_a_form_without_a_file_part_is_422_naming_the_field(
    client: TestClient,
    fake: FakeFiles,
    bearer: dict[str, str],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    headers = {**bearer, **kwargs.pop("headers", {})}
    answer = client.post(UPLOAD, headers=headers, **kwargs)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [e["field"] for e in body["errors"]] == ["file"]
    assert message in body["errors"][0]["message"]
    assert body["request_id"]
    assert fake.methods() == []  # nothing asked of the files service


def test_a_malformed_body_is_422_and_the_upstream_request_closed(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        "some bytes, then the body stops"
    ).encode()
    answer = client.post(
        UPLOAD,
        content=body,
        headers={**bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "file"
    assert not only_upload(fake).complete


def test_a_content_length_over_the_limit_is_413_at_once(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    content = b"x" * (LIMIT + MULTIPART_OVERHEAD + 1)
    answer = client.post(UPLOAD, files={"file": ("big.dcm", content)}, headers=bearer)
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "the file is larger than the 1 MB limit"
    assert answer.json()["errors"] == [{"field": "file", "message": too_large_message(LIMIT)}]
    assert fake.methods() == []


def test_the_limit_message_names_the_configured_size() -> None:
    assert too_large_message(52_428_800) == "the file is larger than the 50 MB limit"
    assert too_large_message(10 * MB + MB // 2) == "the file is larger than the 10.5 MB limit"


def test_crossing_the_limit_mid_stream_is_413_without_reading_the_rest(
    gateway: str, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    """A chunked body (no Content-Length): the count of the file's bytes stops it."""
    boundary = "c8f1e0d2"
    data = Counted(40 * MB)
    with httpx.Client(base_url=gateway, timeout=30) as http:
        answer = http.post(
            UPLOAD,
            content=multipart(boundary, "cbct.dcm", iter(data)),
            headers={**bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "the file is larger than the 1 MB limit"
    assert answer.json()["errors"][0]["field"] == "file"
    assert fake.last("begin_upload").kwargs["payload"]["declared_size"] is None
    upload = only_upload(fake)
    assert upload.size <= LIMIT  # the upstream never saw more than the limit
    assert not upload.complete  # ... and its request was cut off
    # The gateway stopped reading: the sender was not asked for the 40 MB.
    assert data.pulled < 16 * MB, data.pulled


def test_a_content_length_within_the_framing_allowance_still_stops_at_the_limit(
    gateway: str, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    content = os.urandom(LIMIT + 10)
    with httpx.Client(base_url=gateway, timeout=30) as http:
        answer = http.post(UPLOAD, files={"file": ("pano.png", content)}, headers=bearer)
    assert answer.status_code == 413, answer.text
    assert fake.last("begin_upload").kwargs["payload"]["declared_size"] is None
    assert only_upload(fake).size <= LIMIT


def test_a_file_of_exactly_the_limit_is_accepted(
    gateway: str, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    content = os.urandom(LIMIT)
    with httpx.Client(base_url=gateway, timeout=30) as http:
        answer = http.post(UPLOAD, files={"file": ("pano.png", content)}, headers=bearer)
    assert answer.status_code == 201, answer.text
    assert fake.last("begin_upload").kwargs["payload"]["declared_size"] == LIMIT
    upload = only_upload(fake)
    assert upload.size == LIMIT and upload.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("status", [422, 409])
def test_the_files_service_refusal_is_relayed_as_it_is(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str], status: int
) -> None:
    fake.plan.status = status
    html = b"<!doctype html><html><body>not a pdf</body></html>"
    answer = client.post(UPLOAD, files={"file": ("fake.pdf", html)}, headers=bearer)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["detail"] == "fake.pdf: not a valid PDF (it is HTML)"
    assert body["errors"] == [{"field": "file", "message": body["detail"]}]
    assert body["request_id"]


def test_the_files_service_stopping_early_is_relayed(
    gateway: str, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    """The files service's own limit, lower than the gateway's: its 413 comes through."""
    fake.plan.stop_after = 200_000
    content = os.urandom(900_000)
    with httpx.Client(base_url=gateway, timeout=30) as http:
        answer = http.post(UPLOAD, files={"file": ("scan.stl", content)}, headers=bearer)
    assert answer.status_code == 413, answer.text
    assert answer.json()["errors"][0]["field"] == "file"
    assert "files service's limit" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("kind", "status"), [("not_found", 404), ("conflict", 409), ("too_large", 413)]
)
def test_begin_upload_errors_go_through_the_error_table(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str], kind: str, status: int
) -> None:
    fake.errors["begin_upload"] = RemoteError("refused: the reason", kind=kind)
    uploads = len(fake.port.uploads)
    answer = client.post(UPLOAD, files={"file": ("a.png", b"\x89PNG")}, headers=bearer)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"] == "refused: the reason"
    assert len(fake.port.uploads) == uploads  # nothing sent


def test_the_files_service_unreachable_is_503(
    key: SigningKey, subject: Subject, bearer: dict[str, str]
) -> None:
    fake = FakeFiles(TransferPort(), "http://127.0.0.1:9", subject.office_id)  # discard port
    client = TestClient(files_app(fake, key), base_url="https://testserver")
    answer = client.post(UPLOAD, files={"file": ("a.png", b"\x89PNG")}, headers=bearer)
    assert answer.status_code == 503, answer.text


def _peak_rss_reset() -> bool:
    """Resets the kernel's peak-RSS mark for this process (Linux); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss() -> int:
    """Peak resident memory of this process so far, in bytes."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) * 1024  # type: ignore[index]


def test_memory_stays_bounded_uploading_30_mb(
    fake: FakeFiles, key: SigningKey, bearer: dict[str, str], capsys: pytest.CaptureFixture
) -> None:
    """The whole path in this one process (sender, gateway, files port): its peak memory
    grows by far less than the file's size."""
    size = 30 * MB
    app = files_app(fake, key, limit=50 * MB)
    data = Counted(size)
    boundary = "m3m0ry"
    body = multipart(boundary, "cbct.dcm", iter(data))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        http.get("/api/v1/files/not-a-uuid", headers=bearer)  # warm up the code paths
        reset = _peak_rss_reset()
        before = _peak_rss()
        started = time.perf_counter()
        answer = http.post(
            UPLOAD,
            content=body,
            headers={**bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        seconds = time.perf_counter() - started
        after = _peak_rss()
    assert answer.status_code == 201, answer.text
    upload = only_upload(fake)
    assert upload.size == size and upload.sha256 == data.digest.hexdigest()
    growth = after - before
    with capsys.disabled():
        print(
            f"\n30 MB upload through the gateway: peak RSS growth {growth / MB:.1f} MB "
            f"({'VmHWM reset' if reset else 'ru_maxrss'}), {seconds:.2f} s"
        )
    assert growth < 32 * MB, f"peak memory grew by {growth / MB:.1f} MB"


# ----------------------------------------------------------------- downloads


def dicom_download(content: bytes) -> Download:
    return Download(
        content=content,
        headers={
            "Content-Type": "application/dicom",
            "Content-Length": str(len(content)),
            "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
            "Content-Disposition": "attachment; filename=\"ct.dcm\"; filename*=UTF-8''ct%C3%A9.dcm",
            "X-Content-Type-Options": "nosniff",
        },
    )


def test_a_download_streams_the_bytes_with_the_upstream_headers(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    content = os.urandom(2 * MB + 17)
    fake.download = dicom_download(content)
    answer = client.get(f"/api/v1/files/{FILE}/download", headers=bearer)
    assert answer.status_code == 200, answer.text
    assert answer.content == content
    for name, value in fake.download.headers.items():
        assert answer.headers[name] == value, name
    assert answer.headers["cache-control"] == "private, no-store"
    call = fake.last("begin_download")
    assert call.kwargs["file_id"] == FILE and call.kwargs["disposition"] == "attachment"


def test_a_download_can_ask_for_inline(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    fake.download = dicom_download(b"%PDF-1.7\n")
    answer = client.get(f"/api/v1/files/{FILE}/download?disposition=inline", headers=bearer)
    assert answer.status_code == 200, answer.text
    assert fake.last("begin_download").kwargs["disposition"] == "inline"
    assert (
        client.get(f"/api/v1/files/{FILE}/download?disposition=evil", headers=bearer).status_code
        == 422
    )


def test_a_preview_streams_inline(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
    fake.download = Download(
        content=png,
        headers={
            "Content-Type": "image/png",
            "Content-Disposition": 'inline; filename="preview.png"',
            "Cache-Control": "private, max-age=300",
        },
    )
    answer = client.get(f"/api/v1/files/{FILE}/preview", headers=bearer)
    assert answer.status_code == 200, answer.text
    assert answer.content == png
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == 'inline; filename="preview.png"'
    assert answer.headers["x-content-type-options"] == "nosniff"  # added when missing
    assert answer.headers["cache-control"] == "private, max-age=300"
    assert fake.methods() == ["begin_preview"]


@pytest.mark.parametrize(("kind", "status"), [("conflict", 409), ("not_found", 404)])
def test_a_pending_or_unavailable_preview(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str], kind: str, status: int
) -> None:
    fake.errors["begin_preview"] = RemoteError("the preview is not ready", kind=kind)
    answer = client.get(f"/api/v1/files/{FILE}/preview", headers=bearer)
    assert answer.status_code == status, answer.text


def test_a_used_ticket_is_relayed(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    fake.download = Download(content=b"", headers={}, status=410)
    answer = client.get(f"/api/v1/files/{FILE}/download", headers=bearer)
    assert answer.status_code == 410, answer.text


def test_a_presigned_url_elsewhere_is_a_redirect(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    fake.download = dicom_download(b"x")
    fake.download_url = "https://s3.example.com/bucket/files/abc?X-Amz-Signature=f00"
    answer = client.get(f"/api/v1/files/{FILE}/download", headers=bearer, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == fake.download_url
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "streamed"),
    [
        ("http://files:8103/transfers/abc", True),  # the files service, however it is named
        ("http://127.0.0.1:8103/anything", True),  # the configured origin
        ("https://bucket.s3.amazonaws.com/k?X-Amz-Signature=f00", False),
        ("http://moto:5000/transfers/k?X-Amz-Signature=f00", False),
    ],
)
def test_which_download_urls_are_streamed_through(url: str, streamed: bool) -> None:
    assert is_files_service(url, "http://127.0.0.1:8103") is streamed


def test_the_upstream_download_is_closed_when_the_client_goes_away(
    gateway: str, fake: FakeFiles, bearer: dict[str, str]
) -> None:
    fake.download = dicom_download(os.urandom(64 * MB))
    with (
        httpx.Client(base_url=gateway, timeout=30) as http,
        http.stream("GET", f"/api/v1/files/{FILE}/download", headers=bearer) as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-length"] == str(64 * MB)
        next(answer.iter_raw())
    [ticket] = [t for t, d in fake.port.downloads.items() if d is fake.download]
    deadline = time.monotonic() + 10
    while ticket not in fake.port.closed_downloads:
        assert time.monotonic() < deadline, "the upstream download was never closed"
        time.sleep(0.05)


# ----------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    ("path", "rpc", "model"),
    [
        (UPLOAD, "list_files", FileList),
        (f"/api/v1/files/{FILE}", "get_file", FileOut),
        (f"/api/v1/files/{FILE}/access", "list_access", AccessEntry),
    ],
    ids=["list", "get", "access"],
)
def test_metadata_endpoints_call_their_rpc(
    client: TestClient,
    fake: FakeFiles,
    bearer: dict[str, str],
    path: str,
    rpc: str,
    model: type[Any],
) -> None:
    answer = client.get(path, headers=bearer)
    assert answer.status_code == 200, answer.text
    assert fake.methods() == [rpc]
    body = answer.json()
    for item in body if isinstance(body, list) else [body]:
        model.model_validate(item)
    if rpc == "list_files":
        assert fake.last().kwargs["owner_type"] == "referral"
        assert fake.last().kwargs["owner_id"] == REFERRAL


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", UPLOAD),
        ("GET", UPLOAD),
        ("GET", f"/api/v1/files/{FILE}"),
        ("GET", f"/api/v1/files/{FILE}/access"),
        ("GET", f"/api/v1/files/{FILE}/download"),
        ("GET", f"/api/v1/files/{FILE}/preview"),
    ],
)
def test_every_file_endpoint_needs_a_signed_in_caller_and_uuid_ids(
    client: TestClient, fake: FakeFiles, bearer: dict[str, str], method: str, path: str
) -> None:
    assert client.request(method, path).status_code == 401
    bad = path.replace(REFERRAL, "R-7K3F9Q").replace(FILE, "../etc")
    assert client.request(method, bad, headers=bearer).status_code in (404, 422)
    assert fake.methods() == []


def test_the_upload_is_documented_as_multipart(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/referrals/{referral_id}/files"]["post"]["requestBody"]
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
