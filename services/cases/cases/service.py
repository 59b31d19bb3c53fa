"""The cases service's entrypoints: each validates, calls the domain and serialises.

Every argument is a keyword argument (see the README). ``caller`` is the
``shared.contracts.Caller`` the gateway took from a verified access token.
Offices (names, kind, notation, time zone) come from the identity service over RPC.
The planning entrypoints (slots, bookings, calendar files) are the ``PlanningRpc`` mixin's.
"""

from __future__ import annotations

import base64
from typing import Any

from eventlet import tpool
from nameko.rpc import RpcProxy

from cases import (
    __version__,
    attachments,
    documents,
    editing,
    listing,
    notes,
    shipdates,
    stages,
    views,
)
from cases.access import caller_of, visible
from cases.dependencies import CaseSettings
from cases.exceptions import CaseNotFound
from cases.models import Case
from cases.planning_service import PlanningRpc
from shared.contracts import Caller
from shared.contracts.cases import (
    CaseEdit,
    CaseIn,
    CaseListQuery,
    CaseNoteIn,
    StageChangeIn,
    TurnaroundRules,
)
from shared.contracts.events import EventEnvelope
from shared.contracts.files import FileUploaded, OwnerType
from shared.contracts.identity import OfficeKind
from shared.directory import Directory, ProfileCacheProvider
from shared.entrypoints import event_handler, rpc
from shared.errors import PermissionDenied
from shared.service import ServiceBase
from shared.validation import dump, parse, parse_id

Json = Any


class CasesService(PlanningRpc, ServiceBase):
    """Lab cases: the RX script, the progress pipeline, archive, planning-session booking and
    calendar export.
    """

    name = "cases"
    version = __version__

    settings = CaseSettings()
    identity_rpc = RpcProxy("identity")
    profile_cache = ProfileCacheProvider()

    @property
    def directory(self) -> Directory:
        return Directory(self.identity_rpc, self.profile_cache, self.settings.public_url)

    def _detail(self, who: Caller, case: Case) -> Json:
        return dump(views.detail(self.db, case, who=who, directory=self.directory))

    def _lab_of(self, who: Caller) -> None:
        """PermissionDenied unless the caller's office is a lab."""
        office = self.directory.profile(who.office_id)
        if office is None or office.kind != OfficeKind.lab:
            raise PermissionDenied("Only a lab has turnaround rules.")

    # ------------------------------------------------------------- the client's

    @rpc
    def create_case(self, caller: Json, payload: Json, idempotency_key: str | None = None) -> Json:
        """A new case from the caller's office to a lab; it waits for its files."""
        who, cmd = caller_of(caller), parse(CaseIn, payload)
        created = editing.create_case(
            self.db, who=who, cmd=cmd, directory=self.directory, idempotency_key=idempotency_key
        )
        return dump(created)

    @rpc
    def edit_case(self, caller: Json, case_id: str, payload: Json) -> Json:
        """The client's changes; the case goes back to Processing with a new ship estimate."""
        who, cmd = caller_of(caller), parse(CaseEdit, payload)
        case = editing.edit_case(
            self.db, who=who, case_id=case_id, cmd=cmd, directory=self.directory
        )
        return self._detail(who, case)

    @rpc
    def preview_edit(self, caller: Json, case_id: str) -> Json:
        """The ship date an edit submitted now would get; nothing changes."""
        return dump(editing.preview_edit(self.db, who=caller_of(caller), case_id=case_id))

    @rpc
    def archive_case(self, caller: Json, case_id: str) -> Json:
        """File the case in the client's archive (nothing changes for the lab)."""
        who = caller_of(caller)
        return self._detail(
            who, editing.set_archived(self.db, who=who, case_id=case_id, archived=True)
        )

    @rpc
    def unarchive_case(self, caller: Json, case_id: str) -> Json:
        """Take the case out of the client's archive."""
        who = caller_of(caller)
        return self._detail(
            who, editing.set_archived(self.db, who=who, case_id=case_id, archived=False)
        )

    # ------------------------------------------------------------- the lab's

    @rpc
    def change_stage(self, caller: Json, case_id: str, payload: Json) -> Json:
        """The lab moves the case on (legal moves only), recording who and when."""
        who, cmd = caller_of(caller), parse(StageChangeIn, payload)
        case = stages.change_stage(self.db, who=who, case_id=case_id, cmd=cmd)
        return self._detail(who, case)

    @rpc
    def get_turnaround(self, caller: Json) -> Json:
        """The caller's lab's turnaround rules (the defaults until set)."""
        who = caller_of(caller)
        self._lab_of(who)
        return dump(shipdates.rules_out(self.db, who.office_id))

    @rpc
    def set_turnaround(self, caller: Json, payload: Json) -> Json:
        """Change the caller's lab's rules for the stages given (an admin's)."""
        who, cmd = caller_of(caller), parse(TurnaroundRules, payload)
        self._lab_of(who)
        if who.role != "admin":
            raise PermissionDenied("Only an administrator of the lab can change its rules.")
        shipdates.set_rules(self.db, who.office_id, cmd)
        return dump(shipdates.rules_out(self.db, who.office_id))

    # ------------------------------------------------------------- reading

    @rpc
    def get_case(self, caller: Json, case_id: str) -> Json:
        """The case, teeth in the caller's office's notation."""
        who = caller_of(caller)
        return self._detail(who, visible(self.db, who=who, case_id=case_id))

    @rpc
    def list_cases(self, caller: Json, query: Json = None) -> Json:
        """A page of the caller's cases (default order: attention required)."""
        who, parsed = caller_of(caller), parse(CaseListQuery, query, field="query")
        return dump(listing.list_cases(self.db, who=who, query=parsed))

    @rpc
    def check_access(self, caller: Json, case_id: str) -> Json:
        """Whether the caller may view the case's files and add to them (files asks)."""
        case = visible(self.db, who=caller_of(caller), case_id=case_id)
        return {
            "may_view": True,
            "may_add": case.stage not in stages.CLOSED,
            "office_ids": [str(case.client_office_id), str(case.lab_office_id)],
        }

    @rpc
    def get_case_brief(self, case_id: str) -> Json:
        """The case as its client sees it (for the notifications service; no caller)."""
        case = self.db.get(Case, parse_id(case_id, field="case_id"))
        if case is None:
            raise CaseNotFound()
        client = Caller(office_id=case.client_office_id)
        return self._detail(client, case)

    @rpc
    def render_rx(self, caller: Json, case_id: str) -> Json:
        """The RX script (PDF): teeth in the lab's notation with their ISO codes."""
        who = caller_of(caller)
        case = visible(self.db, who=who, case_id=case_id)

        def render(content: dict[str, Any], *, page_size: str) -> bytes:
            # WeasyPrint is CPU work: off the event loop, so the worker's heartbeat keeps going.
            return tpool.execute(documents.render_rx_pdf, content, page_size=page_size)

        pdf = documents.rx_pdf(
            self.db,
            case,
            public_url=self.settings.public_url,
            page_size=self.settings.pdf_page_size,
            render=render,
        )
        return {
            "filename": f"{case.reference}-rx.pdf",
            "content_base64": base64.b64encode(pdf).decode("ascii"),
        }

    # ------------------------------------------------------------- notes

    @rpc
    def list_notes(self, caller: Json, case_id: str) -> Json:
        """The case's notes, oldest first, flagged new for the caller's office."""
        return dump(notes.list_notes(self.db, who=caller_of(caller), case_id=case_id))

    @rpc
    def add_note(
        self, caller: Json, case_id: str, payload: Json, idempotency_key: str | None = None
    ) -> Json:
        """Write a note to the other office of the case."""
        who, cmd = caller_of(caller), parse(CaseNoteIn, payload)
        note = notes.add_note(
            self.db,
            who=who,
            case_id=case_id,
            cmd=cmd,
            directory=self.directory,
            idempotency_key=idempotency_key,
        )
        return dump(note)

    @rpc
    def mark_notes_read(self, caller: Json, case_id: str) -> None:
        """The caller's office has read the case's notes."""
        notes.mark_notes_read(self.db, who=caller_of(caller), case_id=case_id)

    # ------------------------------------------------------------- events of other services

    @event_handler("files", FileUploaded)
    def handle_file_uploaded(self, envelope: EventEnvelope, event: FileUploaded) -> None:
        """A file arrived for one of our cases: list it; a case missing its files moves on."""
        if event.owner_type == OwnerType.case:
            attachments.attach(self.db, event=event, at=envelope.occurred_at)
