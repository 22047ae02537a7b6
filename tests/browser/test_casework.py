"""Social workers and team managers, in a real browser: My work, a child's page, moving a
journey a step through its form (first with a mistake), seeing the deadline change, finding
a child, the notifications; every page screenshotted and checked with axe."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.web.templating import govuk_date
from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import Api, UserFactory
from workflow.calendar import add_months


def _cases(sw: Api) -> dict[str, int]:
    """Two north children: one with a first review coming up, one with it long overdue."""
    recent = (today() - timedelta(days=10)).isoformat()
    late = (today() - timedelta(days=70)).isoformat()
    soon = sw.create_child(
        "C-0001", given_name="Robin", family_name="Example", looked_after_since=recent
    )
    overdue = sw.create_child(
        "C-0002", given_name="Alex", family_name="Sample", looked_after_since=late
    )
    sw.start(soon["id"], "permanence_planning")
    sw.start(overdue["id"], "permanence_planning")
    return {"soon": soon["id"], "overdue": overdue["id"]}


def test_social_worker_moves_a_journey_a_step_and_sees_the_deadline_change(
    page: Page, sw: Api, engine: Engine, policies: Policies
) -> None:
    _cases(sw)
    sweep(engine, policies, today())  # the overdue review's reminder, in the inbox

    sign_in(page, "sw.north")
    expect(page).to_have_url(re.compile(r"/my-work$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    rows = page.locator("#caseload tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("C-0002")  # overdue first
    expect(rows.nth(0)).to_contain_text("Overdue")
    expect(rows.nth(1)).to_contain_text("C-0001")
    expect(page.locator("#count-overdue")).to_have_text("1")
    expect(page.locator("#my-notifications + ul")).to_contain_text("C-0002")
    check_page(page, "casework-my-work")

    rows.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Robin Example")
    journey = page.locator("section.app-journey").first
    expect(journey.locator("[id$='-stage']")).to_have_text("Awaiting first looked-after review")
    deadlines = journey.locator("table.app-deadlines tbody")
    expect(deadlines).to_contain_text("First looked-after review")
    expect(deadlines).not_to_contain_text("Second looked-after review")
    expect(journey.locator(".app-diagram svg")).to_be_visible()
    check_page(page, "casework-child")

    journey.get_by_role("button", name="Record a looked-after review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a looked-after review")
    check_page(page, "casework-event-form")

    # A mistake first: a day that does not exist. The summary links to the field.
    page.get_by_label("Notes (optional)").fill("Review held with the IRO and the carers")
    page.get_by_label("Day").fill("32")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date this happened must be a real date")
    expect(page.locator("#occurred_on-error")).to_contain_text("must be a real date")
    expect(page.get_by_label("Notes (optional)")).to_have_value(
        "Review held with the IRO and the carers"
    )
    check_page(page, "casework-event-form-error")

    held = today() - timedelta(days=2)
    page.get_by_label("Day").fill(str(held.day))
    page.get_by_label("Month").fill(str(held.month))
    page.get_by_label("Year").fill(str(held.year))
    page.get_by_role("button", name="Save").click()

    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Record a looked-after review: recorded")
    expect(banner).to_contain_text(
        "Permanence planning is now at the stage: Awaiting second looked-after review."
    )
    journey = page.locator("section.app-journey").first
    expect(journey.locator("[id$='-stage']")).to_have_text("Awaiting second looked-after review")
    second = journey.locator("table.app-deadlines tbody tr", has_text="Second looked-after review")
    expect(second).to_contain_text(govuk_date(add_months(held, 3)))
    first = journey.locator("table.app-deadlines tbody tr", has_text="First looked-after review")
    expect(first).to_contain_text("Met")
    expect(journey.locator("table.app-history")).to_contain_text("Review held with the IRO")
    check_page(page, "casework-child-recorded")

    # Find the other child by name.
    page.get_by_role("link", name="Children", exact=True).click()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.get_by_label("Search by reference or name").fill("alex")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#children tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("C-0002")
    # Searched by POST: the term is in no address the browser asked for, nor in its history.
    assert requested and not [url for url in requested if "alex" in url.lower()]
    assert "alex" not in page.url
    check_page(page, "casework-children")

    page.get_by_role("link", name="Notifications", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    unread = page.locator(".app-notice--unread")
    waiting = unread.count()
    assert waiting >= 1
    notice = page.locator(".app-notice").first
    expect(notice).to_contain_text("Unread")
    expect(notice).to_contain_text("C-0002")
    check_page(page, "casework-notifications")
    notice.get_by_role("button", name="Mark as read").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Notification marked as read"
    )
    expect(unread).to_have_count(waiting - 1)

    page.goto("/children/999999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_page(page, "casework-404")


def test_team_manager_sees_the_team_caseload_and_opens_a_child(
    page: Page, sw: Api, make_user: UserFactory
) -> None:
    make_user("tm.north", "team_manager", team="north")
    other = make_user("sw2.north", "social_worker", team="north")
    _cases(sw)
    other.create_child("C-0003", given_name="Sam", family_name="Other")

    sign_in(page, "tm.north")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team North: caseload")
    rows = page.locator("#caseload tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("C-0002")
    expect(rows.nth(2)).to_contain_text("C-0003")  # no deadline: last
    expect(rows.nth(2)).to_contain_text("No deadline")
    check_page(page, "casework-team-my-work")

    page.get_by_label("Social worker").select_option(label="sw2.north")
    page.get_by_role("button", name="Show children").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("C-0003")

    page.get_by_label("Social worker").select_option(label="Everyone in the team")
    page.get_by_role("button", name="Show children").click()
    rows.nth(0).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Sample")
    journey = page.locator("section.app-journey").first
    expect(journey.locator("table.app-deadlines")).to_contain_text("Overdue")
    expect(journey.get_by_role("button", name="Record a looked-after review")).to_be_visible()
    check_page(page, "casework-team-child")

    # The team manager reallocates the child to the other social worker of the team.
    page.get_by_role("link", name="Change details of child C-0002").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change details")
    check_page(page, "casework-child-edit")
    page.get_by_label("Allocated social worker").select_option(label="sw2.north")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Child's details changed"
    )
    expect(page.locator("#child-details")).to_contain_text("sw2.north")
    check_page(page, "casework-child-reallocated")


def test_social_worker_adds_a_child_and_starts_a_journey(page: Page, sw: Api) -> None:
    del sw  # the user signing in
    sign_in(page, "sw.north")
    page.get_by_role("link", name="Children", exact=True).click()
    page.get_by_role("button", name="Add a child").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a child")
    check_page(page, "casework-add-child")
    page.get_by_label("Reference").fill("C-0004")
    page.get_by_label("First name").fill("Jo")
    page.get_by_role("button", name="Add child").click()  # no last name or date of birth
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the child's last name")
    expect(summary).to_contain_text("Enter date of birth")
    check_page(page, "casework-add-child-error")
    page.get_by_label("Last name").fill("Newcase")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("4")
    birth.get_by_label("Month").fill("3")
    birth.get_by_label("Year").fill("2019")
    page.get_by_label("Legal status (optional)").select_option(label="Interim care order")
    page.get_by_role("button", name="Add child").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Child added")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jo Newcase")
    expect(page.locator("section.app-journey")).to_have_count(0)
    page.get_by_role("button", name="Start a journey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a journey")
    check_page(page, "casework-start-journey")

    page.get_by_role("button", name="Continue").click()  # nothing chosen
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a type of journey")
    check_page(page, "casework-start-journey-error")

    page.get_by_label("Care proceedings").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start care proceedings")
    issued = today() - timedelta(days=3)
    page.get_by_label("Day").fill(str(issued.day))
    page.get_by_label("Month").fill(str(issued.month))
    page.get_by_label("Year").fill(str(issued.year))
    page.get_by_label("Court (optional)").fill("Leicester Family Court")
    check_page(page, "casework-start-journey-details")
    page.get_by_role("button", name="Start journey").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Care proceedings started"
    )
    journey = page.locator("section.app-journey").first
    expect(journey.locator("table.app-deadlines")).to_contain_text(
        govuk_date(issued + timedelta(weeks=26))
    )
