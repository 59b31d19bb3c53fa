"""Acting as the gateway towards the files service, with referrals running beside it.

Referrals are written straight into the referrals service's database (what
sending one would leave there), which keeps each test fast; the files
service still asks referrals over RPC whether a caller may see or add to one.
Files travel over HTTP to the ticket's URL, as the gateway sends them.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.infra import sql_rows, token, wait_for
from tests.support.service_driver import ServiceDriver


@dataclass(frozen=True)
class Office:
    id: str
    user_id: str

    @property
    def caller(self) -> dict[str, Any]:
        return {"office_id": self.id, "user_id": self.user_id, "role": "admin"}


def new_office() -> Office:
    return Office(str(uuid.uuid4()), str(uuid.uuid4()))


class Desk(ServiceDriver):
    """The files service (``rpc``), its HTTP port, and the two databases behind the scene."""

    def __init__(
        self, rpc: Any, config: dict[str, Any], referrals_db: str, root: Path | None
    ) -> None:
        super().__init__(rpc, config)
        self.referrals_db = referrals_db
        self.root = root
        self.base = f"http://{config['WEB_SERVER_ADDRESS']}"
        self.http = httpx.Client(timeout=60)

    def referral(self, sender: Office, receiver: Office, *, stage: str = "sent") -> str:
        """A referral from ``sender`` to ``receiver`` in the referrals service's database."""
        referral_id = str(uuid.uuid4())
        sql_rows(
            self.referrals_db,
            "INSERT INTO referrals (id, reference, stage, urgency, sender_office_id,"
            " receiver_office_id, patient, sent_at) VALUES (%s, %s, %s, 'soon', %s, %s, %s, now())",
            referral_id,
            token(4)[:8].upper(),
            stage,
            sender.id,
            receiver.id,
            json.dumps({"first_name": "Maya", "last_name": "Chen"}),
        )
        return referral_id

    def url(self, ticket: dict[str, Any], key: str = "upload_url") -> str:
        """The ticket's URL on this test's port (the configured public base is the default)."""
        assert ticket[key].endswith(f"/transfers/{ticket['ticket']}")
        return f"{self.base}/transfers/{ticket['ticket']}"

    def put(
        self, ticket: dict[str, Any], content: bytes | Iterator[bytes], name: str | None
    ) -> httpx.Response:
        headers = {"X-Original-Filename": quote(name, safe="")} if name is not None else {}
        return self.http.put(self.url(ticket), content=content, headers=headers)

    def upload(
        self, office: Office, referral_id: str, content: bytes, name: str | None
    ) -> httpx.Response:
        """Ask for a ticket and PUT the bytes, as the gateway does."""
        ticket = self.begin_upload(
            caller=office.caller,
            payload={"owner_type": "referral", "owner_id": referral_id, "filename": name},
        )
        return self.put(ticket, content, name)

    def download(self, office: Office, file_id: str, **kwargs: Any) -> httpx.Response:
        ticket = self.begin_download(caller=office.caller, file_id=file_id, **kwargs)
        return self.http.get(self.url(ticket, "download_url"))

    def stored_objects(self) -> list[Path]:
        """Every object in the local store (the spool folder is elsewhere)."""
        assert self.root is not None
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def wait_preview(self, office: Office, file_id: str) -> dict[str, Any]:
        def settled() -> dict[str, Any] | None:
            found = self.get_file(caller=office.caller, file_id=file_id)
            return found if found["preview_state"] != "pending" else None

        return wait_for(settled, timeout=60, interval=0.2, what="the preview")


# ------------------------------------------------------------------- real files


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def dicom_bytes() -> bytes:
    from pydicom.data import get_testdata_file

    return Path(str(get_testdata_file("CT_small.dcm"))).read_bytes()


def stl_bytes() -> bytes:
    import trimesh

    data: bytes = trimesh.creation.icosphere(subdivisions=2).export(file_type="stl")
    return data
