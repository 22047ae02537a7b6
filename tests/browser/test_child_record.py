"""The child's record in a real browser (issue 14 item 3): the panel administrator approves
a meeting's minutes on the meeting page, and the social worker finds the panel's entry,
with its decision, reasons and action, in the "Panel record" section of the child's page,
with its downloads. Each page is checked with axe-core."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_record_support import ACTION, REASONS, decided_meeting
from tests.panel_support import ok, people


def test_approved_minutes_show_on_the_childs_page(page: Page, make_user: UserFactory) -> None:
    cast = people(make_user)
    meeting, items, _due = decided_meeting(cast)
    ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes"))

    sign_in(page, "panel.admin")
    page.goto(f"/panel/meetings/{meeting['id']}")
    page.get_by_role("button", name="Approve minutes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Minutes approved")
    expect(page.get_by_role("button", name="Reopen the minutes for a correction")).to_be_visible()
    check_page(page, "panel-meeting-minutes-approved")

    page.context.clear_cookies()
    sign_in(page, "sw.north")
    page.goto(f"/children/{items[0]['child_id']}")
    record = page.locator("#panel-record")
    expect(record.get_by_role("heading", name="Panel record")).to_be_visible()
    entry = record.locator(".app-panel-record__entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("The placement will meet the child's needs (recommended)")
    expect(entry).to_contain_text(REASONS)
    expect(entry).to_contain_text(ACTION)
    expect(entry.get_by_role("link", name="Download the entry (PDF)")).to_be_visible()
    check_page(page, "child-panel-record")
    entry.get_by_role("link", name="Long-term fostering match").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#journey-{items[0]['journey_id']}")
