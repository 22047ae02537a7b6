"""Fixtures for browser tests: Debian's Chromium under Playwright, and a page per test.

Chromium is ``$PERMANENCE_CHROMIUM`` or ``/usr/bin/chromium`` (``apt-get install chromium``).
Without it the browser tests skip, except when ``$CI`` is set: there they fail, so that CI
can never pass by silently skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.support import CHROMIUM_ARGS, chromium_path, open_page
from tests.conftest import LiveServer


def _require_chromium() -> str:
    """The Chromium executable, or skip (fail under CI) saying how to install it."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    reason = f"Debian chromium not installed ({path} missing): apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser tests may not skip", pytrace=False)
    pytest.skip(reason)


# Package scope, not session: sync Playwright keeps its event loop registered on the test
# thread while it runs, and asyncio.run() in any later test outside tests/browser would
# then fail ("cannot be called from a running event loop"). This way Playwright stops as
# soon as the last browser test is done, and still starts only once for all of them.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, launched once for the browser tests."""
    executable = _require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), 1280x900, relative to the live server.

    ``page.goto("/sign-in")`` opens the app's sign-in page on the test's own server.
    """
    opened = open_page(browser, base_url=live_server.base_url)
    try:
        yield opened
    finally:
        opened.context.close()


@pytest.fixture
def blank_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context with no server behind it (for page.set_content)."""
    opened = open_page(browser)
    try:
        yield opened
    finally:
        opened.context.close()
