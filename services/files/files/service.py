"""The files service's entrypoints: each validates, calls the domain and serialises.

``caller`` is the ``shared.contracts.Caller`` the gateway took from a verified
access token. The owner's service (referrals, later cases) decides who may
see and add files, over RPC. File bytes travel over HTTP on this service's
port (``/transfers/<ticket>``), never over RabbitMQ.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy
from nameko.web.handlers import http
from pydantic import BaseModel
from werkzeug.wrappers import Request, Response

from files import __version__, catalog, transfers
from files.access import Owners, caller_of, visible_file
from files.dependencies import BlobStore, FilesSettings
from files.exceptions import OwnerClosed
from files.previewing import PreviewJobs
from shared.contracts.files import OwnerType, UploadTicketIn
from shared.entrypoints import rpc
from shared.service import ServiceBase
from shared.validation import dump, parse, parse_id

Json = Any


class FilesService(ServiceBase):
    """Medical files attached to referrals and cases: validation, the blob store, previews and
    downloads.
    """

    name = "files"
    version = __version__

    settings = FilesSettings()
    storage = BlobStore()
    previews = PreviewJobs()
    referrals_rpc = RpcProxy("referrals")
    cases_rpc = RpcProxy("cases")

    @property
    def owners(self) -> Owners:
        return Owners({"referrals": self.referrals_rpc, "cases": self.cases_rpc})

    # ------------------------------------------------------------- RPC

    @rpc
    def begin_upload(self, caller: Json, payload: Json) -> Json:
        """A single-use ticket to PUT one file to a referral or case the caller may add to."""
        who, cmd = caller_of(caller), parse(UploadTicketIn, payload)
        return dump(catalog.begin_upload(self.db, self.owners, self.settings, who=who, cmd=cmd))

    @rpc
    def list_files(self, caller: Json, owner_type: str, owner_id: str) -> Json:
        """The owner's files, split into the caller's office's (ours) and the other's (theirs)."""
        who = caller_of(caller)
        kind = parse(_OwnerRef, {"owner_type": owner_type}).owner_type.value
        oid = parse_id(owner_id, field="owner_id")
        return dump(
            catalog.list_files(self.db, self.owners, who=who, owner_type=kind, owner_id=oid)
        )

    @rpc
    def get_file(self, caller: Json, file_id: str) -> Json:
        """One file's metadata."""
        who = caller_of(caller)
        found = visible_file(self.db, self.owners, who=who, file_id=file_id)
        return dump(catalog.file_out(found, who=who))

    @rpc
    def begin_download(self, caller: Json, file_id: str, disposition: str = "attachment") -> Json:
        """A single-use ticket (or presigned URL) to GET the file; the access is recorded."""
        ticket = catalog.begin_download(
            self.db,
            self.owners,
            self.storage,
            self.settings,
            who=caller_of(caller),
            file_id=file_id,
            disposition=disposition,
        )
        return dump(ticket)

    @rpc
    def begin_preview(self, caller: Json, file_id: str) -> Json:
        """A single-use ticket to GET the file's preview image; the access is recorded."""
        ticket = catalog.begin_preview(
            self.db, self.owners, self.settings, who=caller_of(caller), file_id=file_id
        )
        return dump(ticket)

    @rpc
    def list_access(self, caller: Json, file_id: str) -> Json:
        """Who opened the file: downloads and previews, newest first."""
        return dump(
            catalog.list_access(self.db, self.owners, who=caller_of(caller), file_id=file_id)
        )

    # ------------------------------------------------------------- HTTP transfers

    @http("PUT", "/transfers/<string:ticket>")
    def put_transfer(self, request: Request, ticket: str) -> Response:
        """The bytes of one upload, streamed to the spool, inspected and stored."""
        return transfers.receive(
            self.db,
            self.storage,
            self.settings,
            token=ticket,
            request=request,
            on_stored=lambda stored: self.previews.schedule(stored.id),
            may_still_add=self._may_still_add,
        )

    def _may_still_add(self, who: Any, ticket: Any) -> None:
        """OwnerClosed when the owner closed since the ticket (FileNotFound if it went away)."""
        access = self.owners.check(who, owner_type=ticket.owner_type, owner_id=ticket.owner_id)
        if not access.may_add:
            raise OwnerClosed(ticket.owner_type)

    @http("GET", "/transfers/<string:ticket>")
    def get_transfer(self, request: Request, ticket: str) -> Response:
        """A file or its preview, streamed."""
        return transfers.send(self.db, self.storage, token=ticket)


class _OwnerRef(BaseModel):
    owner_type: OwnerType
