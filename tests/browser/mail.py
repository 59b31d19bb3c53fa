"""The e-mails the notifications service writes as .eml files (MAIL_DIR, no SMTP_URL), read
the way a person reads them: the message to an address, and the link it carries."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

from tests.support.infra import wait_for


def messages_to(mail_dir: Path, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if address.lower() in str(message["To"]).lower():
            found.append(message)
    return found


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None, "the e-mail has no text"
    return str(part.get_content())


def link_token(mail_dir: Path, address: str, path: str, *, after: int = 0) -> str:
    """The token of the newest ``path`` link (e.g. "/verify") e-mailed to ``address``, waiting
    for a message beyond the first ``after`` ones carrying it."""
    pattern = re.compile(rf"{re.escape(path)}\?token=([A-Za-z0-9_\-.~%]+)")

    def newest() -> str | None:
        tokens = [
            match.group(1)
            for message in messages_to(mail_dir, address)
            if (match := pattern.search(_text(message)))
        ]
        return tokens[-1] if len(tokens) > after else None

    token: str = wait_for(newest, timeout=30, interval=0.25, what=f"an e-mail to {address}")
    return token
