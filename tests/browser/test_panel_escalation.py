"""The panel escalates drift, in a real browser: the chair escalates a tracked child from
the meeting page (a missing reason is an error beside the field), and the service director
reads the panel's reason on the director's page and acknowledges it. Each page is checked
with axe-core."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people

REASON = "No adopters identified after nine months; family finding has stalled."


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def test_chair_escalates_drift_and_the_director_acknowledges(
    page: Page, make_user: UserFactory
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    factory = Journeys(cast.sw)
    child = factory.child(legal_status="placement_order")
    cast.sw.start(child["id"], "adoption", iso(factory.start))
    ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    reference = child["reference"]

    sign_in(page, "panel.chair")
    page.goto(f"/panel/meetings/{meeting['id']}")
    # The child is tracked in two parts; escalate from the adoption tracking one.
    part = page.locator("table", has_text="Adoption tracking")
    part.get_by_role("link", name=f"Escalate drift for {reference}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Escalate drift for {reference}")
    check_page(page, "panel-escalate")
    page.get_by_role("button", name="Escalate to the service director").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason")
    check_page(page, "panel-escalate-no-reason")
    page.get_by_label("Reason for escalating").fill(REASON)
    page.get_by_role("button", name="Escalate to the service director").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Drift escalated to the service director"
    )
    check_page(page, "panel-meeting-escalated")

    page.context.clear_cookies()
    sign_in(page, "director")
    page.goto("/director")
    rows = page.locator("#escalations-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(reference)
    expect(rows.first).to_contain_text(REASON)
    expect(rows.first).to_contain_text("Escalated by the panel")
    check_page(page, "director-panel-escalation")
    page.get_by_role("link", name=f"Acknowledge escalation of {reference}").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text(REASON)
    check_page(page, "director-acknowledge-panel-escalation")
    page.get_by_label("Comment").fill("Adoption manager widening the search this week.")
    page.get_by_role("button", name="Acknowledge escalation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Escalation acknowledged"
    )
    expect(page.locator("#escalations-table")).to_have_count(0)


def test_chair_escalates_drift_from_the_child_page_and_sees_the_banner(
    page: Page, make_user: UserFactory
) -> None:
    # The child page's form (/panel/children/{id}/escalate): back on the child page, the
    # success banner says what was done; a second escalation says it is already open.
    cast = people(make_user)
    factory = Journeys(cast.sw)
    child = factory.child(legal_status="placement_order")
    cast.sw.start(child["id"], "adoption", iso(factory.start))
    reference = child["reference"]

    sign_in(page, "panel.chair")
    page.goto(f"/children/{child['id']}")
    page.get_by_role(
        "link", name=f"Escalate drift to the service director for child {reference}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Escalate drift for {reference}")
    check_page(page, "child-escalate")
    page.get_by_label("Reason for escalating").fill(REASON)
    page.get_by_role("button", name="Escalate to the service director").click()
    expect(page).to_have_url(re.compile(rf"/children/{child['id']}\?done=escalated$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Drift escalated to the service director"
    )
    check_page(page, "child-escalated")

    page.goto(f"/panel/children/{child['id']}/escalate")
    page.get_by_label("Reason for escalating").fill(REASON)
    page.get_by_role("button", name="Escalate to the service director").click()
    expect(page.locator(".govuk-inset-text", has_text="already escalated")).to_be_visible()
    expect(page.locator(".govuk-notification-banner--success")).to_have_count(0)
