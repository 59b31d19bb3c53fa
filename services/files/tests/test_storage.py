"""The blob stores: a local folder, and S3 over the real protocol (moto's server on loopback)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from files.storage import LocalStorage, S3Storage, new_key, storage_from_config

from .conftest import S3_CREDENTIALS, _start
from .support import Desk, dicom_bytes, new_office, png_bytes


def _file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        for n in range(0, size, 1 << 20):
            out.write(os.urandom(min(1 << 20, size - n)))
    return path


def _digest(chunks: Iterator[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        assert len(chunk) <= 1 << 20
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def test_keys_are_generated_with_a_two_level_fan_out() -> None:
    key = new_key()
    first, second, name = key.split("/")
    assert name.startswith(first + second) and len(name) == 32
    assert new_key() != key


def test_local_storage_moves_the_file_into_place_and_streams_it(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    source = _file(tmp_path / "upload.part", 300_000)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    key = new_key()
    store.put(key, source)
    assert not source.exists()
    assert store.size(key) == 300_000
    assert _digest(store.open_stream(key)) == (300_000, expected)
    assert store.presigned_url(key, filename="a", media_type="x/y", expires=60) is None
    assert [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()] == [key[6:]]
    store.delete(key)
    store.delete(key)  # already gone: no error
    with pytest.raises(ValueError):
        store.size("../../etc/passwd")


def test_storage_from_config() -> None:
    assert isinstance(storage_from_config("local:var/files"), LocalStorage)
    s3 = storage_from_config("s3://bucket/some/prefix", region="us-east-1")
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    with pytest.raises(ValueError):
        storage_from_config("ftp://nowhere")


def test_s3_storage_multipart_upload_stream_presign_delete(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    store = S3Storage(
        s3_bucket,
        "files",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    size = 9 * 1024 * 1024 + 123  # over the 8 MiB multipart threshold
    source = _file(tmp_path / "big.part", size)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    key = new_key()
    store.put(key, source)
    assert store.size(key) == size
    assert _digest(store.open_stream(key)) == (size, expected)
    head = store.client.head_object(Bucket=s3_bucket, Key=f"files/{key}")
    assert "-" in head["ETag"]  # a multipart upload's ETag
    url = store.presigned_url(key, filename="scan é.stl", media_type="model/stl", expires=60)
    assert url is not None and url.startswith(s3_endpoint)
    got = httpx.get(url, timeout=30)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == expected
    assert got.headers["content-type"] == "model/stl"
    assert "filename*=UTF-8''scan%20%C3%A9.stl" in got.headers["content-disposition"]
    store.delete(key)
    listed = store.client.list_objects_v2(Bucket=s3_bucket, Prefix="files/")
    assert listed.get("KeyCount", 0) == 0


@pytest.fixture
def s3_desk(
    run_service: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_endpoint: str,
    s3_bucket: str,
) -> Iterator[Desk]:
    yield from _start(
        run_service,
        monkeypatch,
        None,
        FILES_STORAGE=f"s3://{s3_bucket}/blobs",
        FILES_SPOOL_DIR=str(tmp_path / "spool"),
        S3_ENDPOINT_URL=s3_endpoint,
        S3_REGION="us-east-1",
        MAX_FILE_BYTES=1024 * 1024,
        **S3_CREDENTIALS,
    )


def test_upload_preview_and_download_through_s3(s3_desk: Desk, s3_bucket: str) -> None:
    import boto3

    desk = s3_desk
    sender, receiver = new_office(), new_office()
    rid = desk.referral(sender, receiver)
    content = dicom_bytes()
    answer = desk.upload(sender, rid, content, "ct.dcm")
    assert answer.status_code == 201, answer.text
    file_id = answer.json()["id"]
    refused = desk.upload(sender, rid, png_bytes(), "not-a.dcm")
    assert refused.status_code == 422

    # Inline: through the service's port; attachment: a presigned URL of the store itself.
    inline = desk.download(receiver, file_id, disposition="inline")
    assert inline.status_code == 200 and inline.content[128:] == content[128:]
    assert inline.headers["etag"] == f'"{answer.json()["sha256"]}"'
    ticket = desk.begin_download(caller=receiver.caller, file_id=file_id)
    assert ticket["download_url"].startswith(desk.config["S3_ENDPOINT_URL"])
    direct = httpx.get(ticket["download_url"], timeout=30)
    assert direct.status_code == 200 and direct.content == inline.content
    assert direct.headers["content-disposition"].startswith('attachment; filename="ct.dcm"')

    assert desk.wait_preview(sender, file_id)["preview_state"] == "ready"
    preview = desk.begin_preview(caller=sender.caller, file_id=file_id)
    image = desk.http.get(desk.url(preview, "download_url"))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    client = boto3.client(
        "s3",
        endpoint_url=desk.config["S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert len(keys) == 2 and all(k.startswith("blobs/") for k in keys)  # the file, its preview
    assert [a["action"] for a in desk.list_access(caller=sender.caller, file_id=file_id)] == [
        "preview",
        "download",
        "download",
    ]
