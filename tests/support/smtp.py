"""A real SMTP server (aiosmtpd) on loopback, for tests of outgoing e-mail.

It runs in its own process (``python -m tests.support.smtp <folder> <port> [user:password]``)
so that it can be stopped and started again on the same port while the service under test
keeps running (an SMTP outage), and so that its asyncio loop never meets eventlet. Every
message it accepts is written to the folder as ``<n>.eml`` (the bytes as received) with
``<n>.json`` beside it (the envelope's recipients); ``messages()`` parses them with the
``email`` package.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


class SmtpServer:
    """Start, stop and read the messages of one aiosmtpd process."""

    def __init__(
        self,
        folder: Path,
        port: int,
        credentials: str | None = None,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        """``tls``: "starttls" (required before anything else) or "implicit" (smtps), with
        ``cert`` = (certificate, key) PEM files."""
        self.folder = folder
        self.port = port
        self.credentials = credentials
        self.tls = tls
        self.cert = cert
        self._process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15) -> None:
        args = [sys.executable, "-m", "tests.support.smtp", str(self.folder), str(self.port)]
        args.append(self.credentials or "-")
        if self.tls and self.cert:
            args += [self.tls, str(self.cert[0]), str(self.cert[1])]
        self._process = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the SMTP server exited at start")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe,
            ):
                if self.tls != "implicit":
                    probe.recv(100)  # the 220 greeting: it is serving
                return
            time.sleep(0.1)
        raise RuntimeError(f"the SMTP server did not listen on port {self.port}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"), key=lambda path: int(path.stem))

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return [parse_message(path.read_bytes()) for path in self._files()]

    def recipients(self) -> list[list[str]]:
        """The envelope recipients of every message, in the same order."""
        return [json.loads(path.with_suffix(".json").read_text()) for path in self._files()]

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """At least ``count`` messages (waiting for them), then a short settle for extras."""
        deadline = time.monotonic() + timeout
        while len(self._files()) < count:
            if time.monotonic() > deadline:
                got = [m["Subject"] for m in self.messages()]
                raise AssertionError(f"expected {count} message(s) within {timeout} s, got {got}")
            time.sleep(0.1)
        return self.messages()


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())  # type: ignore[attr-defined]


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())  # type: ignore[attr-defined]


def attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """filename -> (content type, bytes)."""
    found = {}
    for part in message.iter_attachments():
        found[str(part.get_filename())] = (
            part.get_content_type(),
            part.get_payload(decode=True),
        )
    return found


def eml_messages_to(mail_dir: Path, address: str) -> list[EmailMessage]:
    """The .eml files the notifications service wrote to ``mail_dir`` (no SMTP_URL) for
    ``address``, in the order they were queued."""
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = parse_message(path.read_bytes())
        if address.lower() in str(message["To"]).lower():
            found.append(message)
    return found


def eml_link_token(mail_dir: Path, address: str, path: str, *, after: int = 0) -> str:
    """The token of the newest ``path`` link (e.g. "/verify") e-mailed to ``address``,
    waiting until more than ``after`` such messages have arrived."""
    from tests.support.infra import wait_for

    pattern = re.compile(rf"{re.escape(path)}\?token=([A-Za-z0-9_\-.~%]+)")

    def newest() -> str | None:
        tokens = [
            match.group(1)
            for message in eml_messages_to(mail_dir, address)
            if (match := pattern.search(text_part(message)))
        ]
        return tokens[-1] if len(tokens) > after else None

    token: str = wait_for(newest, timeout=30, interval=0.2, what=f"a {path} e-mail to {address}")
    return token


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for ``host`` (an IP address) that is its own CA: (certificate, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bridgework test mail relay")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "relay.crt", folder / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A running aiosmtpd server on a free loopback port (stopped afterwards)."""
    server = SmtpServer(tmp_path / "smtp", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------- the server process


def _serve(
    folder: Path, port: int, credentials: str | None, tls: str | None, cert: list[str]
) -> None:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Keep:
        def __init__(self) -> None:
            self.count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.count += 1
            path = folder / f"{self.count}.eml"
            (folder / f"{self.count}.json").write_text(json.dumps(list(envelope.rcpt_tos)))
            partial = folder / f"{self.count}.partial"
            partial.write_bytes(envelope.original_content or envelope.content)
            partial.replace(path)
            return "250 Message accepted for delivery"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        expected = (credentials or "").split(":", 1)
        given = [
            getattr(data, "login", b"").decode(),
            getattr(data, "password", b"").decode(),
        ]
        return AuthResult(success=given == expected)

    options: dict[str, Any] = {}
    if credentials:
        # With implicit TLS aiosmtpd does not see the session as TLS and would hide AUTH:
        # the whole connection is TLS there, so the requirement is only for STARTTLS.
        options.update(
            authenticator=authenticate,
            auth_require_tls=tls == "starttls",
            auth_required=True,
        )
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert[0], cert[1])
        if tls == "implicit":
            options.update(ssl_context=context)
        else:
            options.update(tls_context=context, require_starttls=True)
    controller = Controller(Keep(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    stopping = False

    def stop(*_args: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        time.sleep(0.1)
    controller.stop()


if __name__ == "__main__":
    given = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    mode = sys.argv[4] if len(sys.argv) > 4 else None
    _serve(Path(sys.argv[1]), int(sys.argv[2]), given, mode, sys.argv[5:7])
    os._exit(0)
