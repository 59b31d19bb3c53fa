"""A 50 MB upload and its download keep the service's memory bounded (streamed, never whole)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import _start
from .support import Desk, new_office

TRIANGLES = (50 * 2**20 - 84) // 50  # 84 + 50 n bytes: just under the 50 MB limit
ALLOWED_GROWTH = 32 * 1024 * 1024


def binary_stl(triangles: int) -> Iterator[bytes]:
    """A binary STL, generated in 64 KiB pieces (the test holds none of it whole)."""
    yield b"bridgework memory test".ljust(80, b" ") + struct.pack("<I", triangles)
    batch = 1300
    for start in range(0, triangles, batch):
        out = bytearray()
        for i in range(start, min(start + batch, triangles)):
            x = float(i % 1000)
            y = float(i // 1000)
            out += struct.pack("<12fH", 0, 0, 1, x, y, 0, x + 1, y, 0, x, y + 1, 0, 0)
        yield bytes(out)


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


def _reset_peak() -> int:
    """Reset the peak RSS (VmHWM) to the current RSS; the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")
    return _kib("VmRSS")


@pytest.fixture
def roomy_desk(run_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    store = tmp_path / "store"
    yield from _start(
        run_service,
        monkeypatch,
        store,
        FILES_STORAGE=f"local:{store}",
        FILES_SPOOL_DIR=str(tmp_path / "spool"),
        MAX_FILE_BYTES=50 * 1024 * 1024,
    )


def test_a_50_mb_upload_and_download_stay_within_32_mb(roomy_desk: Desk) -> None:
    desk = roomy_desk
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    expected = hashlib.sha256()
    for chunk in binary_stl(TRIANGLES):
        expected.update(chunk)
    size = 84 + 50 * TRIANGLES
    # The first upload imports the format readers (tens of MB of code, once per process).
    warm_up = desk.upload(sender, rid, b"".join(binary_stl(10)), "warm-up.stl")
    assert warm_up.status_code == 201, warm_up.text

    before = _reset_peak()
    answer = desk.upload(sender, rid, binary_stl(TRIANGLES), "arch.stl")
    upload_growth = _kib("VmHWM") - before
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == size
    assert answer.json()["sha256"] == expected.hexdigest()
    assert upload_growth < ALLOWED_GROWTH, f"upload grew the process by {upload_growth >> 20} MB"

    before = _reset_peak()
    ticket = desk.begin_download(caller=receiver.caller, file_id=answer.json()["id"])
    got, received = hashlib.sha256(), 0
    with desk.http.stream("GET", desk.url(ticket, "download_url")) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_bytes():
            got.update(chunk)
            received += len(chunk)
    download_growth = _kib("VmHWM") - before
    assert (received, got.hexdigest()) == (size, expected.hexdigest())
    assert download_growth < ALLOWED_GROWTH, f"download grew by {download_growth >> 20} MB"
