"""What a referral says (receiver, providers, patient, procedures, teeth), checked all at once.

A draft may leave anything out, but what it does say must make sense; sending
needs everything required. Every problem found becomes one InvalidInput
naming each field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from referrals.models import Procedure, Referral
from shared.contracts import Caller
from shared.contracts.identity import OfficeProfile
from shared.contracts.referrals import ContactMethod, PatientIn, ReferralIn
from shared.directory import Directory
from shared.teeth import ALL_TEETH, Notation, UnknownTooth, to_fdi
from shared.validation import FieldError, invalid

_TOOTH_ORDER = {code: i for i, code in enumerate(ALL_TEETH)}


@dataclass(frozen=True)
class Context:
    """What writing a referral needs besides the database: offices, and how to read phones."""

    directory: Directory
    phone_region: str = "US"


class _Errors(list[FieldError]):
    def add(self, field: str, message: str) -> None:
        self.append({"field": field, "message": message})


def apply(
    session: Session,
    *,
    referral: Referral,
    who: Caller,
    cmd: ReferralIn,
    ctx: Context,
    complete: bool,
) -> None:
    """Write ``cmd`` into ``referral``; InvalidInput naming every field at fault.

    ``complete``: the referral is being sent, so required fields must be there.
    """
    offices = ctx.directory.profiles([who.office_id, cmd.receiver_office_id])
    errors = _Errors()
    sender = offices.get(who.office_id)
    if sender is None:
        errors.add("caller", "Your office is not known to the directory.")
    receiver = _check_receiver(cmd, who, offices, errors, complete=complete)
    referring = _check_providers(cmd, sender, receiver, errors, complete=complete)
    procedures = _check_procedures(session, cmd, receiver, errors)
    patient = _check_patient(cmd.patient, errors, region=ctx.phone_region, complete=complete)
    notation = cmd.notation or (sender.notation if sender else Notation.UNIVERSAL)
    teeth = _check_teeth(cmd.teeth, notation, errors)
    if complete:
        _check_contact_asked(cmd, receiver, errors)
    if errors:
        raise invalid(errors)
    assert sender is not None
    referral.sender_snapshot = sender.model_dump(mode="json")
    referral.sender_office_name = sender.name
    referral.receiver_office_id = cmd.receiver_office_id
    referral.receiver_snapshot = receiver.model_dump(mode="json") if receiver else None
    referral.receiver_office_name = receiver.name if receiver else None
    referral.referring_provider_id = cmd.referring_provider_id
    referral.referring_provider_name = referring
    referral.requested_provider_id = cmd.requested_provider_id
    referral.requested_provider_name = _provider_name(receiver, cmd.requested_provider_id)
    referral.patient = patient
    referral.patient_name = " ".join(
        part for part in (patient.get("first_name"), patient.get("last_name")) if part
    )
    referral.procedure_ids = [p.id for p in procedures]
    referral.procedure_names = [p.name for p in procedures]
    referral.other_procedures = cmd.other_procedures or None
    referral.urgency = cmd.urgency.value
    referral.teeth = teeth
    referral.case_notes = cmd.case_notes or None


def stored_input(referral: Referral) -> ReferralIn:
    """What a draft says, as the input that would write it again (teeth in FDI)."""
    return ReferralIn(
        receiver_office_id=referral.receiver_office_id,
        requested_provider_id=referral.requested_provider_id,
        referring_provider_id=referral.referring_provider_id,
        patient=PatientIn.model_validate(referral.patient or {}),
        procedure_ids=list(referral.procedure_ids or []),
        other_procedures=referral.other_procedures,
        urgency=referral.urgency,
        teeth=list(referral.teeth or []),
        notation=Notation.FDI,
        case_notes=referral.case_notes,
    )


def _check_receiver(
    cmd: ReferralIn,
    who: Caller,
    offices: dict[UUID, OfficeProfile],
    errors: _Errors,
    *,
    complete: bool,
) -> OfficeProfile | None:
    field = "receiver_office_id"
    if cmd.receiver_office_id is None:
        if complete:
            errors.add(field, "Choose the office to refer the patient to.")
        return None
    receiver = offices.get(cmd.receiver_office_id)
    if receiver is None:
        errors.add(field, "No such office.")
    elif receiver.id == who.office_id:
        errors.add(field, "Choose another office than your own.")
    elif not receiver.accepts_referrals:
        errors.add(field, "This office does not accept referrals.")
    else:
        return receiver
    return None


def check_receiver(directory: Directory, *, office_id: UUID, not_ids: set[UUID]) -> OfficeProfile:
    """The office to forward to; InvalidInput naming ``forward_to_office_id`` otherwise."""
    receiver = directory.profiles([office_id]).get(office_id)
    message = None
    if receiver is None:
        message = "No such office."
    elif receiver.id in not_ids:
        message = "Choose an office other than the two on this referral."
    elif not receiver.accepts_referrals:
        message = "This office does not accept referrals."
    if message:
        raise invalid([{"field": "forward_to_office_id", "message": message}])
    assert receiver is not None
    return receiver


def _provider_name(office: OfficeProfile | None, provider_id: UUID | None) -> str | None:
    if office is None or provider_id is None:
        return None
    return next((p.display_name for p in office.providers if p.id == provider_id), None)


def _check_providers(
    cmd: ReferralIn,
    sender: OfficeProfile | None,
    receiver: OfficeProfile | None,
    errors: _Errors,
    *,
    complete: bool,
) -> str | None:
    referring = _provider_name(sender, cmd.referring_provider_id)
    if cmd.referring_provider_id is None:
        if complete:
            errors.add("referring_provider_id", "Choose the referring provider.")
    elif referring is None and sender is not None:
        errors.add("referring_provider_id", "Choose one of your office's providers.")
    requested = cmd.requested_provider_id
    if requested is not None and _provider_name(receiver, requested) is None:
        errors.add("requested_provider_id", "Choose a provider of the receiving office.")
    return referring


def _check_procedures(
    session: Session, cmd: ReferralIn, receiver: OfficeProfile | None, errors: _Errors
) -> list[Procedure]:
    ids = list(dict.fromkeys(cmd.procedure_ids))
    if not ids:
        return []
    found: dict[UUID, Procedure] = {}
    if receiver is not None:
        rows = session.scalars(
            select(Procedure).where(
                Procedure.id.in_(ids),
                Procedure.office_id == receiver.id,
                Procedure.removed_at.is_(None),
            )
        )
        found = {p.id: p for p in rows}
    for i, pid in enumerate(cmd.procedure_ids):
        if pid not in found:
            errors.add(f"procedure_ids.{i}", "Not on the receiving office's procedure list.")
    return [found[pid] for pid in ids if pid in found]


def _check_patient(
    patient: PatientIn, errors: _Errors, *, region: str, complete: bool
) -> dict[str, Any]:
    data = patient.model_dump(mode="json")
    if complete:
        for name in ("first_name", "last_name", "date_of_birth", "sex"):
            if not data.get(name):
                errors.add(f"patient.{name}", "Required to send the referral.")
    if patient.date_of_birth is not None and patient.date_of_birth > date.today():
        errors.add("patient.date_of_birth", "The date of birth is in the future.")
    phones = []
    for i, phone in enumerate(patient.phones):
        try:
            number = phonenumbers.parse(phone, region)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            errors.add(f"patient.phones.{i}", f"{phone!r} is not a valid phone number.")
            continue
        phones.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    data["phones"] = phones
    if patient.email:
        try:
            data["email"] = validate_email(patient.email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors.add("patient.email", str(exc))
    wants = patient.preferred_contact
    if wants in (ContactMethod.phone, ContactMethod.text) and not patient.phones:
        errors.add("patient.preferred_contact", "Add a phone number to be reached by phone.")
    if wants == ContactMethod.email and not patient.email:
        errors.add("patient.preferred_contact", "Add an e-mail address to be reached by e-mail.")
    return data


def _check_teeth(teeth: list[str], notation: Notation, errors: _Errors) -> list[str]:
    codes = []
    for i, tooth in enumerate(teeth):
        try:
            codes.append(to_fdi(tooth, notation))
        except UnknownTooth:
            errors.add(f"teeth.{i}", f"{tooth!r} is not a tooth in {notation.value} notation.")
    return sorted(set(codes), key=_TOOTH_ORDER.__getitem__)


def _check_contact_asked(cmd: ReferralIn, receiver: OfficeProfile | None, errors: _Errors) -> None:
    """Offices may require the patient's preferred contact method on referrals they receive."""
    if receiver and receiver.requires_contact_method and cmd.patient.preferred_contact is None:
        errors.add(
            "patient.preferred_contact",
            f"{receiver.name or 'The receiving office'} asks for the patient's preferred "
            "contact method (phone, text or e-mail).",
        )
