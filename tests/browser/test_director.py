"""The service director, in a real browser: sees what is drifting, tries to acknowledge an
escalation without a comment (the error sits next to the field), then acknowledges it."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from tests.browser.support import check_page, sign_in
from tests.conftest import Staff


def test_director_acknowledges_an_escalation(
    page: Page, engine: Engine, staff: Staff, policies: Policies
) -> None:
    # A north child's first review, due weeks ago, escalated up to the director by a sweep.
    looked_after = (today() - timedelta(days=70)).isoformat()
    child = staff.sw.create_child("C-0100", looked_after_since=looked_after)
    staff.sw.start(child["id"], "permanence_planning")
    sweep(engine, policies, today())

    sign_in(page, "sd")
    page.goto("/director")
    expect(page.get_by_role("heading", level=1)).to_have_text("What is drifting")
    rows = page.locator("#escalations-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("C-0100")
    expect(rows.first).to_contain_text("Service director")
    expect(page.locator("#deadlines-table")).to_contain_text("C-0100")
    check_page(page, "director")

    # Acknowledging opens the escalation's own page; no comment is an error beside the field.
    page.get_by_role(
        "link", name="Acknowledge escalation of C-0100: First looked-after review"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("C-0100: First looked-after review")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Service director (sd)")
    check_page(page, "director-acknowledge")
    page.get_by_role("button", name="Acknowledge escalation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a comment saying what has been done or will be done"
    )
    comment = page.get_by_label("Comment")
    expect(comment).to_have_class("govuk-textarea govuk-textarea--error")
    check_page(page, "director-comment-missing")

    comment.fill("Review booked with the IRO for next Tuesday.")
    page.get_by_role("button", name="Acknowledge escalation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Escalation acknowledged"
    )
    expect(page.locator("#escalations-table")).to_have_count(0)
    expect(
        page.locator("#open-escalations ~ p").filter(has_text="open escalations").first
    ).to_have_text("There are no open escalations.")
    # The deadline itself is still overdue and listed until the review is held.
    expect(page.locator("#deadlines-table")).to_contain_text("Overdue")
    check_page(page, "director-acknowledged")

    # The breach register lists the missed review, a page at a time.
    page.get_by_role("link", name="See the breach register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Breach register")
    expect(page.locator("#breach-register tbody tr")).to_have_count(1)
    expect(page.locator("#breach-register")).to_contain_text("C-0100")
    check_page(page, "director-breaches")
