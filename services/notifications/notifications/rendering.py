"""E-mail bodies: Jinja2 templates in ``notifications/templates`` (HTML and plain text).

A ``Mail`` says what a message tells (heading, paragraphs, details, one action link);
``render`` turns it into the text and HTML parts. Subjects never carry patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

_TEMPLATES = Path(__file__).parent / "templates"

_HTML = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=True,  # office names and notes are user input
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEXT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=False,  # noqa: S701 - the plain-text part; HTML has its own environment
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

PREFERENCES_NOTE = "You can choose which e-mails you receive in your notification settings."
SECURITY_NOTE = "This is a security message about your account; it is always sent."


@dataclass
class Mail:
    """One message's content, before it is addressed."""

    subject: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    action_label: str | None = None
    action_url: str | None = None
    footnote: str | None = None
    security: bool = False


def render(mail: Mail, *, sender_name: str | None = None) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``mail``."""
    context = {
        "heading": mail.heading,
        "paragraphs": mail.paragraphs,
        "details": mail.details,
        "action_label": mail.action_label or "Open in Bridgework",
        "action_url": mail.action_url,
        "footnote": mail.footnote,
        "sender_name": sender_name,
        "preferences_note": SECURITY_NOTE if mail.security else PREFERENCES_NOTE,
    }
    text = _TEXT.get_template("message.txt").render(context)
    html = _HTML.get_template("message.html").render(context)
    return text, html
