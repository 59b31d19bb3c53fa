"""The referrals service's entrypoints: each validates, calls the domain and serialises.

Every argument is a keyword argument (see the README). ``caller`` is the
``shared.contracts.Caller`` the gateway took from a verified access token.
Offices (names, providers, notation) come from the identity service over RPC.
"""

from __future__ import annotations

import base64
from typing import Any

from eventlet import tpool
from nameko.rpc import RpcProxy

from referrals import (
    __version__,
    attachments,
    documents,
    drafts,
    listing,
    notes,
    procedures,
    stages,
    views,
)
from referrals.access import caller_of, visible
from referrals.content import Context
from referrals.dependencies import ReferralSettings
from shared.contracts.events import EventEnvelope
from shared.contracts.files import FileUploaded, OwnerType
from shared.contracts.referrals import ListQuery, NoteIn, ProcedureIn, ReferralIn, StageChange
from shared.directory import Directory, ProfileCacheProvider
from shared.entrypoints import event_handler, rpc
from shared.service import ServiceBase
from shared.validation import dump, parse

Json = Any


class ReferralsService(ServiceBase):
    """Referrals from one office to another: the patient, teeth, procedures, stages, notes and the
    printable slip.
    """

    name = "referrals"
    version = __version__

    settings = ReferralSettings()
    identity_rpc = RpcProxy("identity")
    profile_cache = ProfileCacheProvider()

    @property
    def directory(self) -> Directory:
        return Directory(self.identity_rpc, self.profile_cache)

    @property
    def ctx(self) -> Context:
        return Context(self.directory, phone_region=self.settings.default_phone_region)

    def _detail(self, who: Any, referral: Any) -> Json:
        return dump(views.detail(self.db, referral=referral, who=who, directory=self.directory))

    # ------------------------------------------------------------- writing

    @rpc
    def create_referral(
        self, caller: Json, payload: Json, draft: bool = False, idempotency_key: str | None = None
    ) -> Json:
        """A new referral from the caller's office, saved as a draft or sent at once."""
        who, cmd = caller_of(caller), parse(ReferralIn, payload)
        created = drafts.create_referral(
            self.db,
            who=who,
            cmd=cmd,
            draft=bool(draft),
            ctx=self.ctx,
            idempotency_key=idempotency_key,
        )
        return dump(created)

    @rpc
    def update_draft(self, caller: Json, referral_id: str, payload: Json) -> Json:
        """Replace what a draft says (the sender's)."""
        who, cmd = caller_of(caller), parse(ReferralIn, payload)
        referral = drafts.update_draft(
            self.db, who=who, referral_id=referral_id, cmd=cmd, ctx=self.ctx
        )
        return self._detail(who, referral)

    @rpc
    def send_draft(self, caller: Json, referral_id: str) -> Json:
        """Send a draft (everything is checked again)."""
        who = caller_of(caller)
        referral = drafts.send_draft(self.db, who=who, referral_id=referral_id, ctx=self.ctx)
        return self._detail(who, referral)

    @rpc
    def delete_draft(self, caller: Json, referral_id: str) -> None:
        """Throw a draft away."""
        drafts.delete_draft(self.db, who=caller_of(caller), referral_id=referral_id)

    @rpc
    def change_stage(self, caller: Json, referral_id: str, payload: Json) -> Json:
        """Move a referral on (accept, decline, forward, ..., cancel), recording who and when."""
        who, cmd = caller_of(caller), parse(StageChange, payload)
        referral = stages.change_stage(
            self.db, who=who, referral_id=referral_id, cmd=cmd, ctx=self.ctx
        )
        return self._detail(who, referral)

    # ------------------------------------------------------------- reading

    @rpc
    def get_referral(self, caller: Json, referral_id: str) -> Json:
        """The referral with teeth in the caller's office's notation."""
        who = caller_of(caller)
        return self._detail(who, visible(self.db, who=who, referral_id=referral_id))

    @rpc
    def list_referrals(self, caller: Json, query: Json = None) -> Json:
        """A page of the caller's sent or received box."""
        who, parsed = caller_of(caller), parse(ListQuery, query, field="query")
        return dump(listing.list_referrals(self.db, who=who, query=parsed))

    @rpc
    def get_dashboard(self, caller: Json) -> Json:
        """Counts by stage for both boxes, and what needs attention."""
        return dump(listing.get_dashboard(self.db, who=caller_of(caller)))

    @rpc
    def check_access(self, caller: Json, referral_id: str) -> Json:
        """Whether the caller may view the referral's files and add to them (files asks)."""
        referral = visible(self.db, who=caller_of(caller), referral_id=referral_id)
        offices = [referral.sender_office_id, referral.receiver_office_id]
        return {
            "may_view": True,
            "may_add": referral.stage not in stages.CLOSED,
            "office_ids": [str(office) for office in offices if office is not None],
        }

    @rpc
    def render_pdf(self, caller: Json, referral_id: str) -> Json:
        """The printable referral slip, in the caller's notation and time zone."""
        who = caller_of(caller)
        referral = visible(self.db, who=who, referral_id=referral_id)
        detail = views.detail(self.db, referral=referral, who=who, directory=self.directory)
        mine = detail.sender if detail.sender.office.id == who.office_id else detail.receiver
        time_zone = mine.office.time_zone if mine is not None else None
        # WeasyPrint is CPU work: off the event loop, so the worker's heartbeat keeps going.
        pdf = tpool.execute(
            documents.render_referral_pdf,
            detail,
            time_zone=time_zone,
            page_size=self.settings.pdf_page_size,
        )
        return {
            "filename": f"{detail.reference}.pdf",
            "content_base64": base64.b64encode(pdf).decode("ascii"),
        }

    # ------------------------------------------------------------- notes

    @rpc
    def list_notes(self, caller: Json, referral_id: str) -> Json:
        """The referral's notes, flagged new for the caller's office."""
        return dump(notes.list_notes(self.db, who=caller_of(caller), referral_id=referral_id))

    @rpc
    def add_note(
        self,
        caller: Json,
        referral_id: str,
        payload: Json,
        idempotency_key: str | None = None,
    ) -> Json:
        """Write a note to the other office."""
        who, cmd = caller_of(caller), parse(NoteIn, payload)
        note = notes.add_note(
            self.db,
            who=who,
            referral_id=referral_id,
            cmd=cmd,
            directory=self.directory,
            idempotency_key=idempotency_key,
        )
        return dump(note)

    @rpc
    def mark_notes_read(self, caller: Json, referral_id: str) -> None:
        """The caller's office has read the referral's notes."""
        notes.mark_notes_read(self.db, who=caller_of(caller), referral_id=referral_id)

    # ------------------------------------------------------------- procedure lists

    @rpc
    def list_procedures(self, caller: Json, office_id: str) -> Json:
        """An office's procedure list (to choose from when referring)."""
        caller_of(caller)
        return dump(procedures.list_procedures(self.db, office_id=office_id))

    @rpc
    def add_procedure(self, caller: Json, payload: Json) -> Json:
        """Add a procedure to the caller's office's list."""
        who, cmd = caller_of(caller), parse(ProcedureIn, payload)
        return dump(procedures.add_procedure(self.db, who=who, cmd=cmd))

    @rpc
    def remove_procedure(self, caller: Json, procedure_id: str) -> None:
        """Take a procedure off the caller's office's list."""
        procedures.remove_procedure(self.db, who=caller_of(caller), procedure_id=procedure_id)

    # ------------------------------------------------------------- events of other services

    @event_handler("files", FileUploaded)
    def handle_file_uploaded(self, envelope: EventEnvelope, event: FileUploaded) -> None:
        """A file arrived for one of our referrals: list its id on the referral."""
        if event.owner_type == OwnerType.referral:
            attachments.attach(
                self.db, referral_id=event.owner_id, file_id=event.file_id, at=envelope.occurred_at
            )
