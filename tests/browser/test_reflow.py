"""WCAG 2.2 reflow (1.4.10): at 320 CSS pixels wide no page's body scrolls sideways; wide
tables scroll inside their own region, which says so (issue 11 item 6)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, ViewportSize
from sqlalchemy import Engine

from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import held_meeting_with_referrals, ok, people

NARROW: ViewportSize = {"width": 320, "height": 800}


def _sideways(page: Page) -> int:
    """How far the page's body scrolls sideways, in CSS pixels."""
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_no_page_scrolls_sideways_at_320_pixels(
    page: Page, make_user: UserFactory, engine: Engine, policies: Policies
) -> None:
    narrow = page
    narrow.set_viewport_size(NARROW)
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast)
    mid = ready.meeting["id"]
    ok(cast.admin.post(f"/panel/meetings/{mid}/agenda", {}))
    child = cast.sw.create_child(
        "C-WIDE", looked_after_since=(today() - timedelta(days=90)).isoformat()
    )
    cast.sw.start(child["id"], "permanence_planning")
    sweep(engine, policies, today())
    pages = {
        "sw.north": ["/my-work", "/children", f"/children/{child['id']}", "/notifications"],
        "panel.admin": ["/panel", f"/panel/meetings/{mid}", "/panel/tracker", "/panel/actions"],
        "director": ["/director", "/director/breaches"],
    }
    wide: dict[str, int] = {}
    for user, paths in pages.items():
        narrow.context.clear_cookies()
        sign_in(narrow, user)
        for path in paths:
            narrow.goto(path)
            # axe at this width too: a table that scrolls must be reachable by keyboard.
            check_page(narrow, f"narrow-{user}{path.replace('/', '-')}")
            if (by := _sideways(narrow)) > 0:
                wide[path] = by
    assert wide == {}
