"""The browser harness itself: Chromium starts, pages load, and the axe gate can fail."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.support import check_page, screenshots_dir

# The app's own content security policy (app/web/security.py): axe must run under it.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'"
)


def _html(body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="{_CSP}">
    <title>Harness check</title>
  </head>
  <body>
    <main>
      <h1>Harness check</h1>
      {body}
    </main>
  </body>
</html>"""


ACCESSIBLE = _html(
    """<p>A plain page.</p>
      <form action="#">
        <label for="name">Your name</label>
        <input id="name" name="name" type="text" autocomplete="name">
        <button type="submit">Continue</button>
      </form>"""
)
# An image with no text alternative: axe's image-alt rule, impact critical.
IMAGE_WITHOUT_ALT = _html('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')


def test_an_accessible_page_passes_and_is_screenshotted(blank_page: Page) -> None:
    blank_page.set_content(ACCESSIBLE)
    leftovers = check_page(blank_page, "harness-accessible")
    assert all(v["impact"] in ("moderate", "minor") for v in leftovers)
    shot = screenshots_dir() / "harness-accessible.png"
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_critical_violation_fails_the_check(blank_page: Page) -> None:
    blank_page.set_content(IMAGE_WITHOUT_ALT)
    with pytest.raises(AssertionError, match=r"image-alt \[critical\]") as failure:
        check_page(blank_page, "harness-image-without-alt")
    assert "img" in str(failure.value)


def test_the_page_fixture_browses_the_live_server(page: Page) -> None:
    response = page.goto("/healthz")
    assert response is not None
    assert response.ok, response.status
    assert page.url.startswith("http://127.0.0.1:")
