"""An imported journey's deadlines from before the service in a real browser: the child
page lists them, the form refuses an answer without its date, then records one met; every
page checked with axe."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from services.care_record.importer import import_return
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.services.care_record.support import AS_OF
from tests.services.care_record.test_before_service import before_service_return, child_pk


def test_record_a_deadline_from_before_the_service(
    page: Page, make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    make_user("sw.north", "social_worker", team="north")
    import_return(engine, before_service_return(tmp_path).write(), as_of=AS_OF)
    child = child_pk(engine, "REF-OLD")

    sign_in(page, "sw.north")
    page.goto(f"/children/{child}")
    listed = page.locator("#before-service-deadlines tbody tr")
    expect(listed).to_have_count(2)
    check_page(page, "child-before-service")

    page.get_by_role(
        "link", name="Record what happened to the second looked-after review due 20 June 2025"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Second looked-after review: what happened?"
    )
    check_page(page, "deadline-confirm")
    page.get_by_label("It was met").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date it was met")
    check_page(page, "deadline-confirm-error")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("7")
    page.get_by_label("Year").fill("2025")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Deadline recorded")
    expect(listed).to_have_count(1)
