"""The care record's work lists in a real browser (issue 13 item 5): from My work to the
"to confirm" list (interim care orders and deadlines from before the service), a deadline's
confirmation page from My work, the "nothing to confirm" form (its error, then done), and
the "record and journeys disagree" list after a later extract. Every page checked with
axe."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from services.care_record.importer import import_return
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.record_lists_support import (
    AS_OF,
    World,
    child_ids,
    first_extract,
    later_extract,
    people_act,
)
from tests.services.care_record.test_journeys import adopted_return


def test_to_confirm_then_disagreements(
    page: Page, make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    first = first_extract(tmp_path / "one")
    import_return(engine, first.write(), as_of=AS_OF)
    w = World(
        child_ids(engine),
        make_user("sw.north", "social_worker", team="north"),
        make_user("sm", "service_manager"),
        make_user("sw.south", "social_worker", team="south"),
        first,
    )
    people_act(w)
    import_return(engine, later_extract(first, tmp_path / "two").write(), as_of=AS_OF)

    sign_in(page, "sw.north")
    page.goto("/my-work?worker=all")  # the team's children (none is allocated to sw.north)
    # The caseload's deadlines from before the service, each linked to its confirmation.
    expect(page.locator("#before-service-count")).to_contain_text("fell due before")
    check_page(page, "my-work-before-service")
    page.locator("#before-service-deadlines a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/confirm" in page.url
    check_page(page, "my-work-deadline-confirm")

    page.goto("/my-work")
    page.get_by_role("link", name="Care record: to confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To confirm")
    interim = page.locator("#to-confirm tbody tr", has_text="Interim care order since")
    expect(interim).to_have_count(2)
    deadline_rows = page.locator("#to-confirm tbody tr", has_text="fell due before")
    expect(deadline_rows.first).to_be_visible()
    # A deadline is recorded on the child's page, never as "nothing to confirm".
    expect(deadline_rows.get_by_role("link", name="Nothing to confirm")).to_have_count(0)
    check_page(page, "care-to-confirm")

    page.get_by_role("link", name="Nothing to confirm for child ICOD").click()
    check_page(page, "care-nothing-to-confirm")
    page.get_by_role("button", name="Record nothing to confirm").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why")
    check_page(page, "care-nothing-to-confirm-error")
    page.get_by_label("Why there is nothing to confirm").fill("Proceedings are in Wales.")
    page.get_by_role("button", name="Record nothing to confirm").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Recorded")
    expect(interim).to_have_count(1)

    page.goto("/my-work")
    page.get_by_role("link", name="Care record and journeys disagree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record and journeys disagree")
    expect(page.locator("#disagreements tbody tr")).to_have_count(4)
    check_page(page, "care-disagreements")


def test_the_adopted_child_from_the_list_to_its_adoption_journey(
    page: Page, make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    import_return(engine, adopted_return(tmp_path).write(), as_of=AS_OF)
    make_user("sm", "service_manager")
    sign_in(page, "sm")
    page.goto("/care-record/to-confirm")
    row = page.locator("#to-confirm tbody tr", has_text="ends the period of care")
    expect(row).to_contain_text("1 September 2026")
    check_page(page, "care-to-confirm-adopted")
    row.get_by_role("link", name="Record the application on the adoption journey").click()
    # The journey is shown on its child's page, at the journey.
    expect(page).to_have_url(re.compile(r"/children/\d+#journey-\d+$"))
    expect(page.locator("main")).to_contain_text("Living with the adoptive family")
    check_page(page, "care-to-confirm-adoption-journey")
