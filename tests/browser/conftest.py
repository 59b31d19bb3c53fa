"""The web app in a real browser: Debian's chromium driven by Playwright against the stack
started as `make run` starts it. One browser for the session; every page fails its test on a
console error or an uncaught exception unless the test says that exact error is expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.support.accounts import Platform, platform
from tests.support.stack import running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "screenshots"
#: How long a page may take to show what a test waits for (the stack runs on a busy machine).
WAIT_MS = 20_000


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the notifications service writes the e-mails it sends (no SMTP server)."""
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def world(mail_dir: Path) -> Iterator[Platform]:
    with (
        running_stack(
            # Every log-in comes from 127.0.0.1; the per-IP limit has its own service test.
            LOGIN_RATE_LIMIT="10000",
            MAIL_DIR=str(mail_dir),
            MAIL_POLL_INTERVAL="0.25",
        ) as stack,
        platform(stack) as started,
    ):
        yield started


# Per module, not per session: Playwright's sync API holds an asyncio loop running on the
# main thread until it stops, and later tests of the session call asyncio.run().
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make setup`"
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of every page a test opened."""

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        """An error the test causes on purpose (e.g. the 422 of a refused file)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.problems.append(f"console error on {page.url}: {message.text}")

        def on_page_error(error: Exception) -> None:
            self.problems.append(f"page error on {page.url}: {error}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)


@pytest.fixture
def console() -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    yield watch
    assert watch.unexpected() == [], "\n".join(watch.unexpected())


@pytest.fixture
def new_page(
    browser: Browser, world: Platform, console: ConsoleWatch
) -> Iterator[Callable[[], Page]]:
    """Pages in fresh browser contexts (no cookies shared), watched for console errors."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(
            base_url=world.stack.url,
            viewport={"width": 1180, "height": 900},
            accept_downloads=True,
            timezone_id="America/Toronto",
            locale="en-US",
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        console.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot kept as an artifact (var/ is not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
