"""Refused uploads answer with the right status and reason, and leave nothing behind."""

from __future__ import annotations

import os

from shared.contracts.files import FileRejected
from tests.support.infra import sql_rows

from .support import Desk, new_office, png_bytes

LIMIT = 1024 * 1024  # the desk's MAX_FILE_BYTES


def assert_nothing_stored(desk: Desk, referral_id: str) -> None:
    assert desk.stored_objects() == []
    assert desk.sql("SELECT count(*) FROM files WHERE owner_id = %s", referral_id) == [(0,)]
    spool = desk.config["FILES_SPOOL_DIR"]
    assert not os.path.isdir(spool) or os.listdir(spool) == []


def test_over_the_size_limit_is_413_at_once_and_nothing_stays(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)

    def body(total: int):
        sent = 0
        while sent < total:
            chunk = min(64 * 1024, total - sent)
            sent += chunk
            yield b"\0" * chunk

    # Streamed without a length (chunked): the service counts and stops at the limit.
    answer = desk.upload(sender, rid, body(LIMIT + 1), "big.png")
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "big.png is larger than the 1 MB limit"
    assert answer.json()["errors"] == [{"field": "file", "message": answer.json()["detail"]}]
    # With a Content-Length over the limit, nothing is read at all.
    declared = desk.upload(sender, rid, b"\0" * (LIMIT + 1), "big.png")
    assert declared.status_code == 413
    assert_nothing_stored(desk, rid)
    # Asked up front, the ticket itself is refused.
    error = desk.error(
        "begin_upload",
        caller=sender.caller,
        payload={"owner_type": "referral", "owner_id": rid, "declared_size": LIMIT + 1},
    )
    assert error.remote_kind == "too_large" and "1 MB" in error.message
    rejected = desk.events("file_rejected", owner_id=rid)
    assert [e["status"] for e in rejected] == [413, 413]
    assert all("big.png" not in e["reason"] for e in rejected)
    # Exactly the limit is fine for the size check (then the content decides).
    exact = desk.upload(sender, rid, b"\0" * LIMIT, "exact.png")
    assert exact.status_code == 422


def test_bad_content_is_422_naming_the_file_and_nothing_stays(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    for name, content in {
        "scan.pdf": b"<html><body>not a pdf</body></html>",
        "x-ray.jpg": png_bytes(),
        "empty.png": b"",
        "truncated.png": png_bytes()[:40],
    }.items():
        answer = desk.upload(sender, rid, content, name)
        assert answer.status_code == 422, (name, answer.text)
        detail = answer.json()["detail"]
        assert detail.startswith(name), detail
    assert_nothing_stored(desk, rid)
    rejected = desk.events("file_rejected", owner_id=rid)
    for data in rejected:
        FileRejected.model_validate(data)
    assert len(rejected) == 4 and {e["status"] for e in rejected} == {422}
    assert not any(name in e["reason"] for e in rejected for name in ("scan.pdf", "x-ray.jpg"))
    assert rejected[0]["office_id"] == sender.id and rejected[0]["user_id"] == sender.user_id
    assert desk.events("file_uploaded", owner_id=rid) == []


def test_the_file_after_the_limit_is_409_naming_it(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    limit = int(desk.config["MAX_FILES_PER_OWNER"])
    # Tickets taken before the count was reached: the PUT checks again under a lock.
    late = desk.begin_upload(
        caller=receiver.caller, payload={"owner_type": "referral", "owner_id": rid}
    )
    for n in range(limit):
        assert desk.upload(sender, rid, png_bytes(), f"{n}.png").status_code == 201
    answer = desk.put(late, png_bytes(), "late.png")
    assert answer.status_code == 409, answer.text
    assert answer.json()["detail"] == f"A referral holds at most {limit} files."
    error = desk.error(
        "begin_upload",
        caller=sender.caller,
        payload={"owner_type": "referral", "owner_id": rid, "filename": "one-more.png"},
    )
    assert error.remote_kind == "conflict"
    assert error.message == f"A referral holds at most {limit} files."
    assert len(desk.stored_objects()) == limit
    assert desk.sql("SELECT count(*) FROM files WHERE owner_id = %s", rid) == [(limit,)]


def test_tickets_are_single_use_and_unknown_ones_404(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    ticket = desk.begin_upload(
        caller=sender.caller, payload={"owner_type": "referral", "owner_id": rid}
    )
    assert ticket["max_bytes"] == LIMIT and len(ticket["ticket"]) >= 43
    first = desk.put(ticket, png_bytes(), "a.png")
    assert first.status_code == 201
    again = desk.put(ticket, png_bytes(), "a.png")
    assert again.status_code == 410
    assert desk.http.put(f"{desk.base}/transfers/nope", content=b"x").status_code == 404
    # The token itself is never stored, only its SHA-256.
    assert desk.sql("SELECT count(*) FROM tickets WHERE hash = %s", ticket["ticket"]) == [(0,)]

    download = desk.begin_download(caller=receiver.caller, file_id=first.json()["id"])
    url = desk.url(download, "download_url")
    assert desk.http.get(url).status_code == 200
    assert desk.http.get(url).status_code == 410
    assert desk.http.get(f"{desk.base}/transfers/nope").status_code == 404
    # An upload ticket does not download, nor a download ticket upload.
    other = desk.begin_download(caller=receiver.caller, file_id=first.json()["id"])
    put = desk.http.put(f"{desk.base}/transfers/{other['ticket']}", content=b"x")
    assert put.status_code == 404


def test_a_closed_referral_takes_no_files(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver, stage="closed")
    error = desk.error(
        "begin_upload",
        caller=receiver.caller,
        payload={"owner_type": "referral", "owner_id": rid, "filename": "a.png"},
    )
    assert error.remote_kind == "conflict" and "closed" in error.message
    assert desk.list_files(caller=sender.caller, owner_type="referral", owner_id=rid) == {
        "ours": [],
        "theirs": [],
    }


def test_a_referral_closed_after_the_ticket_takes_no_file(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    ticket = desk.begin_upload(
        caller=receiver.caller, payload={"owner_type": "referral", "owner_id": rid}
    )
    sql_rows(desk.referrals_db, "UPDATE referrals SET stage = 'closed' WHERE id = %s", rid)
    answer = desk.put(ticket, png_bytes(), "report.png")
    assert answer.status_code == 409, answer.text
    assert "closed" in answer.json()["detail"]
    assert_nothing_stored(desk, rid)
    assert [e["status"] for e in desk.events("file_rejected", owner_id=rid)] == [409]


def test_parallel_uploads_cannot_pass_the_count_limit(desk: Desk) -> None:
    import eventlet

    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    limit = int(desk.config["MAX_FILES_PER_OWNER"])
    tickets = [
        desk.begin_upload(caller=sender.caller, payload={"owner_type": "referral", "owner_id": rid})
        for _ in range(limit + 2)
    ]
    pool = eventlet.GreenPool()
    statuses = list(pool.imap(lambda t: desk.put(t, png_bytes(), "p.png").status_code, tickets))
    assert sorted(statuses) == [201] * limit + [409, 409]
    assert desk.sql("SELECT count(*) FROM files WHERE owner_id = %s", rid) == [(limit,)]
    assert len(desk.stored_objects()) == limit
