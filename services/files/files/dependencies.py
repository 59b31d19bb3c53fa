"""Nameko dependencies of the files service: its settings, the blob store, the preview runner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider

from files.storage import Storage, storage_from_config


@dataclass(frozen=True)
class Settings:
    """The service's tunables, with defaults that run on one machine."""

    storage: str = "local:var/files"
    spool_dir: str = "var/files/spool"
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    aws_access_key_id: str = ""
    aws_secret_access_key: str = ""
    max_file_bytes: int = 52_428_800
    max_files_per_owner: int = 10
    ticket_ttl: int = 60
    stl_max_triangles: int = 5_000_000
    preview_workers: int = 1
    public_http_url: str = "http://127.0.0.1:8103"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """Settings from the container's config; a missing or empty key keeps its default."""
        default = cls()

        def get(key: str, fallback: Any) -> Any:
            value = config.get(key)
            return fallback if value is None or value == "" else type(fallback)(value)

        return cls(
            storage=get("FILES_STORAGE", default.storage),
            spool_dir=get("FILES_SPOOL_DIR", default.spool_dir),
            s3_endpoint_url=get("S3_ENDPOINT_URL", default.s3_endpoint_url),
            s3_region=get("S3_REGION", default.s3_region),
            aws_access_key_id=get("AWS_ACCESS_KEY_ID", default.aws_access_key_id),
            aws_secret_access_key=get("AWS_SECRET_ACCESS_KEY", default.aws_secret_access_key),
            max_file_bytes=get("MAX_FILE_BYTES", default.max_file_bytes),
            max_files_per_owner=get("MAX_FILES_PER_OWNER", default.max_files_per_owner),
            ticket_ttl=get("TRANSFER_TICKET_TTL", default.ticket_ttl),
            stl_max_triangles=get("STL_MAX_TRIANGLES", default.stl_max_triangles),
            preview_workers=max(1, get("PREVIEW_WORKERS", default.preview_workers)),
            public_http_url=get("FILES_PUBLIC_HTTP_URL", default.public_http_url).rstrip("/"),
        )

    def make_storage(self) -> Storage:
        return storage_from_config(
            self.storage,
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            access_key_id=self.aws_access_key_id,
            secret_access_key=self.aws_secret_access_key,
        )


class FilesSettings(DependencyProvider):
    """The service's Settings, read from the container's config once."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings


class BlobStore(DependencyProvider):
    """One Storage per container (a boto3 client is thread-safe and reused)."""

    def setup(self) -> None:
        self.storage = Settings.from_config(self.container.config).make_storage()

    def get_dependency(self, worker_ctx: Any) -> Storage:
        return self.storage
