"""Files end to end: every process started as `make run` starts it, driven over HTTP.

Two offices and a referral between them: the sender attaches a PNG made with Pillow and one
of pydicom's own CT files, the receiver an STL mesh made with trimesh; each side's list
splits "ours" from "theirs"; downloads come back byte for byte with their headers; previews
become ready; an HTML file named .pdf is refused naming the file; the file over the size
limit gets 413 and the 11th file 409; a third office gets 404 for every file endpoint; the
sender sees in the access log that the receiver downloaded its file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom.data
import pytest
import trimesh
from PIL import Image

from tests.e2e.test_referrals import receiver, send
from tests.support.accounts import Account, Platform, platform
from tests.support.infra import wait_for
from tests.support.stack import running_stack

LIMIT = 2 * 1024 * 1024  # MAX_FILE_BYTES and MAX_UPLOAD_BYTES here: small, for the 413
FILES = "/api/v1/files"


@pytest.fixture(scope="module")
def world() -> Iterator[Platform]:
    """The stack with its blob store in a temporary folder and a 2 MB limit."""
    with (
        tempfile.TemporaryDirectory(prefix="bw-files-") as folder,
        running_stack(
            LOGIN_RATE_LIMIT="10000",
            FILES_STORAGE=f"local:{folder}/blobs",
            FILES_SPOOL_DIR=f"{folder}/spool",
            MAX_FILE_BYTES=str(LIMIT),
            MAX_UPLOAD_BYTES=str(LIMIT),
        ) as stack,
        platform(stack) as started,
    ):
        yield started


@pytest.fixture(scope="module")
def sender(world: Platform) -> Account:
    return world.office(notation="universal", providers=("Dr. Ada Lovelace",))


@pytest.fixture(scope="module")
def specialist(world: Platform) -> Account:
    return receiver(world, "fdi")


@pytest.fixture(scope="module")
def stranger(world: Platform) -> Account:
    return world.office()


@pytest.fixture(scope="module")
def referral(sender: Account, specialist: Account) -> dict[str, Any]:
    return send(sender, specialist)


# ----------------------------------------------------------------- real files


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def dicom_bytes() -> bytes:
    path = pydicom.data.get_testdata_file("CT_small.dcm", download=False)
    assert path is not None
    return Path(str(path)).read_bytes()


def stl_bytes() -> bytes:
    exported = trimesh.creation.icosphere(subdivisions=3).export(file_type="stl")
    assert isinstance(exported, bytes)
    return exported


def stored_dicom(data: bytes) -> bytes:
    """The DICOM as kept: its 128-byte preamble zeroed."""
    return bytes(128) + data[128:] if data[128:132] == b"DICM" else data


def upload(account: Account, referral_id: str, name: str, data: bytes) -> httpx.Response:
    return account.post(
        f"/api/v1/referrals/{referral_id}/files",
        files={"file": (name, data, "application/octet-stream")},
    )


def uploaded(account: Account, referral_id: str, name: str, data: bytes) -> dict[str, Any]:
    answer = upload(account, referral_id, name, data)
    assert answer.status_code == 201, answer.text
    out: dict[str, Any] = answer.json()
    assert out["side"] == "ours"
    return out


def listing(account: Account, referral_id: str) -> dict[str, list[str]]:
    answer = account.get(f"/api/v1/referrals/{referral_id}/files")
    assert answer.status_code == 200, answer.text
    return {side: [f["id"] for f in answer.json()[side]] for side in ("ours", "theirs")}


def ready(account: Account, file_id: str, timeout: float = 90) -> dict[str, Any]:
    """The file's metadata once its preview is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        answer = account.get(f"{FILES}/{file_id}")
        assert answer.status_code == 200, answer.text
        out: dict[str, Any] = answer.json()
        if out["preview_state"] != "pending":
            return out
        assert time.monotonic() < deadline, f"the preview of {file_id} is still pending"
        time.sleep(0.5)


# ----------------------------------------------------------------- sharing


@pytest.fixture(scope="module")
def shared(sender: Account, specialist: Account, referral: dict[str, Any]) -> dict[str, Any]:
    """The three files of the referral, by name, with their bytes as stored."""
    rid = referral["id"]
    png, dcm, stl = png_bytes(), dicom_bytes(), stl_bytes()
    return {
        "png": (uploaded(sender, rid, "pano 16-17.png", png), png),
        "dcm": (uploaded(sender, rid, "ct.dcm", dcm), stored_dicom(dcm)),
        "stl": (uploaded(specialist, rid, "Ünterkiefer scan.stl", stl), stl),
    }


def test_uploads_are_recognised_by_content(shared: dict[str, Any]) -> None:
    kinds = {name: out["kind"] for name, (out, _) in shared.items()}
    assert kinds == {"png": "image", "dcm": "dicom", "stl": "stl"}
    for out, data in shared.values():
        assert out["size"] == len(data)
        assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert shared["png"][0]["original_name"] == "pano 16-17.png"
    assert shared["stl"][0]["original_name"] == "Ünterkiefer scan.stl"
    assert shared["dcm"][0]["metadata"]  # DICOM tags


def test_each_side_sees_ours_and_theirs(
    sender: Account, specialist: Account, referral: dict[str, Any], shared: dict[str, Any]
) -> None:
    png, dcm, stl = (shared[name][0]["id"] for name in ("png", "dcm", "stl"))
    assert listing(sender, referral["id"]) == {"ours": [dcm, png], "theirs": [stl]}
    assert listing(specialist, referral["id"]) == {"ours": [stl], "theirs": [dcm, png]}
    assert specialist.get(f"{FILES}/{png}").json()["side"] == "theirs"


def test_the_referral_lists_its_files_for_both_offices(
    sender: Account, specialist: Account, referral: dict[str, Any], shared: dict[str, Any]
) -> None:
    """The referrals service learns of each file from the files service's event."""
    expected = sorted(out["id"] for out, _ in shared.values())

    def file_ids(account: Account) -> list[str]:
        answer = account.get(f"/api/v1/referrals/{referral['id']}")
        assert answer.status_code == 200, answer.text
        return sorted(answer.json()["file_ids"])

    wait_for(lambda: file_ids(sender) == expected, timeout=15, what="the referral's file ids")
    assert file_ids(specialist) == expected


@pytest.mark.parametrize(
    ("name", "media_type", "filename"),
    [
        ("png", "image/png", "pano%2016-17.png"),
        ("dcm", "application/dicom", "ct.dcm"),
        ("stl", "model/stl", "%C3%9Cnterkiefer%20scan.stl"),
    ],
)
def test_both_sides_download_byte_identical_files(
    sender: Account,
    specialist: Account,
    shared: dict[str, Any],
    name: str,
    media_type: str,
    filename: str,
) -> None:
    out, data = shared[name]
    for account in (sender, specialist):
        answer = account.get(f"{FILES}/{out['id']}/download")
        assert answer.status_code == 200, answer.text
        assert answer.content == data
        headers = answer.headers
        assert headers["content-type"].split(";")[0] == media_type
        assert headers["content-length"] == str(len(data))
        assert headers["etag"].strip('"') == out["sha256"]
        assert headers["content-disposition"].startswith("attachment")
        assert f"filename*=UTF-8''{filename}" in headers["content-disposition"]
        assert headers["x-content-type-options"] == "nosniff"
        assert "no-store" in headers["cache-control"]


def test_previews_become_ready(specialist: Account, shared: dict[str, Any]) -> None:
    for name in ("png", "dcm", "stl"):
        out = ready(specialist, shared[name][0]["id"])
        assert out["preview_state"] == "ready", (name, out)
        answer = specialist.get(f"{FILES}/{out['id']}/preview")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["content-disposition"].startswith("inline")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.content.startswith(b"\x89PNG\r\n\x1a\n")
        preview = Image.open(io.BytesIO(answer.content))
        assert max(preview.size) <= 1024


def test_the_access_log_shows_the_receivers_download(
    sender: Account, specialist: Account, shared: dict[str, Any]
) -> None:
    file_id = shared["png"][0]["id"]
    assert specialist.get(f"{FILES}/{file_id}/download").status_code == 200
    answer = sender.get(f"{FILES}/{file_id}/access")
    assert answer.status_code == 200, answer.text
    theirs = [e for e in answer.json() if e["office_id"] == specialist.office_id]
    assert {"download"} <= {e["action"] for e in theirs}
    assert all(e["file_id"] == file_id for e in answer.json())
    assert any(e["user_id"] == specialist.user_id for e in theirs)
    # The receiver sees the same log.
    assert specialist.get(f"{FILES}/{file_id}/access").status_code == 200


def test_no_transfer_ticket_reaches_a_log(world: Platform, shared: dict[str, Any]) -> None:
    # Uploads and downloads above went through tickets; a ticket is a secret while it lives.
    tickets = re.compile(r"/transfers/[A-Za-z0-9_-]{16,}")
    for log in world.stack.log_dir.glob("*.log"):
        assert not tickets.search(log.read_text(errors="replace")), log.name


# ----------------------------------------------------------------- refusals


def test_an_html_file_named_pdf_is_refused_naming_the_file(
    sender: Account, referral: dict[str, Any]
) -> None:
    before = listing(sender, referral["id"])
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
    answer = upload(sender, referral["id"], "lab report.pdf", html)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "lab report.pdf" in body["detail"]
    assert body["errors"][0]["field"] == "file"
    assert body["request_id"]
    assert listing(sender, referral["id"]) == before


def test_a_file_over_the_limit_is_413(
    world: Platform, sender: Account, referral: dict[str, Any]
) -> None:
    before = listing(sender, referral["id"])
    answer = upload(sender, referral["id"], "cbct.dcm", os.urandom(LIMIT + 1))
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "the file is larger than the 2 MB limit"
    assert answer.json()["errors"][0]["field"] == "file"
    assert listing(sender, referral["id"]) == before


def test_the_eleventh_file_is_409(sender: Account, specialist: Account) -> None:
    rid = send(sender, specialist)["id"]
    for n in range(10):
        uploaded(sender if n % 2 else specialist, rid, f"xray-{n}.png", png_bytes((8 + n, 8)))
    answer = upload(sender, rid, "one-more.png", png_bytes())
    assert answer.status_code == 409, answer.text
    assert "10" in answer.json()["detail"]
    assert sum(len(ids) for ids in listing(sender, rid).values()) == 10


def test_a_third_office_gets_404_for_every_file_endpoint(
    stranger: Account, referral: dict[str, Any], shared: dict[str, Any]
) -> None:
    file_id = shared["png"][0]["id"]
    rid = referral["id"]
    answers = {
        "upload": upload(stranger, rid, "x.png", png_bytes()),
        "list": stranger.get(f"/api/v1/referrals/{rid}/files"),
        "get": stranger.get(f"{FILES}/{file_id}"),
        "access": stranger.get(f"{FILES}/{file_id}/access"),
        "download": stranger.get(f"{FILES}/{file_id}/download"),
        "preview": stranger.get(f"{FILES}/{file_id}/preview"),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 404)
    assert all(file_id not in a.text for a in answers.values())
