"""An office signs up and refers its first patient in the browser; the receiving office (in
another tooth notation) reads the teeth in its own notation, accepts, books and writes a note;
the sender sees the note marked "New". Refused files show their reason next to the file, and
teeth can be chosen with the keyboard alone.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import WAIT_MS, ConsoleWatch, screenshot
from tests.browser.mail import link_token
from tests.support.accounts import PASSWORD, Account, Platform, set_up_office, unique_phone
from tests.support.infra import token, wait_for

PATIENT = ("Maya", "Chen")
#: Universal 3, 14 and 30: the upper right, upper left and lower right first molars.
TEETH_FDI = ("16", "26", "46")


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), "teal").save(out, format="PNG")
    return out.getvalue()


def stl_bytes() -> bytes:
    """A binary STL tetrahedron: a crown's stand-in."""
    corners = [(0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, 0.0, 10.0)]
    faces = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
    out = bytearray(b"crown".ljust(80, b" ") + struct.pack("<I", len(faces)))
    for face in faces:
        out += struct.pack("<3f", 0.0, 0.0, 0.0)
        for corner in face:
            out += struct.pack("<3f", *corners[corner])
        out += struct.pack("<H", 0)
    return bytes(out)


def pdf_bytes() -> bytes:
    page = Image.new("RGB", (200, 280), "white")
    ImageDraw.Draw(page).rectangle((20, 20, 180, 60), fill="teal")  # a letterhead
    out = io.BytesIO()
    page.save(out, format="PDF")
    return out.getvalue()


@dataclass
class Receiver:
    account: Account
    name: str


@dataclass
class FirstReferral:
    email: str
    office_name: str
    referral_id: str
    reference: str


@pytest.fixture(scope="module")
def receiver(world: Platform, mail_dir: Path) -> Receiver:
    """An oral surgery office that charts in FDI, made over the API."""
    name = f"Lakeshore Oral Surgery {token()}"
    email = world.sign_up()["email"]
    verify_token = link_token(mail_dir, email, "/verify")
    verified = world.http.post("/api/v1/auth/verify", json={"token": verify_token})
    assert verified.status_code == 200, verified.text
    account = world.log_in(email)
    set_up_office(
        account,
        name=name,
        kind="specialist",
        specialty="Oral surgery",
        city="Toronto",
        providers=("Dr. Amara Okafor",),
        notation="fdi",
    )
    added = account.post("/api/v1/office/procedures", json={"name": "Third molar extraction"})
    assert added.status_code == 201, added.text
    return Receiver(account, name)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Refer a patient")).to_be_visible()


def tooth(page: Page, fdi: str) -> Any:
    return page.locator(f'svg.odontogram .tooth[data-tooth="{fdi}"]')


@pytest.fixture(scope="module")
def first_referral(
    browser: Browser, world: Platform, mail_dir: Path, receiver: Receiver
) -> Iterator[FirstReferral]:
    """Sign-up to the first referral sent, all in the browser, as a new office would."""
    console = ConsoleWatch()
    context = browser.new_context(base_url=world.stack.url, viewport={"width": 1180, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console.watch(page)
    email = f"front-desk-{token()}@example.com"
    office_name = f"Bright Smiles {token()}"

    # Sign-up, with the password rules ticking off as they are met.
    page.goto("/signup")
    page.get_by_label("Office e-mail").fill(email)
    page.get_by_label("Main phone number").fill(unique_phone())
    password = page.get_by_label("Password")
    password.fill("short")
    rules = page.locator(".password-rules .rule.ok")
    expect(rules).to_have_count(1)  # lower case only
    password.fill(PASSWORD)
    expect(rules).to_have_count(4)
    screenshot(page, "01-sign-up")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()

    # The link in the e-mail the notifications service sent.
    page.goto(f"/verify?token={link_token(mail_dir, email, '/verify')}")
    expect(page.get_by_role("heading", name="Your e-mail is confirmed")).to_be_visible()
    page.get_by_role("link", name="Log in").last.click()
    expect(page.get_by_label("E-mail")).to_have_value(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The one-time setup.
    expect(page.get_by_role("heading", name="Set up your office")).to_be_visible()
    page.get_by_label("Office name").fill(office_name)
    page.get_by_label("Kind of office").select_option("general_practice")
    page.get_by_label("Street").fill("120 King St W")
    page.get_by_label("City").fill("Toronto")
    page.get_by_label("Province or state").fill("ON")
    page.get_by_label("Postal code").fill("M5H 1J9")
    page.get_by_label("Time zone").select_option("America/Toronto")
    screenshot(page, "02-setup-office")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Step 2 of 4: Providers")).to_be_visible()
    page.get_by_label("Display name").fill("Dr. Grace Hopper")
    page.get_by_role("button", name="Add provider").click()
    expect(page.get_by_role("list", name="Providers")).to_contain_text("Dr. Grace Hopper")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Step 3 of 4: Tooth notation")).to_be_visible()
    expect(page.get_by_text("Used internationally")).to_be_visible()  # the FDI explanation
    page.get_by_label("Universal").check()
    screenshot(page, "03-setup-notation")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("I have read and accept").check()
    page.get_by_role("button", name="Accept and finish").click()

    # The dashboard, empty, with its lab cases block and the notifications bell.
    expect(page.get_by_role("heading", name=office_name)).to_be_visible()
    expect(page.get_by_text("No referrals sent yet.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Notifications"))).to_be_enabled()
    screenshot(page, "04-dashboard-empty")

    # Refer the patient.
    page.get_by_role("link", name="Refer a new patient").click()
    expect(page.get_by_role("heading", name="Refer a new patient")).to_be_visible()
    page.get_by_label("Find an office").fill("Lakeshore")
    page.get_by_text(receiver.name).click()
    expect(page.get_by_text(f"Referring to {receiver.name}")).to_be_visible()
    page.get_by_label("Requested provider").select_option(label="Dr. Amara Okafor")
    page.get_by_label("Third molar extraction").check()
    page.get_by_label("First name").fill(PATIENT[0])
    page.get_by_label("Last name").fill(PATIENT[1])
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Phone", exact=True).fill("+1 416 555 0199")
    page.get_by_label("Phone call").check()
    expect(page.get_by_label("Referring provider")).to_have_value(re.compile(".+"))
    page.get_by_label("Case notes").fill("Pericoronitis, lower right molar; pano attached.")
    expect(page.get_by_text("Tooth numbers typed here are not converted")).to_be_visible()
    for fdi in TEETH_FDI:
        tooth(page, fdi).click()
    expect(page.locator(".teeth-list")).to_have_text("Selected teeth (Universal): 3, 14, 30")
    page.locator("input[type=file]").set_input_files(
        [
            {"name": "pano.png", "mimeType": "image/png", "buffer": png_bytes()},
            {"name": "referral-letter.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()},
        ]
    )
    expect(page.locator(".file-row")).to_have_count(2)
    screenshot(page, "05-refer-a-patient")
    page.get_by_role("button", name="Complete and Send").click()

    expect(page.get_by_role("heading", name="Referral sent")).to_be_visible()
    reference = page.locator(".reference").inner_text()
    href = page.get_by_role("link", name="View the referral").get_attribute("href")
    assert href and href.startswith("/referrals/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as slip:
        assert slip.read(5) == b"%PDF-"
    screenshot(page, "06-referral-sent")
    context.close()
    assert console.unexpected() == [], "\n".join(console.unexpected())
    yield FirstReferral(email, office_name, href.rsplit("/", 1)[1], reference)


def test_sign_up_to_first_referral_sent_with_two_files_and_three_teeth(
    world: Platform, first_referral: FirstReferral, receiver: Receiver
) -> None:
    sender = world.log_in(first_referral.email)
    detail = sender.get(f"/api/v1/referrals/{first_referral.referral_id}").json()
    assert detail["stage"] == "sent"
    assert detail["reference"] == first_referral.reference
    assert detail["receiver"]["office"]["name"] == receiver.name
    assert detail["receiver"]["provider_name"] == "Dr. Amara Okafor"
    assert [t["label"] for t in detail["teeth"]] == ["3", "14", "30"]
    assert (detail["patient"]["first_name"], detail["patient"]["last_name"]) == PATIENT
    files = sender.get(f"/api/v1/referrals/{first_referral.referral_id}/files").json()
    assert sorted(f["original_name"] for f in files["ours"]) == ["pano.png", "referral-letter.pdf"]


def open_from_dashboard(page: Page, first_referral: FirstReferral) -> None:
    row = page.locator(f'tr[data-referral="{first_referral.referral_id}"]')
    row.get_by_role("link", name=" ".join(PATIENT)).click()
    expect(page.get_by_role("heading", name=" ".join(PATIENT))).to_be_visible()


def test_the_receiver_sees_its_notation_accepts_books_and_writes_a_note(
    new_page: Callable[[], Page], world: Platform, receiver: Receiver, first_referral: FirstReferral
) -> None:
    page = new_page()
    log_in(page, receiver.account.email)
    row = page.locator(f'tr[data-referral="{first_referral.referral_id}"]')
    expect(row).to_contain_text(first_referral.office_name)
    expect(row.locator(".badge.stage-sent")).to_have_text("Sent")
    attention = page.locator('[data-box="received"] [data-count="needs-attention"] strong')
    expect(attention).to_have_text("1")
    screenshot(page, "07-receiver-dashboard")
    open_from_dashboard(page, first_referral)

    # FDI here: the same three teeth, converted.
    expect(page.locator(".teeth-list")).to_have_text("Teeth (FDI): 16, 26, 46")
    for fdi in TEETH_FDI:
        expect(tooth(page, fdi)).to_have_class(re.compile("selected"))
        expect(tooth(page, fdi)).to_have_attribute("data-label", fdi)
    expect(page.locator(".odontogram .tooth.selected")).to_have_count(3)

    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".referral-head .badge.stage-accepted")).to_have_text("Accepted")
    page.get_by_role("button", name="Booked…").click()
    page.get_by_label("Appointment date and time").fill("2026-12-03T09:30")
    page.locator(".action-form").get_by_role("button", name="Booked").click()
    expect(page.locator(".referral-head .badge.stage-booked")).to_have_text("Booked")
    expect(page.locator(".timeline")).to_contain_text("Appointment: Dec 3, 2026")

    note = "Booked for Dec 3. Please send the latest pano."
    page.get_by_label("Write a note to the other office").fill(note)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".note.ours")).to_contain_text("Booked for Dec 3")
    screenshot(page, "08-receiver-referral")

    # Patient Files: both of the sender's files, previewed before download.
    files = wait_for(
        lambda: _ready_files(receiver.account, first_referral.referral_id),
        timeout=90,
        interval=1,
        what="both previews ready",
    )
    assert {f["original_name"] for f in files} == {"pano.png", "referral-letter.pdf"}
    page.get_by_role("tab", name="Patient Files").click()
    theirs = page.get_by_role("region", name="Sent by them")
    expect(theirs.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("region", name="Sent by us")).to_contain_text("has not attached files")
    letter = theirs.locator("tr", has_text="referral-letter.pdf")
    letter.get_by_role("button", name="Preview").click()
    dialog = page.locator("dialog.preview")
    expect(dialog.get_by_role("heading", name="referral-letter.pdf")).to_be_visible()
    image = dialog.get_by_role("img", name="First page of referral-letter.pdf")
    expect(image).to_be_visible()
    wait_for(
        lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"),
        timeout=10,
        what="the preview image drawn",
    )
    screenshot(page, "09-file-preview")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)


def _ready_files(account: Account, referral_id: str) -> list[dict[str, Any]] | None:
    theirs = account.get(f"/api/v1/referrals/{referral_id}/files").json()["theirs"]
    ready = len(theirs) == 2 and all(f["preview_state"] == "ready" for f in theirs)
    return theirs if ready else None


def test_the_sender_sees_the_new_note(
    new_page: Callable[[], Page], first_referral: FirstReferral
) -> None:
    page = new_page()
    log_in(page, first_referral.email)
    row = page.locator(f'tr[data-referral="{first_referral.referral_id}"]')
    expect(row.locator(".badge.new")).to_have_text("New")
    expect(row.locator(".badge.stage-booked")).to_have_text("Booked")
    expect(page.locator('[data-box="sent"] [data-count="unread-notes"] strong')).to_have_text("1")
    screenshot(page, "10-sender-dashboard-new-note")
    open_from_dashboard(page, first_referral)
    note = page.locator(".note.theirs")
    expect(note).to_contain_text("Please send the latest pano.")
    expect(note.locator(".badge.new")).to_have_text("New")
    # Read once shown: back on the dashboard the badge has gone.
    page.get_by_role("link", name="Dashboard").click()
    row = page.locator(f'tr[data-referral="{first_referral.referral_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".badge.new")).to_have_count(0)


def test_a_refused_file_shows_its_reason_next_to_it(
    new_page: Callable[[], Page], console: ConsoleWatch, first_referral: FirstReferral
) -> None:
    console.expect(r"status of 422")  # the browser logs the refused upload's answer
    page = new_page()
    log_in(page, first_referral.email)
    page.goto(f"/referrals/{first_referral.referral_id}#files")
    expect(page.get_by_role("tab", name="Patient Files")).to_have_attribute("aria-selected", "true")
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
    page.locator("input[type=file]").set_input_files(
        [
            {"name": "lab report.pdf", "mimeType": "application/pdf", "buffer": html},
            {"name": "notes.docx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04"},
            {"name": "crown.stl", "mimeType": "model/stl", "buffer": stl_bytes()},
        ]
    )
    # Refused here before any upload: a type the API never takes.
    docx = page.locator('.file-row[data-file="notes.docx"]')
    expect(docx.locator(".file-error")).to_contain_text("cannot be attached")
    page.get_by_role("button", name="Attach the files").click()
    refused = page.locator('.file-row[data-file="lab report.pdf"]')
    expect(refused.locator(".file-error")).to_be_visible()
    expect(refused.locator(".file-error")).to_contain_text(re.compile("lab report.pdf|PDF", re.I))
    expect(refused.locator(".file-status")).to_have_text("Not attached")
    expect(page.get_by_role("alert").filter(has_text="could not be attached")).to_be_visible()
    # The good file of the three went through.
    expect(page.locator('.file-row[data-file="crown.stl"] .file-status')).to_have_text("Attached")
    screenshot(page, "11-refused-file")

    # The model is listed with the others, and turns in 3-D in its preview.
    page.reload()
    ours = page.get_by_role("region", name="Sent by us")
    ours.locator("tr", has_text="crown.stl").get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Turn the model in 3-D").click()
    model = page.get_by_role("img", name=re.compile("3-D model crown.stl"))
    expect(model).to_be_focused()
    page.keyboard.press("ArrowLeft")
    drawn = model.evaluate(
        """canvas => {
            const context = canvas.getContext("2d");
            const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
            let shaded = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] !== 0xf4) shaded++;
            return shaded;
        }"""
    )
    assert drawn > 1000, "the model is drawn on the canvas"
    screenshot(page, "11b-stl-model")


def test_teeth_are_chosen_with_the_keyboard_alone(
    new_page: Callable[[], Page], first_referral: FirstReferral
) -> None:
    page = new_page()
    log_in(page, first_referral.email)
    page.get_by_role("link", name="Refer a patient").click()
    expect(page.get_by_role("heading", name="Refer a new patient")).to_be_visible()
    page.get_by_label("Case notes").focus()
    page.keyboard.press("Tab")  # into the chart: the first tooth (Universal 1)
    focused = "document.activeElement.dataset.tooth"
    assert page.evaluate(focused) == "18"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == "16"
    page.keyboard.press("Space")
    expect(tooth(page, "16")).to_have_attribute("aria-checked", "true")
    for _ in range(3):  # upper primary, lower primary, lower permanent
        page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == "45"
    page.keyboard.press("Enter")
    expect(page.locator(".teeth-list")).to_have_text("Selected teeth (Universal): 3, 29")
    page.keyboard.press("End")
    assert page.evaluate(focused) == "38"
    page.keyboard.press("Space")
    expect(page.locator(".teeth-list")).to_have_text("Selected teeth (Universal): 3, 17, 29")
    page.keyboard.press("Space")  # and off again
    expect(tooth(page, "38")).to_have_attribute("aria-checked", "false")
    expect(page.locator(".teeth-list")).to_have_text("Selected teeth (Universal): 3, 29")
    # One tab stop for the whole chart: Tab leaves it.
    page.keyboard.press("Tab")
    assert page.evaluate(focused) is None
    # A tablet held upright: everything fits the width.
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "12-keyboard-teeth-tablet")


def test_what_the_api_refuses_is_shown_next_to_its_field(
    new_page: Callable[[], Page],
    console: ConsoleWatch,
    receiver: Receiver,
    first_referral: FirstReferral,
) -> None:
    console.expect(r"status of 422")  # the refused send
    page = new_page()
    log_in(page, first_referral.email)
    page.get_by_role("link", name="Refer a patient").click()
    page.get_by_label("Find an office").fill("Lakeshore")
    page.get_by_text(receiver.name).click()
    page.get_by_label("Last name").fill("Okoye")
    page.get_by_role("button", name="Complete and Send").click()
    for name in ("first_name", "date_of_birth", "sex"):
        error = page.locator(f'[data-field="patient.{name}"] .field-error')
        expect(error).to_have_text("Required to send the referral.")
    expect(page.locator('[data-field="patient.last_name"] .field-error')).to_be_hidden()
    expect(page.get_by_label("First name")).to_be_focused()
    expect(page.get_by_label("First name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Saved as a draft")).to_be_visible()
    screenshot(page, "13-refused-fields")

    # The draft waits in the sent box, and opens where it was left.
    page.get_by_role("link", name="Dashboard").click()
    draft = page.locator("tr", has_text="Okoye")
    expect(draft.locator(".badge.stage-draft")).to_have_text("Draft")
    draft.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Finish the referral")).to_be_visible()
    expect(page.get_by_label("Last name")).to_have_value("Okoye")
    expect(page.get_by_text(f"Referring to {receiver.name}")).to_be_visible()


def test_log_in_and_links_that_fail_say_so_in_plain_words(
    new_page: Callable[[], Page], console: ConsoleWatch, first_referral: FirstReferral
) -> None:
    console.expect(r"status of 401")  # the wrong password
    console.expect(r"status of 422")  # the unknown link
    page = new_page()
    page.goto("/dashboard")  # signed out: sent to log in, and back after
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
    page.get_by_label("E-mail").fill(first_referral.email)
    page.get_by_label("Password").fill("Not-The-Password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("The e-mail or the password is not right")
    page.goto("/verify?token=this-is-not-a-real-token")
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    page.goto("/reset-password")
    page.get_by_label("E-mail").fill(first_referral.email)
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("status").filter(has_text="reset link is on its way")).to_be_visible()


def test_office_settings_show_an_api_clients_secret_once(
    new_page: Callable[[], Page], first_referral: FirstReferral
) -> None:
    page = new_page()
    log_in(page, first_referral.email)
    page.get_by_role("link", name="Office settings").click()
    expect(page.get_by_role("heading", name="Office settings")).to_be_visible()
    expect(page.get_by_label("Office name")).to_have_value(first_referral.office_name)
    expect(page.locator("#providers")).to_contain_text("Dr. Grace Hopper")
    expect(page.locator("#users")).to_contain_text(first_referral.email)
    page.locator("#api-clients").get_by_label("Name").fill("Front desk PMS")
    page.get_by_role("button", name="Create API client").click()
    secret = page.locator(".client-secret")
    expect(secret).to_have_text(re.compile(r"\S{16,}"))
    screenshot(page, "14-office-settings")
    page.get_by_role("button", name="I have stored it").click()
    expect(page.locator("#api-clients tbody")).to_contain_text("Front desk PMS")
    expect(page.locator(".client-secret")).to_have_count(0)


def test_the_referral_lists(new_page: Callable[[], Page], first_referral: FirstReferral) -> None:
    page = new_page()
    log_in(page, first_referral.email)
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect(page.get_by_role("heading", name="Referrals", exact=True)).to_be_visible()
    page.get_by_role("link", name="Sent", exact=True).click()
    row = page.locator(f'tr[data-referral="{first_referral.referral_id}"]')
    expect(row).to_contain_text(" ".join(PATIENT))
    page.get_by_label("Patient name or reference").fill(first_referral.reference)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot(page, "15-referral-list")


def test_a_staff_invitation_is_accepted_and_a_forgotten_password_reset(
    new_page: Callable[[], Page], mail_dir: Path, first_referral: FirstReferral
) -> None:
    staff_email = f"coordinator-{token()}@example.com"
    admin = new_page()
    log_in(admin, first_referral.email)
    admin.get_by_role("link", name="Office settings").click()
    users = admin.locator("#users")
    users.get_by_label("E-mail").fill(staff_email)
    users.get_by_role("button", name="Send the invitation").click()
    expect(users.get_by_role("status")).to_have_text(f"Invitation sent to {staff_email}.")

    page = new_page()
    page.goto(f"/invitation?token={link_token(mail_dir, staff_email, '/invitation')}")
    expect(page.get_by_role("heading", name="Join your team")).to_be_visible()
    expect(page.get_by_text(f"{first_referral.office_name} invites {staff_email}")).to_be_visible()
    page.get_by_label("Your name").fill("Jordan Patel")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("status").filter(has_text="Invitation accepted")).to_be_visible()
    screenshot(page, "16-invitation-accepted")
    log_in(page, staff_email)
    expect(page.get_by_role("heading", name=first_referral.office_name)).to_be_visible()

    # Forgotten: a reset link by e-mail, a new password, and the old one no longer works.
    reset = new_page()
    reset.goto("/reset-password")
    reset.get_by_label("E-mail").fill(staff_email)
    reset.get_by_role("button", name="Send the reset link").click()
    reset.goto(f"/reset-password?token={link_token(mail_dir, staff_email, '/reset-password')}")
    expect(reset.get_by_role("heading", name="Choose a new password")).to_be_visible()
    reset.get_by_label("New password").fill("Fresh-Crown-2027")
    reset.get_by_role("button", name="Set the new password").click()
    expect(reset.get_by_text("Your password is changed")).to_be_visible()
    log_in(reset, staff_email, "Fresh-Crown-2027")


def test_an_expired_verification_link_sends_a_fresh_one(
    new_page: Callable[[], Page], console: ConsoleWatch, world: Platform, mail_dir: Path
) -> None:
    console.expect(r"status of 410")  # the expired link
    email = world.sign_up()["email"]
    stale = link_token(mail_dir, email, "/verify")
    # The link's time runs out (the e-mail sat unread).
    engine = sqlalchemy.create_engine(world.stack.db_urls["identity"])
    try:
        with engine.begin() as db:
            db.execute(
                sqlalchemy.text(
                    "UPDATE links SET expires_at = now() - interval '1 minute' "
                    "WHERE user_id = (SELECT id FROM users WHERE email = :email)"
                ),
                {"email": email},
            )
    finally:
        engine.dispose()
    page = new_page()
    page.goto(f"/verify?token={stale}")
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("status").filter(has_text="A new link is on its way")).to_be_visible()
    screenshot(page, "17-expired-link")
    page.goto(f"/verify?token={link_token(mail_dir, email, '/verify', after=1)}")
    expect(page.get_by_role("heading", name="Your e-mail is confirmed")).to_be_visible()


def test_declining_needs_a_reason_said_next_to_its_field(
    new_page: Callable[[], Page],
    console: ConsoleWatch,
    world: Platform,
    receiver: Receiver,
    first_referral: FirstReferral,
) -> None:
    console.expect(r"status of 422")  # declined without a reason
    sender = world.log_in(first_referral.email)
    provider = sender.get("/api/v1/office/providers").json()[0]["id"]
    created = sender.post(
        "/api/v1/referrals",
        json={
            "receiver_office_id": receiver.account.office_id,
            "referring_provider_id": provider,
            "patient": {
                "first_name": "Idris",
                "last_name": "Bello",
                "date_of_birth": "1975-02-03",
                "sex": "male",
            },
            "teeth": ["32"],
        },
    )
    assert created.status_code == 201, created.text
    page = new_page()
    log_in(page, receiver.account.email)
    page.goto(f"/referrals/{created.json()['id']}")
    expect(page.locator(".teeth-list")).to_have_text("Teeth (FDI): 48")
    page.get_by_role("button", name="Decline…").click()
    form = page.locator(".action-form")
    form.get_by_role("button", name="Decline").click()
    expect(form.locator('[data-field="reason"] .field-error')).to_be_visible()
    form.get_by_label("Reason").fill("We do not treat patients under general anaesthesia.")
    form.get_by_role("button", name="Decline").click()
    expect(page.locator(".referral-head .badge.stage-declined")).to_have_text("Declined")
    expect(page.locator(".timeline")).to_contain_text("general anaesthesia")
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
