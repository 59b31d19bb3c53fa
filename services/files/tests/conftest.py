"""Fixtures: referrals and files in-process on the real broker and databases (and moto's S3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from shared.errors import RemoteError
from tests.support.infra import free_port

from .support import Desk

SMALL_LIMITS = {"MAX_FILE_BYTES": 1024 * 1024, "MAX_FILES_PER_OWNER": 4}


def _start(
    run_service: Any, monkeypatch: pytest.MonkeyPatch, root: Path | None, **files_config: Any
) -> Iterator[Desk]:
    from files.service import FilesService
    from referrals.service import ReferralsService

    # Keep the error's kind and details, as the gateway's client does.
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    _referrals, referrals_config = run_service(ReferralsService)
    _files, config = run_service(FilesService, **files_config)
    with ServiceRpcProxy("files", config, timeout=30) as proxy:
        desk = Desk(proxy, config, referrals_config["DB_URL"], root)
        try:
            yield desk
        finally:
            desk.http.close()


@pytest.fixture
def desk(run_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """Files (local store, 1 MB and 4 files per referral) and referrals running."""
    store = tmp_path / "store"
    yield from _start(
        run_service,
        monkeypatch,
        store,
        FILES_STORAGE=f"local:{store}",
        FILES_SPOOL_DIR=str(tmp_path / "spool"),
        **SMALL_LIMITS,
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback (the real S3 protocol, over HTTP)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    from tests.support.infra import token

    bucket = f"bwtest-{token()}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return bucket
