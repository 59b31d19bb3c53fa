"""The notifications bell, the e-mail preferences and patient messages in the browser: an office
sees the unread count rise when another office sends it a referral, reads the feed, marks all
read; writes to the referral's patient; turns an e-mail category off (security stays on).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.support.accounts import PASSWORD, Account, Platform
from tests.support.infra import token, wait_for


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


def unread(account: Account) -> int:
    answer = account.get("/api/v1/notifications", params={"unread_only": "true"})
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["unread_count"]
    return count


def send_referral(sender: Account, receiver: Account) -> dict[str, Any]:
    provider = sender.get("/api/v1/office/providers").json()[0]["id"]
    created = sender.post(
        "/api/v1/referrals",
        json={
            "receiver_office_id": receiver.office_id,
            "referring_provider_id": provider,
            "patient": {
                "first_name": "Lena",
                "last_name": "Park",
                "date_of_birth": "1990-06-15",
                "sex": "female",
                "email": f"lena.park.{token()}@example.com",
            },
            "teeth": ["19"],
        },
    )
    assert created.status_code == 201, created.text
    referral: dict[str, Any] = created.json()
    return referral


def test_the_bell_counts_a_new_referral_and_mark_all_read_clears_it(
    new_page: Callable[[], Page], world: Platform
) -> None:
    receiver = world.office(
        name=f"Riverside Endodontics {token()}", kind="specialist", specialty="Endodontics"
    )
    sender = world.office(name=f"Maple Family Dental {token()}")
    if unread(receiver):
        assert receiver.post("/api/v1/notifications/read-all").status_code == 200

    page = new_page()
    log_in(page, receiver.email)
    bell = page.get_by_role("button", name=re.compile(r"^Notifications"))
    expect(bell).to_have_attribute("aria-label", "Notifications, 0 unread")
    expect(page.locator(".bell-count")).to_be_hidden()

    referral = send_referral(sender, receiver)
    wait_for(lambda: unread(receiver) >= 1, timeout=30, interval=0.3, what="the notification")
    page.get_by_role("link", name="Dashboard").click()  # each navigation asks again
    expect(page.locator(".bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")

    bell.click()
    panel = page.get_by_role("region", name="Notifications")
    item = panel.locator(".notification.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(referral["reference"])
    screenshot(page, "30-notifications-panel")
    panel.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".bell-count")).to_be_hidden()
    expect(bell).to_have_attribute("aria-label", "Notifications, 0 unread")
    expect(panel.locator(".notification.unread")).to_have_count(0)
    assert unread(receiver) == 0

    # The feed links to the referral, where the office writes to the patient.
    panel.get_by_role("link", name=re.compile(referral["reference"])).click()
    expect(page.get_by_role("heading", name="Lena Park")).to_be_visible()
    talk = page.locator(".patient-talk")
    talk.get_by_role("button", name="Write to the patient…").click()
    expect(talk.get_by_label("First message")).to_be_focused()
    expect(talk.get_by_label("Patient's name")).to_have_value("Lena Park")
    expect(talk.get_by_label("Patient's date of birth")).to_have_value("1990-06-15")
    talk.get_by_label("First message").fill("Please call us to book your consultation.")
    talk.get_by_role("button", name="Send to the patient").click()
    expect(talk.locator(".note.ours")).to_contain_text("Please call us to book")
    expect(talk).to_contain_text("1 active link")
    screenshot(page, "31-patient-messages")
    talk.get_by_role("button", name="Withdraw the patient's links").click()
    expect(talk.get_by_role("status").filter(has_text="withdrawn")).to_have_text(
        "1 link withdrawn."
    )
    expect(talk).to_contain_text("0 active links")
    talk.get_by_text("Access record").click()
    expect(talk.locator("details.access")).to_contain_text("has not opened a link yet")


def test_notification_preferences_in_office_settings(
    new_page: Callable[[], Page], world: Platform
) -> None:
    office = world.office(name=f"Cedar Dental {token()}")
    page = new_page()
    log_in(page, office.email)
    page.get_by_role("link", name="Office settings").click()
    prefs = page.locator("#notifications")
    expect(prefs.get_by_role("heading", name="Notification e-mails")).to_be_visible()
    security = prefs.get_by_label("Security (always on)")
    expect(security).to_be_checked()
    expect(security).to_be_disabled()
    notes = prefs.get_by_label("Notes", exact=True)
    expect(notes).to_be_checked()
    notes.uncheck()
    expect(prefs.get_by_role("status")).to_have_text("Saved: Notes e-mails off.")
    saved = office.get("/api/v1/me/notification-preferences").json()
    assert saved["notes"] is False and saved["security"] is True and saved["referrals"] is True
    screenshot(page, "32-notification-preferences")
