"""The cohort pages and the child page's "In cohorts" section (issue 13 item 8), over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import CHILDREN
from tests.conftest import UserFactory
from tests.services.test_cohorts import AS_OF, EARLIER, the_return
from tests.web_support import WebUser


def load(engine: Engine, tmp_path: Path) -> dict[str, int]:
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0
    with read_connection(engine) as conn:
        return {
            r.reference: r.id for r in conn.execute(select(CHILDREN.c.reference, CHILDREN.c.id))
        }


def test_the_list_and_a_cohorts_page_as_of_a_date(
    engine: Engine, tmp_path: Path, make_user: UserFactory, web_as: Callable[..., WebUser]
) -> None:
    load(engine, tmp_path)
    page = web_as(make_user("panel.admin", "panel_admin"))
    listing = page.get("/panel/cohorts?as_of=2026-12-02")
    assert listing.status_code == 200
    assert "Unregulated and semi-independent placements" in listing.text
    assert "2 December 2026" in listing.text
    one = page.get(f"/panel/cohorts/section_20?as_of={EARLIER.isoformat()}")
    assert one.status_code == 200
    assert "S20LEFT" in one.text and "1 November 2025" in one.text
    assert "Accommodated under section 20 since 1 November 2025: 7 months." in one.text
    # The date input gives the same page.
    typed = page.get("/panel/cohorts/section_20?as_of-day=1&as_of-month=6&as_of-year=2026")
    assert "S20LEFT" in typed.text
    assert page.get("/panel/cohorts/section_20?as_of=31/02/2026").status_code == 400
    assert page.get("/panel/cohorts/nothing_like_it").status_code == 404


def test_a_social_worker_has_no_cohort_pages(
    make_user: UserFactory, web_as: Callable[..., WebUser]
) -> None:
    page = web_as(make_user("sw.n", "social_worker", team="north"))
    assert page.get("/panel/cohorts").status_code == 403
    assert page.get("/panel/cohorts/section_20").status_code == 403


def test_the_administrator_records_a_carer_approval_on_the_page(
    engine: Engine, tmp_path: Path, make_user: UserFactory, web_as: Callable[..., WebUser]
) -> None:
    ids = load(engine, tmp_path)
    page = web_as(make_user("panel.admin", "panel_admin"))
    path = "/panel/cohorts/connected_person_16_weeks"
    before = page.get(path)
    assert "Record a carer approval" in before.text and "CONN17" in before.text
    form = {
        "child_id": str(ids["CONN17"]),
        "approved_on-day": "1",
        "approved_on-month": "12",
        "approved_on-year": "2026",
    }
    assert page.post(f"{path}/carer-approval", form, csrf="").status_code == 403
    done = page.post(f"{path}/carer-approval", form)
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=carer_approved"
    after = page.get(done.headers["location"])
    assert "Carer approval recorded" in after.text
    assert "CONN17" not in after.text
    again = page.post(f"{path}/carer-approval", form)
    assert again.status_code == 409
    assert "already recorded" in again.text
    missing = page.post(f"{path}/carer-approval", {"child_id": str(ids["CONN17"])})
    assert missing.status_code == 400 and "Enter the date of approval" in missing.text


def test_the_child_page_says_which_cohorts_and_why(
    engine: Engine, tmp_path: Path, make_user: UserFactory, web_as: Callable[..., WebUser]
) -> None:
    ids = load(engine, tmp_path)
    page = web_as(make_user("panel.chair", "panel_chair"))
    child = page.get(f"/children/{ids['S20']}")
    assert child.status_code == 200
    assert "In cohorts" in child.text
    assert "Children accommodated under section 20" in child.text
    assert 'href="/panel/cohorts/section_20"' in child.text
    # A social worker of the team sees the section without the links to the panel's pages.
    worker = web_as(make_user("sw.n", "social_worker", team="north"))
    seen = worker.get(f"/children/{ids['S20']}")
    assert "Children accommodated under section 20" in seen.text
    assert 'href="/panel/cohorts/' not in seen.text
