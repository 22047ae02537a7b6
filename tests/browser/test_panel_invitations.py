"""Publishing an agenda in a real browser (issue 14 item 2): the panel administrator
publishes from the meeting page, the social worker sees the invitation in /notifications,
and a member sends apologies and names a representative from the invitation's page. Each
page is checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def test_admin_publishes_and_the_social_worker_sees_the_invitation(
    page: Page, make_user: UserFactory
) -> None:
    cast = people(make_user)
    planner = ok(cast.admin.post("/panel/meetings/generate", {"start": iso(today())}))
    meeting = next(
        m for m in planner if date.fromisoformat(m["meeting_date"]) > today() + timedelta(7)
    )
    factory = Journeys(cast.sw)
    child = factory.child(legal_status="placement_order")
    cast.sw.start(child["id"], "adoption", iso(factory.start))
    ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))

    sign_in(page, "panel.admin")
    page.goto(f"/panel/meetings/{meeting['id']}")
    page.get_by_role("button", name="Publish agenda").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Agenda published")
    expect(page.get_by_role("button", name="Publish again")).to_be_visible()
    check_page(page, "panel-meeting-published")

    page.context.clear_cookies()
    sign_in(page, "sw.north")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("Invitation: Wirral Multi-Agency Permanency Panel")
    expect(page.locator("main")).to_contain_text(f"child reference {child['reference']}")
    check_page(page, "notifications-invitation")

    # The chair holds the chair's seat: apologies and a representative from the invitation.
    (mine,) = [
        i
        for i in ok(cast.admin.get(f"/panel/meetings/{meeting['id']}/invitations"))
        if i["member_key"] == "chair"
    ]
    page.context.clear_cookies()
    sign_in(page, "panel.chair")
    page.goto(f"/panel/invitations/{mine['id']}")
    check_page(page, "panel-invitation")
    page.get_by_label("Note with your apologies (optional)").fill("On leave")
    page.get_by_role("button", name="Send apologies").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Apologies sent")
    page.get_by_label("Who will represent your seat").fill("Deputy Chair")
    page.get_by_role("button", name="Name representative").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Deputy Chair")
    check_page(page, "panel-invitation-represented")
