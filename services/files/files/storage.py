"""The blob store: a local folder (default) or any S3-compatible store through boto3.

Keys are generated (never a user's file name): a random uuid under a two-level
fan-out (``ab/cd/abcd...``). Objects are written whole or not at all: the local
store renames a finished file into place; S3 publishes an object only when its
(multipart) upload completes. Reading streams in chunks: no object is ever held
in memory whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

CHUNK_BYTES = 64 * 1024


def new_key() -> str:
    """A fresh storage key: ``ab/cd/<32 hex>``."""
    name = uuid.uuid4().hex
    return f"{name[:2]}/{name[2:4]}/{name}"


class Storage(Protocol):
    """What the service needs of a blob store."""

    def put(self, key: str, source_path: Path) -> None:
        """Store the file at ``source_path`` under ``key`` (the source may be moved away)."""

    def open_stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes, in chunks."""

    def size(self, key: str) -> int:
        """The object's size in bytes."""

    def delete(self, key: str) -> None:
        """Remove the object (no error when it is already gone)."""

    def presigned_url(
        self, key: str, *, filename: str, media_type: str, expires: int, inline: bool = False
    ) -> str | None:
        """A short-lived URL a client may GET directly, or None when the store has none."""


class LocalStorage:
    """Objects as files under ``root``; the spool folder must be on the same filesystem."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key outside the store")
        return path

    def put(self, key: str, source_path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            # A rename on one filesystem; a copy (then a rename) when the spool is elsewhere.
            shutil.move(str(source_path), partial)
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()

    def open_stream(self, key: str) -> Iterator[bytes]:
        handle = self._path(key).open("rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK_BYTES):
                    yield chunk

        return chunks()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def presigned_url(
        self, key: str, *, filename: str, media_type: str, expires: int, inline: bool = False
    ) -> str | None:
        return None


class S3Storage:
    """Objects in ``bucket`` under ``prefix`` of an S3-compatible store."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        # Empty credentials: boto3's own chain (environment, profile, instance role).
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3}),
        )
        # Multipart above 8 MiB, one part at a time: bounded memory, no thread pool.
        self.transfer = TransferConfig(multipart_threshold=8 * 1024 * 1024, use_threads=False)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source_path: Path) -> None:
        self.client.upload_file(str(source_path), self.bucket, self._key(key), Config=self.transfer)

    def open_stream(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        return chunks()

    def size(self, key: str) -> int:
        head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def presigned_url(
        self, key: str, *, filename: str, media_type: str, expires: int, inline: bool = False
    ) -> str | None:
        from files.headers import content_disposition

        params = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "ResponseContentType": media_type,
            "ResponseContentDisposition": content_disposition(filename, inline=inline),
        }
        url: str = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=int(expires)
        )
        return url


def storage_from_config(
    spec: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> Storage:
    """``local:<folder>`` or ``s3://<bucket>/<prefix>`` (``FILES_STORAGE``)."""
    if spec.startswith("local:"):
        return LocalStorage(spec.removeprefix("local:") or "var/files")
    if spec.startswith("s3://"):
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError("FILES_STORAGE: s3://<bucket>/<prefix> needs a bucket")
        return S3Storage(
            bucket,
            prefix,
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )
    raise ValueError(
        f"FILES_STORAGE must be local:<folder> or s3://<bucket>/<prefix>, not {quote(spec)!r}"
    )
