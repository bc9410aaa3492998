"""Browser fixtures: Debian's Chromium driven by Playwright against the SQLite test server.

Playwright's sync API keeps an event loop running in this thread while a browser is open, so
test data that needs ``asyncio.run`` (creating users in the store) is made in a worker thread,
and the browser lives only as long as its module: later modules can use ``asyncio.run`` again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Response,
    sync_playwright,
)

from tests.leakwatch import WATCH
from tests.support import LiveServer, UserAccount, World

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TOKENWARD_TEST_ARTIFACTS") or REPOSITORY / "test-artifacts")

# Every browser test runs against the SQLite server only: the pages share the API's code paths,
# which the API tests already run on both backends.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.parametrize("server", ["sqlite"], indirect=True),
]


class BrowserWorld(World):
    """``World`` whose store writes run in a worker thread, away from Playwright's loop."""

    def user(self, name: str = "") -> UserAccount:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(super().user, name).result()


@dataclass
class Visit:
    """A browser tab for one test, and every console error or page error it has seen."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    # Status codes a test asks for on purpose (an error page); Chromium logs them as errors.
    expected_statuses: set[int] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> None:
        response = self.page.goto(self.url(path))
        assert response is not None and response.status < 400, (path, response)

    def sign_in(self, account: UserAccount) -> None:
        self.page.goto(self.url("/login/"))
        self.page.get_by_label("Email").fill(account.email)
        self.page.get_by_label("Password").fill(account.password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.url("/organizations/"))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def console_errors(self) -> list[str]:
        expected = [f"status of {status}" for status in self.expected_statuses]
        return [error for error in self.errors if not any(text in error for text in expected)]


@pytest.fixture(scope="module")
def chromium(server: LiveServer) -> Iterator[Browser]:
    """One Chromium per module; asks for ``server`` first so the server starts outside the loop."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_world(server: LiveServer) -> Iterator[BrowserWorld]:
    world = BrowserWorld(server)
    yield world
    world.close()


_TEXTUAL = ("text/", "application/json", "application/javascript", "image/svg")


def _watch_for_leaks(response: Response) -> None:
    """Every response the browser gets goes through the run-wide leak watch."""
    body = ""
    if response.headers.get("content-type", "").startswith(_TEXTUAL):
        try:
            body = response.text()
        except Error:  # a redirect or an aborted load has no body
            body = ""
    request = response.request
    WATCH.browser_response(request.method, response.url, response.status, response.headers, body)


@pytest.fixture
def visit(chromium: Browser, server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A fresh browser context (no cookies) per test; a screenshot of where it ended; and no
    console errors on any page it visited."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    current = Visit(page, server.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            current.errors.append(f"{page.url}: {message.text}")

    def on_page_error(error: Error) -> None:
        current.errors.append(f"{page.url}: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("response", _watch_for_leaks)
    yield current
    try:
        current.screenshot(request.node.name)
    finally:
        context.close()
    assert current.console_errors() == []
