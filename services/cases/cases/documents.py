"""The RX script: a case's prescription as PDF (WeasyPrint), kept until the case changes.

``rx_content`` reads what the script shows from the case (teeth in the lab's
notation, each with its ISO code; both letterheads; dates; a QR code of the
case's link); ``render_rx_pdf`` is a pure function of that, safe to run in a
native thread (the service calls it through eventlet's tpool). WeasyPrint may
fetch nothing: only ``data:`` URLs are allowed. ``rx_pdf`` keeps the rendered
bytes per case, keyed by the case's version and ship dates, so an edit (or a
new ship estimate) renders it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from weasyprint import HTML

from cases.models import Case, RxDocument, now
from cases.shipdates import lab_zone
from shared.contracts.identity import OfficeProfile
from shared.teeth import Notation, from_fdi

try:  # WeasyPrint >= 67 fetches through a URLFetcher object
    from weasyprint.urls import URLFetcher
except ImportError:  # pragma: no cover - older WeasyPrint takes a function
    URLFetcher = None

_TEMPLATES = Path(__file__).parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=True,  # the description and names are user input
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGE_SIZES = ("Letter", "A4")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NOTATION_LABELS = {
    Notation.FDI: "FDI / ISO 3950",
    Notation.UNIVERSAL: "Universal",
    Notation.PALMER: "Palmer",
}
# No installed font draws the Unicode dentistry brackets: print the box-drawing corners instead.
_PALMER_PRINTABLE = str.maketrans("\u23cc\u23bf\u23cb\u23be", "\u2518\u2514\u2510\u250c")


def cache_key(case: Case, page_size: str) -> str:
    """What the printed script depends on beyond its version: the ship dates and the paper."""
    return f"v{case.version}|{case.ship_earliest}|{case.ship_latest}|{page_size}"


def rx_content(case: Case, *, public_url: str) -> dict[str, Any]:
    """What the RX script shows, read from the case (no I/O)."""
    lab = OfficeProfile.model_validate(case.lab_snapshot)
    client = OfficeProfile.model_validate(case.client_snapshot)
    notation = lab.notation
    link = f"{public_url}/cases/{case.id}"
    return {
        "reference": case.reference,
        "patient_name": case.patient_name,
        "description": case.description,
        "notation": _NOTATION_LABELS[notation],
        "teeth": [
            {"label": from_fdi(t, notation).translate(_PALMER_PRINTABLE), "iso": t}
            for t in case.teeth
        ],
        "client": _letterhead(client),
        "lab": _letterhead(lab),
        "created": _day(_local(case.created_at, case)),
        "due": _day(case.due_date),
        "ship": _ship(case.ship_earliest, case.ship_latest),
        "link": link,
        "qr": Markup(segno.make(link, error="m").svg_inline(scale=3)),  # noqa: S704 - our SVG
    }


def render_rx_pdf(content: dict[str, Any], *, page_size: str = "Letter") -> bytes:
    """The RX script as PDF bytes."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {', '.join(PAGE_SIZES)}")
    html = _ENV.get_template("rx_script.html").render(page_size=page_size, **content)
    return HTML(string=html, url_fetcher=offline_url_fetcher()).write_pdf()


def rx_pdf(
    session: Session,
    case: Case,
    *,
    public_url: str,
    page_size: str,
    render: Callable[..., bytes] = render_rx_pdf,
) -> bytes:
    """The case's RX script: the kept copy while the case is unchanged, else rendered anew."""
    key = cache_key(case, page_size)
    kept = session.get(RxDocument, case.id)
    if kept is not None and kept.cache_key == key:
        return kept.pdf
    pdf = render(rx_content(case, public_url=public_url), page_size=page_size)
    values = {"cache_key": key, "pdf": pdf, "rendered_at": now()}
    session.execute(
        insert(RxDocument)
        .values(case_id=case.id, **values)
        .on_conflict_do_update(index_elements=[RxDocument.case_id], set_=values)
    )
    return pdf


def _letterhead(office: OfficeProfile) -> dict[str, Any]:
    address = office.address or {}
    region = " ".join(filter(None, (address.get("region"), address.get("postal_code"))))
    city = ", ".join(filter(None, (address.get("city"), region)))
    return {
        "name": office.name or office.email,
        "address": [line for line in (address.get("street"), city, address.get("country")) if line],
        "phone": office.phone,
        "email": office.email,
    }


def _local(value: datetime, case: Case) -> date:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(lab_zone(case)).date()


def _day(value: date | None) -> str | None:
    # "12 Apr 2026" reads the same everywhere; month names are spelt here, not by the locale.
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}" if value else None


def _ship(earliest: date | None, latest: date | None) -> str | None:
    if latest is None:
        return None
    if earliest is None or earliest == latest:
        return _day(latest)
    return f"{_day(earliest)} \u2013 {_day(latest)}"


def offline_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that refuses everything but ``data:`` URLs."""
    if URLFetcher is not None:
        return URLFetcher(allowed_protocols=("data",), fail_on_errors=False)
    from weasyprint import default_url_fetcher  # pragma: no cover

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        if not url.startswith("data:"):
            raise ValueError(f"the RX script fetches nothing: {url}")
        return default_url_fetcher(url, *args, **kwargs)

    return fetch  # pragma: no cover
