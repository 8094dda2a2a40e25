"""Driving the web app in a real browser: Debian's Chromium through Playwright.

Shared by the slow browser tests: each module makes its own ``browser`` fixture from
:func:`chromium` and imports the helpers it needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "screenshots"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's Chromium is not installed (/usr/bin/chromium): apt-get install chromium"
)


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium, for a module-scoped ``browser`` fixture."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page, with every request host and every dialog it saw."""

    def __init__(self, browser, url: str, http_credentials: dict | None = None):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.hosts: set[str] = set()
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.hosts.add(urlparse(request.url).hostname or request.url))
        self.page.on("dialog", self._dialog)
        self.url = url

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self) -> "Watched":
        self.page.goto(self.url)
        self.page.wait_for_selector("#icb-question textarea")
        return self

    def check_clean(self) -> None:
        outside = {host for host in self.hosts if host not in ("127.0.0.1",)}
        assert not outside, f"the page made requests to other hosts: {sorted(outside)}"
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"

    def close(self) -> None:
        self.context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


# -- chat ----------------------------------------------------------------------------------------

BOT = "#icb-chat [data-testid='bot']"


def bot_messages(page):
    return page.locator(BOT)


def ask(page, question: str, count: int, sources: bool = True) -> float:
    """Type and send a question; wait until answer number ``count`` is complete (and, with
    ``sources``, the sources panel filled for it). Seconds to first text."""
    page.locator("#icb-question textarea").fill(question)
    started = time.perf_counter()
    page.locator("#icb-send").click()
    page.wait_for_function(
        """([selector, count]) => {
            const bots = document.querySelectorAll(selector);
            if (bots.length < count) return false;
            const text = bots[count - 1].innerText;
            return text.length > 0 && !text.includes('Searching the documents') && !text.includes('Writing the answer');
        }""",
        arg=[BOT, count],
        polling=10,
    )
    first_text = time.perf_counter() - started
    if sources:
        page.wait_for_function(
            """() => {
                const panel = document.querySelector('#icb-sources').innerText;
                return panel.includes('Sources cited') || panel.includes('Closest passages');
            }"""
        )
    return first_text
