"""The cohort pages in a real browser (issue 13 item 8): the administrator opens the list,
a cohort's page as of a date, and records a carer approval; the child page's cohorts section.
Every page is screenshotted and checked with axe-core."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from services.care_record.importer import import_return
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.services.test_cohorts import AS_OF, the_return


def test_the_administrator_reads_a_cohort_and_records_an_approval(
    page: Page, engine: Engine, tmp_path: Path, make_user: UserFactory
) -> None:
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0
    make_user("panel.admin", "panel_admin")
    sign_in(page, "panel.admin")
    page.get_by_role("link", name="Cohorts", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cohorts")
    check_page(page, "cohorts")

    page.get_by_role("link", name="Children accommodated under section 20").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Children accommodated under section 20"
    )
    page.locator("#as_of-day").fill("1")
    page.locator("#as_of-month").fill("6")
    page.locator("#as_of-year").fill("2026")
    page.get_by_role("button", name="Show children").click()
    table = page.locator("table")
    expect(table).to_contain_text("S20LEFT")
    expect(table).to_contain_text("Accommodated under section 20 since 1 November 2025: 7 months.")
    check_page(page, "cohort-section-20")

    page.goto(page.url.split("/panel/")[0] + "/panel/cohorts/connected_person_16_weeks")
    expect(page.locator("table")).to_contain_text("CONN17")
    page.get_by_label("Child").select_option(label="CONN17")
    page.get_by_role("button", name="Record approval").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date of approval")
    check_page(page, "cohort-approval-error")
    page.get_by_label("Child").select_option(label="CONN17")
    page.locator("#approved_on-day").fill("1")
    page.locator("#approved_on-month").fill("12")
    page.locator("#approved_on-year").fill("2026")
    page.get_by_role("button", name="Record approval").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Carer approval recorded"
    )
    expect(page.locator("table")).not_to_contain_text("CONN17")
    check_page(page, "cohort-connected-person")

    page.get_by_role("link", name="CONN16").click()
    expect(page.get_by_role("heading", name="In cohorts")).to_be_visible()
    check_page(page, "child-in-cohorts")
