"""The care record in a real browser: the system administrator uploads a return, reads the
dry run, applies it (queued, then done); a social worker reads the child's timeline (also at
320 pixels wide); a team manager allocates an unallocated child; the teams page. Every page
checked with axe."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import Engine

from services.care_record.queue import run_import_queue
from tests.browser.support import check_page, sign_in
from tests.conftest import UserFactory
from tests.record_support import timeline_return

NARROW: ViewportSize = {"width": 320, "height": 800}


def _sideways(page: Page) -> int:
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_import_dry_run_then_apply_then_the_childs_timeline(
    page: Page, make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    make_user("sysadmin", "sysadmin")
    make_user("sw.north", "social_worker", team="north")
    make_user("tm.north", "team_manager", team="north")
    paths = timeline_return(tmp_path).write()
    tables = [str(p) for p in paths if p.stem != "allocation"]
    allocation = next(str(p) for p in paths if p.stem == "allocation")

    sign_in(page, "sysadmin")
    page.goto("/admin/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import the care record")
    check_page(page, "care-import-upload")
    page.get_by_label("The return's CSV files").set_input_files(tables)
    page.get_by_label("Allocation file (optional)").set_input_files(allocation)
    page.get_by_role("button", name="Upload and dry run").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import before applying it")
    expect(page.locator("#import-summary")).to_contain_text("Dry run: nothing was written")
    expect(page.locator("#import-files li")).to_have_count(len(paths))
    check_page(page, "care-import-dry-run")
    page.get_by_role("button", name="Apply this import").click()

    # Queued: the scheduler runs it (here its job is called), and the page, which checks
    # again every 5 seconds, then shows it done with its report.
    expect(page).to_have_url(re.compile(r"/admin/imports/queue/\d+$"))
    expect(page.locator("#import-status")).to_contain_text("Queued")
    check_page(page, "care-import-queued")
    assert run_import_queue(engine) == 1
    expect(page.locator("#import-status")).to_contain_text("Done", timeout=15_000)
    expect(page.locator("#import-status")).to_contain_text("2 children created")
    check_page(page, "care-import-done")
    page.get_by_role("link", name="The import's report").click()
    expect(page).to_have_url(re.compile(r"/admin/imports/\d+$"))
    check_page(page, "care-import-applied")
    page.goto("/admin/imports")
    expect(page.locator("#imports tbody tr")).to_have_count(1)
    page.goto("/admin/teams")
    check_page(page, "care-teams")

    page.context.clear_cookies()
    sign_in(page, "sw.north")
    page.goto("/children")
    page.locator("#children tbody a", has_text="REC-A1").click()
    timeline = page.locator("#care-timeline")
    expect(timeline.locator("> li")).to_have_count(3)
    expect(timeline.locator("> li").nth(0)).to_contain_text("10 April 2024 to 1 September 2024")
    expect(timeline.locator("> li").nth(0)).to_contain_text("Interim care order")
    expect(timeline.locator("> li").nth(2)).to_contain_text("Moved placement")
    expect(timeline.locator("> li").nth(2)).to_contain_text("1 February 2025 to now")
    page.get_by_text("The same record as a table").click()
    expect(page.locator("#care-record-table tbody tr")).to_have_count(3)
    check_page(page, "care-record-timeline")
    page.set_viewport_size(NARROW)
    check_page(page, "care-record-timeline-narrow")
    assert _sideways(page) == 0

    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.clear_cookies()
    sign_in(page, "tm.north")
    page.goto("/children/unallocated")
    expect(page.locator("#unallocated tbody tr")).to_have_count(1)
    check_page(page, "care-unallocated")
    page.get_by_role("link", name="Allocate child B1").click()
    check_page(page, "care-allocate")
    page.get_by_label("Social worker").select_option(label="sw.north")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Child allocated")
    expect(page.locator("#unallocated")).to_have_count(0)
