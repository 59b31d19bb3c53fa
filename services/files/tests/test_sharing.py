"""Two offices share files on a referral over the HTTP transfers; a third sees none of them."""

from __future__ import annotations

import hashlib

from shared.contracts.files import FilePreviewReady, FileUploaded

from .support import Desk, dicom_bytes, new_office, png_bytes, stl_bytes


def test_two_offices_upload_list_download_and_preview(desk: Desk) -> None:
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    files = {
        "x-ray.png": (sender, png_bytes(), "image", "image/png"),
        "ct scan é.dcm": (sender, dicom_bytes(), "dicom", "application/dicom"),
        "model.stl": (receiver, stl_bytes(), "stl", "model/stl"),
    }
    ids = {}
    for name, (office, content, kind, media_type) in files.items():
        answer = desk.upload(office, rid, content, name)
        assert answer.status_code == 201, answer.text
        out = answer.json()
        assert (out["kind"], out["original_name"], out["size"]) == (kind, name, len(content))
        assert out["media_type"] == media_type
        assert out["side"] == "ours" and out["preview_state"] == "pending"
        ids[name] = out["id"]
    png_id = ids["x-ray.png"]
    assert (
        desk.get_file(caller=sender.caller, file_id=png_id)["sha256"]
        == hashlib.sha256(files["x-ray.png"][1]).hexdigest()
    )

    mine = desk.list_files(caller=sender.caller, owner_type="referral", owner_id=rid)
    assert [f["original_name"] for f in mine["ours"]] == ["ct scan é.dcm", "x-ray.png"]
    assert [f["original_name"] for f in mine["theirs"]] == ["model.stl"]
    theirs = desk.list_files(caller=receiver.caller, owner_type="referral", owner_id=rid)
    assert [f["original_name"] for f in theirs["ours"]] == ["model.stl"]
    assert {f["side"] for f in theirs["theirs"]} == {"theirs"}

    got = desk.download(receiver, png_id)
    assert got.status_code == 200
    assert got.content == files["x-ray.png"][1]
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-length"] == str(len(got.content))
    assert got.headers["etag"] == f'"{hashlib.sha256(got.content).hexdigest()}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"x-ray.png\"; filename*=UTF-8''x-ray.png"
    )
    dicom = desk.download(sender, ids["ct scan é.dcm"], disposition="inline")
    assert dicom.headers["content-disposition"] == (
        "inline; filename=\"ct scan e.dcm\"; filename*=UTF-8''ct%20scan%20%C3%A9.dcm"
    )
    stored = dicom.content
    assert stored[:128] == bytes(128) and stored[128:] == files["ct scan é.dcm"][1][128:]
    assert dicom.headers["etag"] == f'"{hashlib.sha256(stored).hexdigest()}"'

    for name, file_id in ids.items():
        settled = desk.wait_preview(sender, file_id)
        assert settled["preview_state"] == "ready", (name, settled["metadata"])
        ticket = desk.begin_preview(caller=receiver.caller, file_id=file_id)
        image = desk.http.get(desk.url(ticket, "download_url"))
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert image.headers["content-disposition"].startswith("inline;")
    assert desk.get_file(caller=sender.caller, file_id=ids["model.stl"])["metadata"]

    for event_type, model in (
        ("file_uploaded", FileUploaded),
        ("file_preview_ready", FilePreviewReady),
    ):
        for data in desk.events(event_type, owner_id=rid):
            model.model_validate(data)
    uploaded = desk.events("file_uploaded", owner_id=rid)
    assert len(uploaded) == 3 and uploaded[2]["uploaded_by_office_id"] == receiver.id
    ready = desk.events("file_preview_ready", owner_id=rid)
    assert sorted(e["file_id"] for e in ready) == sorted(ids.values())

    log = desk.list_access(caller=sender.caller, file_id=png_id)
    assert [(e["action"], e["office_id"]) for e in log] == [
        ("preview", receiver.id),
        ("download", receiver.id),
    ]
    assert desk.list_access(caller=receiver.caller, file_id=png_id) == log


def test_a_third_office_finds_nothing(desk: Desk) -> None:
    sender, receiver, stranger = new_office(), new_office(), new_office()
    rid = desk.referral(sender, receiver)
    file_id = desk.upload(sender, rid, png_bytes(), "a.png").json()["id"]
    desk.wait_preview(sender, file_id)
    for method, kwargs in {
        "get_file": {},
        "begin_download": {},
        "begin_preview": {},
        "list_access": {},
    }.items():
        error = desk.error(method, caller=stranger.caller, file_id=file_id, **kwargs)
        assert error.remote_kind == "not_found", method
    for kwargs in (
        {"method": "list_files", "owner_type": "referral", "owner_id": rid},
        {
            "method": "begin_upload",
            "payload": {"owner_type": "referral", "owner_id": rid, "filename": "b.png"},
        },
    ):
        method = kwargs.pop("method")
        assert desk.error(method, caller=stranger.caller, **kwargs).remote_kind == "not_found"
    assert desk.list_access(caller=sender.caller, file_id=file_id) == []
