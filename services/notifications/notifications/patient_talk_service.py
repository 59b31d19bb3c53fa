"""The "Patient Talk" entrypoints of the notifications service: private threads between an
office and its patients, reached by the patient through an expiring, revocable link.

A mixin of ``notifications.service.NotificationsService``: nameko finds entrypoints on base
classes too. The office side takes the gateway's ``caller``; the patient side takes the
link's token, or the patient session's token, and the patient's IP address (recorded).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.timer import timer

from notifications import mailer, patient_portal, patient_talk, sms
from notifications.patient_talk import Notices, TalkSettings, ThreadNotFound
from shared.contracts import Caller
from shared.contracts.identity import OfficeProfile
from shared.contracts.patient_talk import (
    PatientMessageIn,
    PatientThreadIn,
    PatientThreadQuery,
    PatientVerifyIn,
)
from shared.entrypoints import rpc
from shared.errors import RemoteError as BridgeworkRemoteError
from shared.errors import Unavailable
from shared.validation import dump, parse

log = logging.getLogger(__name__)

Json = Any
OWNER_SERVICES = {"referral": "referrals", "case": "cases"}
TEXT_INTERVAL_SECONDS = 2.0


def talk_settings_from(config: dict[str, Any]) -> TalkSettings:
    """TalkSettings from the container's config; a missing or empty key keeps its default."""
    default = TalkSettings()

    def get(key: str, fallback: Any) -> Any:
        value = config.get(key)
        return fallback if value is None or value == "" else value

    def seconds(key: str, fallback: timedelta) -> timedelta:
        value = float(get(key, fallback.total_seconds()))
        if value <= 0:
            raise ValueError(f"{key} must be a positive number of seconds")
        return timedelta(seconds=value)

    return TalkSettings(
        public_url=str(get("PUBLIC_URL", default.public_url)),
        link_ttl=seconds("PATIENT_LINK_TTL", default.link_ttl),
        session_ttl=seconds("PATIENT_SESSION_TTL", default.session_ttl),
    )


class PatientTalkConfig(DependencyProvider):
    """Patient Talk's settings and SMS sender, read from the container's config once."""

    def setup(self) -> None:
        config = self.container.config
        self.settings = talk_settings_from(config)
        url = config.get("SMS_URL")
        self.sender = sms.sender_from_url(sms.DEFAULT_SMS_URL if url is None else str(url))

    def get_dependency(self, worker_ctx: Any) -> PatientTalkConfig:
        return self


def _is_not_found(exc: Exception) -> bool:
    """The owner's service said no such owner (or not the caller's to see)."""
    if getattr(exc, "remote_kind", None) in ("not_found", "invalid"):
        return True
    exc_type = str(getattr(exc, "exc_type", ""))
    return exc_type != "MethodNotFound" and exc_type.endswith(("NotFound", "InvalidInput"))


def _unavailable(service: str, exc: Exception) -> Unavailable:
    return Unavailable(f"The {service} service is not answering; try again.")


class PatientTalkRpc:
    """Threads with patients (see the README's "Patient Talk")."""

    db: Any  # ServiceBase's session per worker

    talk = PatientTalkConfig()
    talk_identity = RpcProxy("identity")
    talk_referrals = RpcProxy("referrals")
    talk_cases = RpcProxy("cases")

    # ------------------------------------------------------------- helpers

    def _check_owner(self, who: Caller, owner_type: str, owner_id: UUID) -> None:
        """ThreadNotFound unless the owner's service says the caller's office may see it."""
        service = OWNER_SERVICES[owner_type]
        proxy = self.talk_referrals if owner_type == "referral" else self.talk_cases
        try:
            answer = proxy.check_access(
                caller=who.model_dump(mode="json"), **{f"{owner_type}_id": str(owner_id)}
            )
        except (RemoteError, BridgeworkRemoteError) as exc:
            if _is_not_found(exc):
                raise ThreadNotFound() from None
            raise _unavailable(service, exc) from exc
        except UnknownService as exc:
            raise _unavailable(service, exc) from exc
        if not answer or not answer.get("may_view"):
            raise ThreadNotFound()

    def _office_name(self, office_id: UUID) -> str:
        try:
            found = self.talk_identity.get_office_profiles(office_ids=[str(office_id)])
        except (RemoteError, BridgeworkRemoteError, UnknownService) as exc:
            raise _unavailable("identity", exc) from exc
        profiles = [OfficeProfile.model_validate(p) for p in found or []]
        return next(
            (p.name for p in profiles if p.id == office_id and p.name), "Your dental office"
        )

    def _notices(self) -> Notices:
        return Notices(
            enqueue_email=mailer.enqueue,
            render_email=patient_talk.render_notice,
            texts_enabled=self.talk.sender is not None,
        )

    # ------------------------------------------------------------- the office's side

    @rpc
    def create_patient_thread(
        self, caller: Json, payload: Json, idempotency_key: str | None = None
    ) -> Json:
        """A new private thread with a patient of one of the office's referrals or cases."""
        who, cmd = patient_talk_caller(caller), parse(PatientThreadIn, payload)
        self._check_owner(who, cmd.owner_type.value, cmd.owner_id)
        thread = patient_talk.create_thread(
            self.db,
            who=who,
            cmd=cmd,
            office_name=self._office_name(who.office_id),
            idempotency_key=idempotency_key,
        )
        return dump(thread)

    @rpc
    def list_patient_threads(self, caller: Json, query: Json = None) -> Json:
        """The office's patient threads, all or one referral's or case's."""
        who = patient_talk_caller(caller)
        parsed = parse(PatientThreadQuery, query, field="query")
        return dump(patient_talk.list_threads(self.db, who=who, query=parsed))

    @rpc
    def get_patient_thread(self, caller: Json, thread_id: str) -> Json:
        """A thread with its messages and links (the patient's replies are read now)."""
        who = patient_talk_caller(caller)
        return dump(patient_talk.get_thread(self.db, who=who, thread_id=thread_id))

    @rpc
    def send_patient_message(
        self, caller: Json, thread_id: str, payload: Json, idempotency_key: str | None = None
    ) -> Json:
        """Write to the patient: stored, and a notice with a fresh link e-mailed (or texted)."""
        who, cmd = patient_talk_caller(caller), parse(PatientMessageIn, payload)
        sent = patient_talk.send_message(
            self.db,
            who=who,
            thread_id=thread_id,
            cmd=cmd,
            settings=self.talk.settings,
            notices=self._notices(),
            idempotency_key=idempotency_key,
        )
        return dump(sent)

    @rpc
    def revoke_patient_links(self, caller: Json, thread_id: str) -> Json:
        """End every active link of the thread and the sessions opened with them."""
        who = patient_talk_caller(caller)
        return dump(patient_talk.revoke_links(self.db, who=who, thread_id=thread_id))

    @rpc
    def list_patient_access(self, caller: Json, thread_id: str) -> Json:
        """Every use of the thread's links and patient sessions, newest first."""
        who = patient_talk_caller(caller)
        return dump(patient_talk.list_access(self.db, who=who, thread_id=thread_id))

    # ------------------------------------------------------------- the patient's side

    @rpc
    def open_patient_link(self, token: str, client_ip: str | None = None) -> Json:
        """What the patient's page shows before the date of birth (recorded)."""
        return dump(patient_portal.open_link(self.db, token=token, ip=client_ip))

    @rpc
    def verify_patient(self, token: str, payload: Json, client_ip: str | None = None) -> Json:
        """A short patient session when the date of birth matches (tries are limited)."""
        cmd = parse(PatientVerifyIn, payload)
        session = patient_portal.verify(
            self.db, token=token, cmd=cmd, ip=client_ip, settings=self.talk.settings
        )
        return dump(session)

    @rpc
    def get_patient_view(self, session_token: str, client_ip: str | None = None) -> Json:
        """The thread as the patient reads it (recorded)."""
        view = patient_portal.patient_view(self.db, session_token=session_token, ip=client_ip)
        return dump(view)

    @rpc
    def post_patient_reply(
        self,
        session_token: str,
        payload: Json,
        client_ip: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """The patient's answer (recorded; ``patient_message_received`` tells the office)."""
        cmd = parse(PatientMessageIn, payload)
        reply = patient_portal.patient_reply(
            self.db,
            session_token=session_token,
            cmd=cmd,
            ip=client_ip,
            idempotency_key=idempotency_key,
        )
        return dump(reply)

    @rpc
    def end_patient_session(self, session_token: str, client_ip: str | None = None) -> None:
        """The patient signs out: the session stops working now (recorded)."""
        patient_portal.end_session(self.db, session_token=session_token, ip=client_ip)

    # ------------------------------------------------------------- texts

    @timer(interval=TEXT_INTERVAL_SECONDS)
    def deliver_patient_texts(self) -> None:
        """Send the queued text messages that are due."""
        if self.talk.sender is not None:
            sms.deliver_due_texts(self.db, sender=self.talk.sender)


def patient_talk_caller(caller: Any) -> Caller:
    """The caller the gateway passed (verified there, from a signed token)."""
    return parse(Caller, caller, field="caller")
