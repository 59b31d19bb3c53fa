"""The events the notifications service listens to, and what each one sends.

A mixin of ``notifications.service.NotificationsService``. Each handler runs in the
transaction that claims the event (``shared.entrypoints.event_handler``): the queued
e-mails and feed rows commit together with the claim, so a redelivered event sends
nothing twice and a failed handler (a service that did not answer) is retried by the
broker with nothing half-done. Subjects carry references and office names only;
bodies carry the reference, what happened and a link to the portal, never patient data.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select

from notifications.dispatch import Dispatch, office_name, remote_kind
from notifications.models import Notification
from notifications.rendering import Mail
from shared.contracts.cases import (
    STAGE_LABELS,
    CaseCreatedEvent,
    CaseNoteAdded,
    CaseShipped,
    CaseStage,
    CaseStageChanged,
    PlanningBooked,
)
from shared.contracts.common import Caller
from shared.contracts.events import EventEnvelope
from shared.contracts.files import FileUploaded, OwnerType
from shared.contracts.identity import (
    AccountLocked,
    InvitationKind,
    InvitationSent,
    IssuedLink,
    OfficeRegistered,
    PasswordResetRequested,
    VerificationResent,
)
from shared.contracts.notifications import Category
from shared.contracts.patient_talk import PatientMessageReceived
from shared.contracts.referrals import (
    ReferralNoteAdded,
    ReferralSent,
    ReferralStageChanged,
    Stage,
)
from shared.entrypoints import event_handler

log = logging.getLogger(__name__)

# Referral stages the sender hears about, and how the e-mail puts it.
REFERRAL_STAGE_NEWS = {
    Stage.accepted: "accepted",
    Stage.declined: "declined",
    Stage.booked: "booked",
    Stage.completed: "completed",
    Stage.closed: "closed with a report back",
}


def when(moment: datetime, time_zone: str | None) -> str:
    """A moment as an office reads it: in its time zone, with the zone's abbreviation."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else None
    except (KeyError, ValueError):
        zone = None
    local = moment.astimezone(zone) if zone is not None else moment
    return local.strftime("%A %-d %B %Y, %H:%M %Z").strip()


def _caller(office_id: UUID) -> dict[str, Any]:
    return Caller(office_id=office_id).model_dump(mode="json")


class EventConsumers:
    """E-mails and feed entries for the other services' events."""

    db: Any
    identity_rpc: Any
    referrals_rpc: Any
    cases_rpc: Any
    mail_settings: Any

    def _dispatch(self, envelope: EventEnvelope) -> Dispatch:
        return Dispatch(
            self.db,
            identity=self.identity_rpc,
            settings=self.mail_settings,
            event_id=envelope.event_id,
            occurred_at=envelope.occurred_at,
        )

    def _issue_link(self, link_id: UUID) -> IssuedLink | None:
        """A fresh link for the event's ``link_id``; None when it was used or replaced."""
        try:
            return IssuedLink.model_validate(self.identity_rpc.issue_link(link_id=str(link_id)))
        except Exception as exc:
            if remote_kind(exc) in ("not_found", "conflict", "gone"):
                log.info("link %s is no longer usable; nothing to send", link_id)
                return None
            raise

    # ------------------------------------------------------------- identity (security)

    def _verification(self, envelope: EventEnvelope, email: str, link_id: UUID) -> None:
        link = self._issue_link(link_id)
        if link is None:
            return
        mail = Mail(
            subject="Verify your e-mail address for Bridgework",
            heading="Confirm your e-mail address",
            paragraphs=[
                "Welcome to Bridgework. Please confirm that this is your e-mail address "
                "to finish setting up your office's account.",
                "If you did not sign up for Bridgework, you can ignore this message.",
            ],
            details=[("Link valid until", when(link.expires_at, "UTC"))],
            action_label="Verify my e-mail address",
            action_url=link.url,
            security=True,
        )
        self._dispatch(envelope).to_address(email, mail, key="security")

    @event_handler("identity", OfficeRegistered)
    def handle_office_registered(self, envelope: EventEnvelope, event: OfficeRegistered) -> None:
        """The verification link for a new office's admin."""
        self._verification(envelope, event.email, event.link_id)

    @event_handler("identity", VerificationResent)
    def handle_verification_resent(
        self, envelope: EventEnvelope, event: VerificationResent
    ) -> None:
        """A fresh verification link."""
        self._verification(envelope, event.email, event.link_id)

    @event_handler("identity", InvitationSent)
    def handle_invitation_sent(self, envelope: EventEnvelope, event: InvitationSent) -> None:
        """The invitation link, from the inviting office (replies go to its address)."""
        link = self._issue_link(event.link_id)
        if link is None:
            return
        dispatch = self._dispatch(envelope)
        inviter = dispatch.offices(event.from_office_id).get(event.from_office_id)
        name = event.from_office_name or office_name(inviter, "A dental office")
        if event.kind is InvitationKind.staff:
            subject = f"{name} invited you to join their team on Bridgework"
            intro = f"{name} invited you to join their office on Bridgework."
        else:
            subject = f"{name} invited you to connect on Bridgework"
            intro = (
                f"{name} invited your office to connect on Bridgework, to send and receive "
                "referrals and lab cases."
            )
        mail = Mail(
            subject=subject,
            heading="You are invited to Bridgework",
            paragraphs=[intro, "Open the invitation to accept it."],
            details=[("Invitation valid until", when(link.expires_at, "UTC"))],
            action_label="Open the invitation",
            action_url=link.url,
            security=True,
        )
        dispatch.to_address(
            event.email,
            mail,
            key="security",
            sender_name=name,
            reply_to=inviter.email if inviter is not None else None,
        )

    @event_handler("identity", PasswordResetRequested)
    def handle_password_reset_requested(
        self, envelope: EventEnvelope, event: PasswordResetRequested
    ) -> None:
        """The password reset link."""
        link = self._issue_link(event.link_id)
        if link is None:
            return
        mail = Mail(
            subject="Reset your Bridgework password",
            heading="Reset your password",
            paragraphs=[
                "Someone asked to reset the password of your Bridgework account.",
                "If it was not you, ignore this message: your password stays as it is.",
            ],
            details=[("Link valid until", when(link.expires_at, "UTC"))],
            action_label="Choose a new password",
            action_url=link.url,
            security=True,
        )
        self._dispatch(envelope).to_address(event.email, mail, key="security")

    @event_handler("identity", AccountLocked)
    def handle_account_locked(self, envelope: EventEnvelope, event: AccountLocked) -> None:
        """Too many failed sign-ins: tell the account's owner."""
        dispatch = self._dispatch(envelope)
        mail = Mail(
            subject="Your Bridgework account was locked",
            heading="Your account is locked for now",
            paragraphs=[
                "There were too many unsuccessful attempts to sign in to your Bridgework "
                "account, so it was locked for a while.",
                "If this was not you, reset your password once the lock ends.",
            ],
            details=[("Locked until", when(event.locked_until, "UTC"))],
            action_label="Reset my password",
            action_url=dispatch.link("/reset-password"),
            security=True,
        )
        dispatch.to_address(event.email, mail, key="security")

    # ------------------------------------------------------------- referrals

    @event_handler("referrals", ReferralSent)
    def handle_referral_sent(self, envelope: EventEnvelope, event: ReferralSent) -> None:
        """The receiving office's users: a referral arrived."""
        dispatch = self._dispatch(envelope)
        offices = dispatch.offices(event.sender_office_id)
        sender = offices.get(event.sender_office_id)
        name = office_name(sender)
        mail = Mail(
            subject=f"New referral {event.reference} from {name}",
            heading=f"Referral {event.reference} received",
            paragraphs=[f"{name} sent your office a referral."],
            details=[("Reference", event.reference), ("Urgency", event.urgency.value)],
            action_label="Open the referral",
            action_url=dispatch.link(f"/referrals/{event.referral_id}"),
        )
        dispatch.to_office(
            event.receiver_office_id,
            mail,
            category=Category.referrals,
            kind="referral_received",
            title=f"Referral {event.reference} received from {name}",
            subject_type="referral",
            subject_id=event.referral_id,
            reference=event.reference,
            sender_name=name,
            reply_to=sender.email if sender is not None else None,
        )

    @event_handler("referrals", ReferralStageChanged)
    def handle_referral_stage_changed(
        self, envelope: EventEnvelope, event: ReferralStageChanged
    ) -> None:
        """The sending office's users: their referral was accepted, declined, booked,
        completed or closed (report back) by the receiver."""
        news = REFERRAL_STAGE_NEWS.get(event.stage)
        if news is None or event.by_office_id == event.sender_office_id:
            return
        dispatch = self._dispatch(envelope)
        offices = dispatch.offices(event.sender_office_id, event.receiver_office_id)
        receiver = offices.get(event.receiver_office_id)
        sender = offices.get(event.sender_office_id)
        name = office_name(receiver)
        details = [("Reference", event.reference), ("Now", news)]
        if event.stage is Stage.booked and event.appointment_at is not None:
            zone = sender.time_zone if sender is not None else None
            details.append(("Appointment", when(event.appointment_at, zone)))
        mail = Mail(
            subject=f"Referral {event.reference} was {news} by {name}",
            heading=f"Referral {event.reference}: {news}",
            paragraphs=[f"{name} marked your referral {event.reference} as {news}."],
            details=details,
            action_label="Open the referral",
            action_url=dispatch.link(f"/referrals/{event.referral_id}"),
        )
        dispatch.to_office(
            event.sender_office_id,
            mail,
            category=Category.referrals,
            kind=f"referral_{event.stage.value}",
            title=f"Referral {event.reference} {news} by {name}",
            subject_type="referral",
            subject_id=event.referral_id,
            reference=event.reference,
            sender_name=name,
            reply_to=receiver.email if receiver is not None else None,
        )

    @event_handler("referrals", ReferralNoteAdded)
    def handle_referral_note_added(self, envelope: EventEnvelope, event: ReferralNoteAdded) -> None:
        """The other office's users: a new note (its text stays in the portal)."""
        dispatch = self._dispatch(envelope)
        author = dispatch.offices(event.author_office_id).get(event.author_office_id)
        name = office_name(author)
        mail = Mail(
            subject=f"New note on referral {event.reference} from {name}",
            heading=f"New note on referral {event.reference}",
            paragraphs=[
                f"{name} added a note to referral {event.reference}. Read it in Bridgework."
            ],
            details=[("Reference", event.reference)],
            action_label="Read the note",
            action_url=dispatch.link(f"/referrals/{event.referral_id}"),
        )
        dispatch.to_office(
            event.recipient_office_id,
            mail,
            category=Category.notes,
            kind="referral_note",
            title=f"New note on referral {event.reference} from {name}",
            subject_type="referral",
            subject_id=event.referral_id,
            reference=event.reference,
            sender_name=name,
            reply_to=author.email if author is not None else None,
        )

    @event_handler("cases", CaseNoteAdded)
    def handle_case_note_added(self, envelope: EventEnvelope, event: CaseNoteAdded) -> None:
        """The case's other office's users: a new note (its text stays in the portal)."""
        dispatch = self._dispatch(envelope)
        author = dispatch.offices(event.author_office_id).get(event.author_office_id)
        name = office_name(author)
        mail = Mail(
            subject=f"New note on case {event.reference} from {name}",
            heading=f"New note on case {event.reference}",
            paragraphs=[f"{name} added a note to case {event.reference}. Read it in Bridgework."],
            details=[("Case", event.reference)],
            action_label="Read the note",
            action_url=dispatch.link(f"/cases/{event.case_id}"),
        )
        dispatch.to_office(
            event.recipient_office_id,
            mail,
            category=Category.notes,
            kind="case_note",
            title=f"New note on case {event.reference} from {name}",
            subject_type="case",
            subject_id=event.case_id,
            reference=event.reference,
            sender_name=name,
            reply_to=author.email if author is not None else None,
        )

    # ------------------------------------------------------------- Patient Talk

    @event_handler("notifications", PatientMessageReceived)
    def handle_patient_message_received(
        self, envelope: EventEnvelope, event: PatientMessageReceived
    ) -> None:
        """The office's users: a patient answered (the text stays in the portal)."""
        dispatch = self._dispatch(envelope)
        owner = "referral" if event.owner_type.value == "referral" else "case"
        mail = Mail(
            subject="A patient answered your message",
            heading="A patient answered your message",
            paragraphs=[
                f"A patient replied in a Patient Talk thread of one of your {owner}s. "
                "Read it in Bridgework."
            ],
            details=[],
            action_label="Read the reply",
            action_url=dispatch.link(f"/{owner}s/{event.owner_id}#patient-talk"),
        )
        dispatch.to_office(
            event.office_id,
            mail,
            category=Category.patient_messages,
            kind="patient_message",
            title="A patient answered your message",
            subject_type=owner,
            subject_id=event.owner_id,
        )

    # ------------------------------------------------------------- files

    @event_handler("files", FileUploaded)
    def handle_file_uploaded(self, envelope: EventEnvelope, event: FileUploaded) -> None:
        """The other office of the referral or case: a new file was shared."""
        caller = _caller(event.uploaded_by_office_id)
        reference: str | None = None
        if event.owner_type is OwnerType.referral:
            access = self.referrals_rpc.check_access(caller=caller, referral_id=str(event.owner_id))
            reference = self.db.execute(
                select(Notification.reference)
                .where(
                    Notification.subject_id == event.owner_id,
                    Notification.reference.is_not(None),
                )
                .limit(1)
            ).scalar_one_or_none()
            what, path = "referral", f"/referrals/{event.owner_id}"
        else:
            access = self.cases_rpc.check_access(caller=caller, case_id=str(event.owner_id))
            brief = self.cases_rpc.get_case_brief(case_id=str(event.owner_id))
            reference = brief.get("reference")
            what, path = "case", f"/cases/{event.owner_id}"
        others = [
            UUID(str(office))
            for office in access.get("office_ids", [])
            if UUID(str(office)) != event.uploaded_by_office_id
            and self._may_see(event.owner_type, event.owner_id, UUID(str(office)))
        ]
        if not others:
            return
        dispatch = self._dispatch(envelope)
        uploader = dispatch.offices(event.uploaded_by_office_id).get(event.uploaded_by_office_id)
        name = office_name(uploader)
        on = f"{what} {reference}" if reference else f"a {what}"
        mail = Mail(
            subject=f"New file shared on {on} by {name}",
            heading=f"New file on {on}",
            paragraphs=[f"{name} shared a new file ({event.kind.value}) on {on}."],
            details=[("Reference", reference)] if reference else [],
            action_label=f"Open the {what}",
            action_url=dispatch.link(path),
        )
        for office_id in others:
            dispatch.to_office(
                office_id,
                mail,
                category=Category.files,
                kind="file_shared",
                title=f"New file shared on {on} by {name}",
                subject_type=what,
                subject_id=event.owner_id,
                reference=reference,
                sender_name=name,
                reply_to=uploader.email if uploader is not None else None,
            )

    def _may_see(self, owner_type: OwnerType, owner_id: UUID, office_id: UUID) -> bool:
        """Whether the office may see the referral or case (a draft referral is the
        sender's alone: its receiver hears nothing of its files)."""
        try:
            if owner_type is OwnerType.referral:
                self.referrals_rpc.check_access(
                    caller=_caller(office_id), referral_id=str(owner_id)
                )
            else:
                self.cases_rpc.check_access(caller=_caller(office_id), case_id=str(owner_id))
        except Exception as exc:
            if remote_kind(exc) == "not_found":
                return False
            raise
        return True

    # ------------------------------------------------------------- cases

    def _brief(self, case_id: UUID) -> dict[str, Any]:
        return dict(self.cases_rpc.get_case_brief(case_id=str(case_id)))

    @event_handler("cases", CaseCreatedEvent)
    def handle_case_created(self, envelope: EventEnvelope, event: CaseCreatedEvent) -> None:
        """The confirmation with the case summary, to the client office's account address;
        a feed entry for both offices' users."""
        dispatch = self._dispatch(envelope)
        offices = dispatch.offices(event.client_office_id, event.lab_office_id)
        client, lab = offices.get(event.client_office_id), offices.get(event.lab_office_id)
        lab_name, client_name = office_name(lab, "the lab"), office_name(client)
        brief = self._brief(event.case_id)
        teeth = ", ".join(str(t.get("label")) for t in brief.get("teeth") or [])
        ship = (brief.get("ship") or {}).get("latest")
        details = [
            ("Case", event.reference),
            ("Lab", lab_name),
            ("Stage", str(brief.get("stage_label") or "")),
        ]
        if teeth:
            details.append(("Teeth", teeth))
        if brief.get("due_date"):
            details.append(("Requested due date", str(brief["due_date"])))
        if ship:
            details.append(("Estimated ship date", str(ship)))
        link = dispatch.link(f"/cases/{event.case_id}")
        mail = Mail(
            subject=f"Case {event.reference} was sent to {lab_name}",
            heading=f"Case {event.reference} confirmed",
            paragraphs=[
                f"Your case {event.reference} was sent to {lab_name}. "
                "Keep this e-mail as your confirmation.",
            ],
            details=details,
            action_label="Open the case",
            action_url=link,
        )
        if client is not None:
            dispatch.to_address(
                client.email,
                mail,
                key=f"office:{client.id}",
                reply_to=lab.email if lab is not None else None,
            )
        for office_id, title in (
            (event.client_office_id, f"Case {event.reference} sent to {lab_name}"),
            (event.lab_office_id, f"New case {event.reference} from {client_name}"),
        ):
            for member in dispatch.members(office_id):
                dispatch.feed(
                    member.id,
                    office_id,
                    kind="case_created",
                    title=title,
                    subject_type="case",
                    subject_id=event.case_id,
                    reference=event.reference,
                    link=link,
                )

    @event_handler("cases", CaseStageChanged)
    def handle_case_stage_changed(self, envelope: EventEnvelope, event: CaseStageChanged) -> None:
        """The client office's users, when the case needs them to act (a red stage)."""
        if not event.client_must_act:
            return
        dispatch = self._dispatch(envelope)
        lab = dispatch.offices(event.lab_office_id).get(event.lab_office_id)
        lab_name = office_name(lab, "The lab")
        label = STAGE_LABELS.get(CaseStage(event.stage), event.stage.value)
        mail = Mail(
            subject=f"Case {event.reference} needs your action",
            heading=f"Case {event.reference} needs your action",
            paragraphs=[
                f"{lab_name} moved case {event.reference} to \u201c{label}\u201d. "
                "The case waits for you: open it to see what is needed."
            ],
            details=[("Case", event.reference), ("Stage", label)],
            action_label="Open the case",
            action_url=dispatch.link(f"/cases/{event.case_id}"),
        )
        dispatch.to_office(
            event.client_office_id,
            mail,
            category=Category.cases,
            kind="case_needs_action",
            title=f"Case {event.reference} needs your action: {label}",
            subject_type="case",
            subject_id=event.case_id,
            reference=event.reference,
            sender_name=lab_name,
            reply_to=lab.email if lab is not None else None,
        )

    @event_handler("cases", PlanningBooked)
    def handle_planning_booked(self, envelope: EventEnvelope, event: PlanningBooked) -> None:
        """Both offices' users, with the calendar file attached."""
        ics = self.cases_rpc.render_booking_ics(
            caller=_caller(event.client_office_id), case_id=str(event.case_id)
        )
        attachment = (
            str(ics.get("filename") or f"{event.reference}-planning.ics"),
            "text/calendar",
            str(ics["content"]).encode("utf-8"),
        )
        dispatch = self._dispatch(envelope)
        offices = dispatch.offices(event.client_office_id, event.lab_office_id)
        client, lab = offices.get(event.client_office_id), offices.get(event.lab_office_id)
        verb = "rescheduled" if event.rescheduled else "booked"
        link = dispatch.link(f"/cases/{event.case_id}")
        for office_id, me, other in (
            (event.client_office_id, client, lab),
            (event.lab_office_id, lab, client),
        ):
            zone = me.time_zone if me is not None else event.time_zone
            other_name = office_name(other)
            mail = Mail(
                subject=f"Planning session {verb} for case {event.reference}",
                heading=f"Planning session {verb}",
                paragraphs=[
                    f"The planning session for case {event.reference} with {other_name} "
                    f"is {verb}. The calendar file is attached."
                ],
                details=[
                    ("Case", event.reference),
                    ("Starts", when(event.start, zone)),
                    ("Ends", when(event.end, zone)),
                ],
                action_label="Open the case",
                action_url=link,
            )
            dispatch.to_office(
                office_id,
                mail,
                category=Category.cases,
                kind="planning_booked",
                title=f"Planning session {verb} for case {event.reference}",
                subject_type="case",
                subject_id=event.case_id,
                reference=event.reference,
                sender_name=other_name,
                reply_to=other.email if other is not None else None,
                attachments=[attachment],
            )

    @event_handler("cases", CaseShipped)
    def handle_case_shipped(self, envelope: EventEnvelope, event: CaseShipped) -> None:
        """The client office's users: the case is on its way, with the tracking link."""
        dispatch = self._dispatch(envelope)
        lab = dispatch.offices(event.lab_office_id).get(event.lab_office_id)
        lab_name = office_name(lab, "The lab")
        mail = Mail(
            subject=f"Case {event.reference} has shipped",
            heading=f"Case {event.reference} is on its way",
            paragraphs=[f"{lab_name} shipped case {event.reference}."],
            details=[
                ("Case", event.reference),
                ("Carrier", event.carrier),
                ("Tracking number", event.tracking_number),
            ],
            action_label="Track the parcel" if event.tracking_url else "Open the case",
            action_url=event.tracking_url or dispatch.link(f"/cases/{event.case_id}"),
            footnote=f"The case in Bridgework: {dispatch.link(f'/cases/{event.case_id}')}",
        )
        dispatch.to_office(
            event.client_office_id,
            mail,
            category=Category.cases,
            kind="case_shipped",
            title=f"Case {event.reference} shipped ({event.carrier})",
            subject_type="case",
            subject_id=event.case_id,
            reference=event.reference,
            link=dispatch.link(f"/cases/{event.case_id}"),
            sender_name=lab_name,
            reply_to=lab.email if lab is not None else None,
        )
