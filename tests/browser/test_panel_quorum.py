"""Quorum in a real browser (issue 14 item 4): the chair ratifies, at the next quorate
meeting, a decision recorded below quorum (a missing answer is an error beside the field);
the administrator moves a meeting to a past date through the confirm step. Each page is
checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from panels.config import load_panel
from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people, quorum_present
from tests.panels.test_panel_quorum import _attend, _decide, _items, _refer


@pytest.fixture(autouse=True)
def _sefton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "sefton")


def test_chair_ratifies_a_decision_made_below_quorum(page: Page, make_user: UserFactory) -> None:
    config = load_panel("sefton")
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=120))})
    )
    past = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()]
    first, second = past[-2], past[-1]
    journey = _refer(cast, Journeys(cast.sw), "sefton", first)
    items = _items(cast, first["id"])
    _attend(cast, first["id"], [{"member_key": "chair", "status": "present", "person": "Chair"}])
    decision = _decide(cast, "sefton", items[journey["id"]], "Agreed below quorum")
    assert decision["quorate"] is False
    _attend(cast, second["id"], quorum_present(config))
    reference = ok(cast.sw.get(f"/children/{decision['child_id']}"))["reference"]

    sign_in(page, "panel.chair")
    page.goto(f"/panel/meetings/{first['id']}")
    expect(page.locator("#quorum ~ p").first).to_contain_text("Service Manager")
    expect(page.get_by_text("the meeting is not quorate")).to_be_visible()
    check_page(page, "panel-meeting-not-quorate")
    page.goto(f"/panel/meetings/{second['id']}")
    expect(page.locator("#to-ratify")).to_have_text("Decisions to ratify")
    page.get_by_role("link", name=f"Ratify or not the decision for {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ratify a decision made below quorum")
    check_page(page, "panel-ratify")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select whether the panel")
    page.get_by_label("No, do not ratify it").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why the decision")
    check_page(page, "panel-ratify-no-reason")
    page.get_by_label("Yes, ratify it").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Decision ratified")
    expect(page.locator("#to-ratify")).to_have_count(0)
    check_page(page, "panel-meeting-ratified")
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "discharge_planned"


def test_admin_moves_a_meeting_to_a_past_date_through_the_confirm_step(
    page: Page, make_user: UserFactory
) -> None:
    cast = people(make_user)
    planner = ok(cast.admin.post("/panel/meetings/generate", {"start": iso(today())}))
    taken = {m["meeting_date"] for m in planner}
    upcoming = next(m for m in planner if date.fromisoformat(m["meeting_date"]) > today())
    back = today() - timedelta(days=1)
    while iso(back) in taken:
        back -= timedelta(days=1)

    sign_in(page, "panel.admin")
    page.goto(f"/panel/meetings/{upcoming['id']}/change")
    page.locator('input[name="new_date-day"]').fill(str(back.day))
    page.locator('input[name="new_date-month"]').fill(str(back.month))
    page.locator('input[name="new_date-year"]').fill(str(back.year))
    page.get_by_label("Why is the meeting moving?").fill("The panel met a day early")
    page.get_by_role("button", name="Move meeting").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The new date is in the past")
    check_page(page, "panel-move-confirm-past")
    page.get_by_label("Yes, move the meeting to this past date").check()
    page.get_by_role("button", name="Move meeting").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Meeting moved")
    assert ok(cast.admin.get(f"/panel/meetings/{upcoming['id']}"))["meeting_date"] == iso(back)
