"""Two forms the API alone had (issue 14 item 2), in a real browser: the panel administrator
names a seat's holder, and a child's social worker records the child's IRO and supervising
social worker. Each page is checked with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import Journeys, people


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def test_the_administrator_names_a_seats_holder(page: Page, make_user: UserFactory) -> None:
    people(make_user)
    deputy = make_user("deputy.chair", "service_manager")
    sign_in(page, "panel.admin")
    page.goto("/panel")
    page.get_by_role("link", name="Seats of the panel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Seats of the panel")
    check_page(page, "panel-seats")
    section = page.locator('section[id^="seat-"]').first
    seat = section.get_by_role("heading", level=2).inner_text()
    section.get_by_label(f"Who holds the seat of {seat}").select_option(str(deputy.user_id))
    section.get_by_role("button", name=f"Name the holder of the seat of {seat}").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Seat holder named")
    expect(page.locator('section[id^="seat-"]').first).to_contain_text("Held by")
    expect(page.get_by_label(f"Who holds the seat of {seat}")).to_have_value(str(deputy.user_id))
    check_page(page, "panel-seats-named")
    # Nobody chosen: an error beside the select, linked from the summary.
    page.locator('section[id^="seat-"]').first.get_by_label(
        f"Who holds the seat of {seat}"
    ).select_option("")
    page.locator('section[id^="seat-"]').first.get_by_role("button").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the person")
    check_page(page, "panel-seats-error")


def test_a_social_worker_records_the_childs_iro_and_supervising_social_worker(
    page: Page, make_user: UserFactory
) -> None:
    cast = people(make_user)
    iro = make_user("iro.one", "iro")
    supervising = make_user("ssw.south", "social_worker", team="south")
    child = Journeys(cast.sw).child()
    sign_in(page, "sw.north")
    page.goto(f"/children/{child['id']}")
    page.get_by_role("link", name=f"Who the panel invites for child {child['reference']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Who the panel invites for {child['reference']}"
    )
    check_page(page, "panel-invitees")
    page.get_by_label("Independent reviewing officer (IRO)").select_option(str(iro.user_id))
    page.get_by_label("Supervising social worker").select_option(str(supervising.user_id))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Invitees recorded")
    expect(page.get_by_label("Independent reviewing officer (IRO)")).to_have_value(str(iro.user_id))
    expect(page.get_by_label("Supervising social worker")).to_have_value(str(supervising.user_id))
    check_page(page, "panel-invitees-recorded")
