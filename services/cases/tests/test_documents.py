"""The RX script: a PDF whose text (read back with pdftotext) says what the lab needs."""

from __future__ import annotations

import base64
import re
import subprocess
from datetime import date
from pathlib import Path

from tests.support.infra import wait_for

from .dates import today
from .support import Bridge, Office


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "rx.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return re.sub(r"[ \t]+", " ", out.stdout)


def _rx(bridge: Bridge, office: Office, case_id: str) -> tuple[str, bytes]:
    answer = bridge.render_rx(caller=office.caller, case_id=case_id)
    return answer["filename"], base64.b64decode(answer["content_base64"])


def test_the_rx_script_in_the_labs_notation(bridge: Bridge, tmp_path: Path) -> None:
    client = bridge.office(notation="fdi", name="Harbour Dental Clinic")
    lab = bridge.lab(notation="universal", name="Acme Dental Lab")
    case = bridge.new_case(
        client,
        lab,
        teeth=["36", "46"],
        patient_name="Maya Chen",
        description="Surgical guide for implants, 4.1 x 10 mm",
        due_date="2099-01-15",
    )
    filename, pdf = _rx(bridge, client, case["id"])
    assert filename == f"{case['reference']}-rx.pdf"
    assert pdf.startswith(b"%PDF")
    text = _text(pdf, tmp_path)
    assert case["reference"] in text
    assert "Maya Chen" in text
    assert "Harbour Dental Clinic" in text and "Acme Dental Lab" in text
    assert "Surgical guide for implants, 4.1 x 10 mm" in text
    # The lab reads Universal numbers, each with its ISO code.
    assert re.search(r"\b19 ISO 36\b", text) and re.search(r"\b30 ISO 46\b", text)
    assert "Teeth (Universal)" in text
    assert f"https://bridgework.test/cases/{case['id']}" in text
    assert "15 Jan 2099" in text
    assert f"{today().day} " in text  # created today
    # The lab gets the same script.
    assert _rx(bridge, lab, case["id"])[1] == pdf


def test_the_rx_script_is_kept_until_the_case_changes(bridge: Bridge, tmp_path: Path) -> None:
    client, lab = bridge.office(), bridge.lab(notation="fdi")
    case_id = bridge.new_case(client, lab, teeth=["19"])["id"]
    _name, first = _rx(bridge, client, case_id)
    rendered = bridge.sql("SELECT rendered_at FROM rx_documents WHERE case_id = %s", case_id)
    _name, again = _rx(bridge, lab, case_id)
    assert again == first
    assert bridge.sql("SELECT rendered_at FROM rx_documents WHERE case_id = %s", case_id) == (
        rendered
    )
    assert "Not estimated yet".lower() in _text(first, tmp_path).lower()

    bridge.edit_case(
        caller=client.caller,
        case_id=case_id,
        payload={"description": "Changed: a guide for 46 only", "teeth": ["30"]},
    )
    _name, edited = _rx(bridge, client, case_id)
    text = _text(edited, tmp_path)
    assert "Changed: a guide for 46 only" in text
    assert re.search(r"\b46 ISO 46\b", text) and "ISO 36" not in text
    # A new ship estimate shows too: the files arrive, the case is processed.
    bridge.upload(case_id, client)
    wait_for(
        lambda: bridge.get_case(caller=client.caller, case_id=case_id)["stage"] == "processing",
        timeout=10,
    )
    latest = bridge.move(lab, case_id, "received")["ship"]["latest"]
    _name, moved = _rx(bridge, client, case_id)
    day = date.fromisoformat(latest)
    assert f"{day.day} {day:%b} {day.year}" in _text(moved, tmp_path)
    assert bridge.sql("SELECT count(*) FROM rx_documents") == [(1,)]
