"""The panel in a real browser: the administrator plans, builds the agenda and records
attendance; the chair runs the meeting and records the panel's recommendation; the ADM
records the approval; the administrator drafts and approves the minutes; a social worker
refers a case and completes its checklist; the tracker is filtered. Every distinct page is
screenshotted and checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Page, expect

from panels.config import load_panel
from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.panel_support import Journeys, held_meeting_with_referrals, ok, people

CONFIG = load_panel("leicestershire")


def _checklist_keys() -> list[str]:
    checklist = CONFIG.checklist("A")
    assert checklist is not None
    return [i.key for i in checklist.items]


def _long_date(iso_date: str) -> str:
    d = date.fromisoformat(iso_date)
    return f"{d.day} {d:%B %Y}"


def test_admin_chair_and_adm_run_a_meeting(page: Page, make_user: UserFactory) -> None:
    cast = people(make_user)
    meeting = held_meeting_with_referrals(cast).meeting
    when = _long_date(meeting["meeting_date"])

    # -- the panel administrator: planner -> meeting -> build agenda -> attendance ----------
    sign_in(page, "panel.admin")
    page.get_by_role("link", name="Panel", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Panel meetings")
    check_page(page, "panel-planner")
    page.get_by_role("link", name=when, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Meeting on {when}")
    check_page(page, "panel-meeting")

    page.get_by_role("button", name="Build agenda").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Agenda built")
    part = page.locator("table", has_text="Specific children requiring permanence decisions")
    expect(part).to_contain_text("40 of 120 minutes used, 2 items")
    expect(part).to_contain_text("P-0001")
    expect(part).to_contain_text("P-0002")
    check_page(page, "panel-meeting-agenda")

    page.get_by_role("link", name="Record attendance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record attendance")
    check_page(page, "panel-attendance")
    chair_seat = page.get_by_role("group", name="Did the Head of CiC (Chair) attend?")
    chair_seat.get_by_label("Present").check()
    page.locator("#representative-chair").fill("Somebody")
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Only a member who sent apologies")
    check_page(page, "panel-attendance-error")
    page.locator("#representative-chair").fill("")
    page.locator("#person-chair").fill("Chair Person")
    page.get_by_role("group", name="Did the Panel Coordinator attend?").get_by_label(
        "Present"
    ).check()
    adm_seat = page.get_by_role("group", name="Did the Agency Decision Maker attend?")
    adm_seat.get_by_label("Apologies").check()
    page.locator("#representative-adm").fill("Deputy ADM")
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Attendance recorded"
    )
    expect(page.locator("#attendance + .app-table-wrapper")).to_contain_text("Deputy ADM")
    page.get_by_role("button", name="Sign out").click()

    # -- the chair: order the agenda, record the panel's recommendation with an action -----
    sign_in(page, "panel.chair")
    page.goto(f"/panel/meetings/{meeting['id']}")
    page.get_by_role("button", name="Move down P-0001").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Agenda order saved"
    )
    rows = page.locator("table", has_text="Specific children").locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("P-0002")
    page.get_by_role("link", name="Record decision for P-0001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a decision for P-0001")
    check_page(page, "panel-decision")

    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select the panel's decision or recommendation"
    )
    check_page(page, "panel-decision-error")
    page.get_by_label("The placement will meet the child's needs (recommended)").check()
    page.get_by_label("Will meet the child's needs", exact=True).check()
    page.get_by_label("Notes and reasons (optional)").fill("A stable, loving match.")
    page.get_by_label("When does the case come back to panel?").select_option("6")
    due = today() + timedelta(days=21)
    action = page.get_by_role("group", name="Action 1")
    action.get_by_label("What needs to be done").fill("Send the match report to the ADM")
    action.get_by_label("Day").fill(str(due.day))
    action.get_by_label("Month").fill(str(due.month))
    action.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Decision recorded")
    item = page.locator("tr", has_text="P-0001").first
    expect(item).to_contain_text("Recommended by panel")
    # A decided item shows its decision; it is no longer decided, moved or pinned again.
    expect(item.get_by_role("link", name="See the decision for P-0001")).to_be_visible()
    expect(item.get_by_role("link", name="Record decision for P-0001")).to_have_count(0)
    expect(item.get_by_role("button")).to_have_count(0)
    check_page(page, "panel-meeting-item-decided")
    expect(page.locator("#actions + .app-table-wrapper")).to_contain_text(
        "Send the match report to the ADM"
    )
    page.get_by_role("button", name="Sign out").click()

    # -- the ADM: the formal decision after the panel's recommendation ----------------------
    sign_in(page, "the.adm")
    page.get_by_role("link", name="Panel", exact=True).click()
    page.get_by_role("link", name=when, exact=True).click()
    page.get_by_role("link", name="Record decision for P-0001").click()
    page.get_by_label("ADM decision: long-term match approved").check()
    page.get_by_label("Notes and reasons (optional)").fill(
        "Approved on the panel's recommendation."
    )
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Decision recorded")
    expect(page.locator("tr", has_text="P-0001").first).to_contain_text("Approved by the ADM")
    page.get_by_role("button", name="Sign out").click()

    # -- the administrator: the minutes -----------------------------------------------------
    sign_in(page, "panel.admin")
    page.goto(f"/panel/meetings/{meeting['id']}")
    page.get_by_role("button", name="Draft minutes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Minutes drafted")
    page.get_by_role("button", name="Approve minutes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Minutes approved")
    check_page(page, "panel-meeting-minutes-approved")
    page.get_by_role("link", name="View the minutes (printable page)").click()
    expect(page.locator("h1")).to_have_text(CONFIG.panel.name)
    expect(page.locator("body")).to_contain_text("Decisions regarding")
    check_page(page, "panel-minutes-printable")
    # The journey moved through the engine: recommended by the chair, approved by the ADM.
    states = {j["state"] for j in (ok(cast.sw.get(f"/journeys/{n}")) for n in (1, 2))}
    assert "approved" in states


def test_social_worker_refers_a_case_and_completes_its_checklist(
    page: Page, make_user: UserFactory
) -> None:
    cast = people(make_user)
    ok(cast.admin.post("/panel/meetings/generate", {}))
    journey = Journeys(cast.sw).ltf("matching_meeting_held")
    keys = _checklist_keys()

    sign_in(page, "sw.north")
    page.goto("/panel/referrals/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer a case to the panel")
    check_page(page, "panel-referral-pick")
    page.get_by_label("Which case do you want to refer?").select_option(str(journey["id"]))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Refer to panel").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the decision")
    check_page(page, "panel-referral-new-error")
    page.get_by_label("A. Permanence decision for a child in mainstream fostering").check()
    page.get_by_role("button", name="Refer to panel").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Referral made")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Awaiting pack")
    check_page(page, "panel-referral")

    # One item answered No: the pack is incomplete and cannot be listed; the reason shows.
    for key in keys[:-1]:
        page.locator(f"#checklist-{key}").check()  # the first radio: Yes
    page.locator(f"#checklist-{keys[-1]}-2").check()  # No
    page.get_by_role("button", name="Submit pack").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The pack is incomplete")
    expect(page.locator(".govuk-warning-text")).to_contain_text("cannot be listed for decision")
    check_page(page, "panel-referral-incomplete")

    page.locator(f"#checklist-{keys[-1]}").check()
    page.get_by_role("button", name="Submit pack").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Pack accepted")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Pack accepted")
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "pack_submitted"


def test_tracker_filters(page: Page, make_user: UserFactory) -> None:
    cast = people(make_user)
    held_meeting_with_referrals(cast, n=2)
    sign_in(page, "panel.admin")
    page.get_by_role("link", name="Tracker", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Panel tracker")
    expect(page.locator("#tracker-count")).to_have_text("2 children")
    check_page(page, "panel-tracker")

    page.get_by_label("Child reference contains").fill("0002")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#tracker-count")).to_have_text("1 child")
    expect(page.locator("table")).to_contain_text("P-0002")
    expect(
        page.get_by_role("link", name="Download CSV of the tracker with these filters")
    ).to_have_attribute(
        "href",
        "/panel/tracker.csv?team=&journey_type=&rag=&outcome=&q=0002&as_of-day=&as_of-month=&as_of-year=",
    )

    page.get_by_role("group", name="Rate deadlines as of (optional)").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Rate deadlines as of (optional)").get_by_label("Month").fill(
        "2"
    )
    page.get_by_role("group", name="Rate deadlines as of (optional)").get_by_label("Year").fill(
        "2026"
    )
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a real date")
    check_page(page, "panel-tracker-error")
