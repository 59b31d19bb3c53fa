"""The printable referral slip: a ReferralDetail rendered to PDF with WeasyPrint.

A pure function of its input, safe to run in a native thread (the service calls it through
eventlet's tpool, off the event loop): no I/O but reading the bundled template and the
installed system fonts. WeasyPrint may fetch nothing: only ``data:`` URLs are allowed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from weasyprint import HTML

from shared.contracts.identity import OfficeProfile
from shared.contracts.referrals import ContactMethod, ReferralDetail, Stage, TimelineEntry
from shared.teeth import ALL_TEETH, Notation, from_fdi, is_primary

try:  # WeasyPrint >= 67 fetches through a URLFetcher object
    from weasyprint.urls import URLFetcher
except ImportError:  # pragma: no cover - older WeasyPrint takes a function
    URLFetcher = None

_TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=True,  # patient details and notes are user input
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

STAGE_LABELS = {
    Stage.draft: "Draft",
    Stage.sent: "Sent",
    Stage.accepted: "Accepted",
    Stage.declined: "Declined",
    Stage.forwarded: "Forwarded",
    Stage.contacted: "Patient contacted",
    Stage.booked: "Appointment booked",
    Stage.completed: "Treatment completed",
    Stage.closed: "Closed (report sent back)",
    Stage.cancelled: "Cancelled",
}
_CONTACT_LABELS = {
    ContactMethod.phone: "Phone call",
    ContactMethod.text: "Text message",
    ContactMethod.email: "E-mail",
}
_NOTATION_LABELS = {
    Notation.FDI: "FDI / ISO 3950",
    Notation.UNIVERSAL: "Universal",
    Notation.PALMER: "Palmer",
}
# No installed font draws the Unicode dentistry brackets (U+23BE-U+23CC), so a printed Palmer
# tooth uses the box-drawing corners of the same shape (which shared.teeth also reads back).
_PALMER_PRINTABLE = str.maketrans("\u23cc\u23bf\u23cb\u23be", "\u2518\u2514\u2510\u250c")
PAGE_SIZES = ("Letter", "A4")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def render_referral_pdf(
    detail: ReferralDetail, *, time_zone: str | None = None, page_size: str = "Letter"
) -> bytes:
    """The referral slip as PDF bytes; times in ``time_zone`` (the reader's office) or UTC."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {', '.join(PAGE_SIZES)}")
    html = render_referral_html(detail, time_zone=time_zone, page_size=page_size)
    return HTML(string=html, url_fetcher=offline_url_fetcher()).write_pdf()


def render_referral_html(
    detail: ReferralDetail, *, time_zone: str | None = None, page_size: str = "Letter"
) -> str:
    """The slip's HTML (what the PDF is printed from)."""
    tz = _zone(time_zone)
    context = _slip_context(detail, tz)
    return _ENV.get_template("referral_slip.html").render(page_size=page_size, **context)


# ----------------------------------------------------------------- what the template shows


def _slip_context(detail: ReferralDetail, tz: ZoneInfo) -> dict[str, Any]:
    offices = {detail.sender.office.id: detail.sender.office}
    if detail.receiver is not None:
        offices[detail.receiver.office.id] = detail.receiver.office
    return {
        "d": detail,
        "stage": STAGE_LABELS[detail.stage],
        "urgency": detail.urgency.value.capitalize(),
        "sent_on": _day(_local(detail.sent_at, tz) if detail.sent_at else None),
        "printed_tz": tz.key,
        "appointment": _when(detail.appointment_at, tz),
        "sender": _letterhead(detail.sender.office),
        "receiver": _letterhead(detail.receiver.office) if detail.receiver else None,
        "patient": _patient(detail),
        "teeth": _teeth(detail),
        "notation": _NOTATION_LABELS[detail.notation],
        "chart": tooth_chart_svg({t.iso for t in detail.teeth}, detail.notation),
        "notes": [
            {
                "author": n.author_name or "A colleague",
                "office": _office_name(offices.get(n.office_id)),
                "at": _when(n.at, tz),
                "body": n.body,
            }
            for n in detail.notes
        ],
        "timeline": [_timeline_row(e, offices, tz) for e in detail.timeline],
    }


def _letterhead(office: OfficeProfile) -> dict[str, Any]:
    return {
        "name": _office_name(office),
        "specialty": office.specialty,
        "address": _address_lines(office.address),
        "phone": office.phone,
        "email": office.email,
    }


def _office_name(office: OfficeProfile | None) -> str:
    if office is None:
        return "another office"
    return office.name or office.email


def _address_lines(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    region = " ".join(filter(None, (address.get("region"), address.get("postal_code"))))
    city = ", ".join(filter(None, (address.get("city"), region)))
    return [line for line in (address.get("street"), city, address.get("country")) if line]


def _patient(detail: ReferralDetail) -> dict[str, Any]:
    p = detail.patient
    name = " ".join(part for part in (p.first_name, p.last_name) if part)
    return {
        "name": name or "(no name given)",
        "date_of_birth": _day(p.date_of_birth),
        "sex": p.sex.value.capitalize() if p.sex else None,
        "phones": p.phones,
        "email": p.email,
        "address": _address_lines(p.address),
        "preferred_contact": _CONTACT_LABELS[p.preferred_contact] if p.preferred_contact else None,
        "insurance_note": p.insurance_note,
    }


def _teeth(detail: ReferralDetail) -> list[dict[str, Any]]:
    show_iso = detail.notation is not Notation.FDI  # FDI labels are the ISO codes
    return [
        {
            "label": _printable(t.label),
            "iso": t.iso if show_iso else None,
            "primary": is_primary(t.iso),
        }
        for t in detail.teeth
    ]


def _timeline_row(
    entry: TimelineEntry, offices: dict[UUID, OfficeProfile], tz: ZoneInfo
) -> dict[str, Any]:
    detail = entry.reason
    if entry.stage is Stage.booked and entry.appointment_at:
        detail = f"Appointment {_when(entry.appointment_at, tz)}"
    elif entry.stage is Stage.forwarded and entry.reason is None:
        detail = "Forwarded to another office"
    return {
        "stage": STAGE_LABELS[entry.stage],
        "at": _when(entry.at, tz),
        "by": _office_name(offices.get(entry.by_office_id)),
        "detail": detail,
    }


def _printable(label: str) -> str:
    return label.translate(_PALMER_PRINTABLE)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):  # a slip in UTC beats no slip
        return ZoneInfo("UTC")


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    # The service keeps UTC; a naive time is taken as UTC, never as this machine's zone.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)


def _day(value: date | None) -> str | None:
    # "12 Apr 1988" reads the same to a US and a European reader; 04/12/1988 does not.
    # Month names are spelt here, not by strftime, so the process locale cannot change them.
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}" if value else None


def _when(value: datetime | None, tz: ZoneInfo) -> str | None:
    if value is None:
        return None
    local = _local(value, tz)
    return f"{_day(local)}, {local:%H:%M} {local.tzname()}"


# ----------------------------------------------------------------- the tooth chart


def tooth_chart_svg(selected: set[str], notation: Notation) -> Markup:
    """The 32 permanent teeth in two arches as inline SVG, ``selected`` (FDI codes) filled,
    labelled in ``notation``; seen as the dentist faces the patient (patient's right on the left).
    """
    upper = ALL_TEETH[:16]  # Universal 1-16: 18 ... 11, 21 ... 28
    lower = tuple(reversed(ALL_TEETH[16:32]))  # 48 ... 41, 31 ... 38
    side = 'font-size="11" font-weight="bold" fill="#555"'
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="370" height="156" '
        'viewBox="0 0 370 156" font-family="DejaVu Sans, sans-serif">',
        f'<text x="3" y="82" {side}>R</text><text x="357" y="82" {side}>L</text>',
        '<g font-size="8" fill="#555" text-anchor="middle"><text x="184.5" y="74">upper</text>'
        '<text x="184.5" y="90">lower</text></g>',
    ]
    # Evenly spaced along the width, curved so each arch reads as one: incisors outermost.
    for arch, molar_y, rise in ((upper, 60.0, -40.0), (lower, 96.0, 40.0)):
        for i, fdi in enumerate(arch):
            u = (i - 7.5) / 7.5
            y = molar_y + rise * (1 - u * u)
            parts.append(_tooth(fdi, 27 + i * 21, y, fdi in selected, notation))
    parts.append("</svg>")
    # Every piece above is our own markup; the only text, the labels, is escaped in _tooth.
    return Markup("".join(parts))  # noqa: S704


def _tooth(fdi: str, x: float, y: float, selected: bool, notation: Notation) -> str:
    label = escape(_printable(from_fdi(fdi, notation)))
    fill, ink = ("#1f4e79", "#ffffff") if selected else ("#ffffff", "#333333")
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9.6" fill="{fill}" stroke="#1f4e79" '
        f'stroke-width="1"/><text x="{x:.1f}" y="{y + 3:.1f}" font-size="8.5" fill="{ink}" '
        f'text-anchor="middle">{label}</text>'
    )


# ----------------------------------------------------------------- no network


def offline_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that refuses everything but ``data:`` URLs."""
    if URLFetcher is not None:
        return URLFetcher(allowed_protocols=("data",), fail_on_errors=False)
    from weasyprint import default_url_fetcher  # pragma: no cover

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        if not url.startswith("data:"):
            raise ValueError(f"the referral slip fetches nothing: {url}")
        return default_url_fetcher(url, *args, **kwargs)

    return fetch  # pragma: no cover
