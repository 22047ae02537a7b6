"""WCAG 2.2 reflow (1.4.10): at 320 CSS pixels wide no page of the demo scrolls sideways;
wide tables scroll inside their own keyboard-reachable region instead (issue 11 item 6)."""

from __future__ import annotations

from playwright.sync_api import Page, ViewportSize
from sqlalchemy import Engine

from app.demo import DEMO_PASSWORD, seed
from notifications.policy import Policies
from services.journeys import JourneyService
from tests.browser.support import check_page, sign_in

NARROW: ViewportSize = {"width": 320, "height": 800}
# Per demo user, the pages they work in (a link text opens the first child or meeting).
PAGES = {
    "sw.north": ["/my-work", "/children", "child", "/notifications", "/account"],
    "tm.north": ["/my-work"],
    "panel.admin": ["/panel", "meeting", "/panel/tracker", "/panel/actions", "/panel/reports"],
    "director": ["/director", "/director/breaches"],
}


def _sideways(page: Page) -> int:
    """How far the page's body scrolls sideways, in CSS pixels."""
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _open(page: Page, where: str) -> None:
    if where == "child":
        page.goto("/children")
        page.locator("#children tbody a").first.click()
    elif where == "meeting":
        page.goto("/panel")
        page.locator("table a[href^='/panel/meetings/']").first.click()
    else:
        page.goto(where)


def test_no_page_of_the_demo_scrolls_sideways_at_320_pixels(
    page: Page, engine: Engine, journey_service: JourneyService, policies: Policies
) -> None:
    assert seed(engine, journey_service, policies=policies)
    page.set_viewport_size(NARROW)
    wide: dict[str, int] = {}
    for user, wheres in PAGES.items():
        page.context.clear_cookies()
        sign_in(page, user, DEMO_PASSWORD)
        for where in wheres:
            _open(page, where)
            # axe at this width too: a table that scrolls must be reachable by keyboard.
            check_page(page, f"narrow-{user}-{where.strip('/').replace('/', '-')}")
            if (by := _sideways(page)) > 0:
                wide[page.url] = by
    assert wide == {}
