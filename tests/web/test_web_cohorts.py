"""The cohort pages and the child page's "In cohorts" section (issue 13 item 8), over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from app.web.routes import panel_cohorts
from services import cohorts
from services.care_record.importer import import_return
from services.clock import today
from services.cohort_snapshot import MEMBERS, SNAPSHOTS
from services.db import read_connection, write_connection
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
    counted_before = _counts(page.get("/panel/cohorts").text)["connected_person_16_weeks"]
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
    # Read from today's stored snapshot, which the approval judged the child in again.
    assert 'id="cohort-computed"' in after.text
    assert "CONN17" not in after.text
    # The list's count, read from the snapshot's stored counts, follows.
    assert _counts(page.get("/panel/cohorts").text)["connected_person_16_weeks"] == (
        counted_before - 1
    )
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


class _Counted:
    """``services.cohorts.compute`` with a count of its calls: a page read from the stored
    snapshot computes nothing."""

    def __init__(self) -> None:
        self.calls = 0
        self.compute = cohorts.compute

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.compute(*args, **kwargs)


def _counts(html: str) -> dict[str, int]:
    """The list page's count of each cohort."""
    found = re.findall(r'href="/panel/cohorts/(\w+)\?[^"]*">.*?numeric">(\d+)</td>', html, re.S)
    return {name: int(n) for name, n in found}


def _stored(engine: Engine, name: str, why: str) -> None:
    """Mark the stored snapshot's members of one cohort, so a page read from it shows so."""
    with write_connection(engine) as conn:
        conn.execute(update(MEMBERS).where(MEMBERS.c.cohort == name).values(why=why))


def test_the_pages_read_the_days_snapshot_and_compute_another_day(
    engine: Engine,
    tmp_path: Path,
    make_user: UserFactory,
    web_as: Callable[..., WebUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(engine, tmp_path)  # the import stores today's snapshot of every cohort
    with read_connection(engine) as conn:
        live = cohorts.compute(conn, today())
    _stored(engine, "section_20", "Stored in the snapshot.")
    counted = _Counted()
    monkeypatch.setattr(cohorts, "compute", counted)
    page = web_as(make_user("panel.admin", "panel_admin"))

    listing = page.get("/panel/cohorts")
    assert listing.status_code == 200
    assert 'id="cohorts-computed"' in listing.text
    assert _counts(listing.text) == {name: len(ms) for name, ms in live.items()}
    one = page.get("/panel/cohorts/section_20")
    assert one.status_code == 200
    assert 'id="cohort-computed"' in one.text
    assert one.text.count("Stored in the snapshot.") == len(live["section_20"]) > 0
    assert counted.calls == 0

    # Another day: computed now, and the page does not say "as computed on".
    earlier = page.get(f"/panel/cohorts/section_20?as_of={EARLIER.isoformat()}")
    assert "S20LEFT" in earlier.text and "Stored in the snapshot." not in earlier.text
    assert 'id="cohort-computed"' not in earlier.text
    assert counted.calls == 1
    assert 'id="cohorts-computed"' not in page.get(f"/panel/cohorts?as_of={EARLIER}").text
    assert counted.calls == 2

    # A snapshot stored before its members carried their sentences (migration 0032): the
    # cohort page computes; the list still counts from it.
    with write_connection(engine) as conn:
        conn.execute(update(SNAPSHOTS).values(sentences=False))
    again = page.get("/panel/cohorts/section_20")
    assert "Stored in the snapshot." not in again.text and "S20" in again.text
    assert counted.calls == 3
    assert 'id="cohorts-computed"' in page.get("/panel/cohorts").text
    assert counted.calls == 3


@pytest.mark.parametrize("stored", [True, False], ids=["snapshot", "live"])
def test_a_cohort_page_lists_its_children_a_page_at_a_time(
    engine: Engine,
    tmp_path: Path,
    make_user: UserFactory,
    web_as: Callable[..., WebUser],
    monkeypatch: pytest.MonkeyPatch,
    stored: bool,
) -> None:
    load(engine, tmp_path)
    with read_connection(engine) as conn:
        found = cohorts.compute(conn, today())
    name, members = max(found.items(), key=lambda kv: len(kv[1]))
    assert len(members) >= 3
    with read_connection(engine) as conn:
        refs = dict(conn.execute(select(CHILDREN.c.id, CHILDREN.c.reference)).all())
    expected = [refs[m.child_id] for m in members]
    if not stored:
        with write_connection(engine) as conn:
            conn.execute(delete(MEMBERS))
            conn.execute(delete(SNAPSHOTS))
    monkeypatch.setattr(panel_cohorts, "PER_PAGE", 2)
    page = web_as(make_user("panel.admin", "panel_admin"))
    seen: list[str] = []
    number = 1
    while True:
        shown = page.get(f"/panel/cohorts/{name}?as_of={today()}&page={number}")
        assert shown.status_code == 200
        assert f"{len(members)} children on" in shown.text
        assert ('id="cohort-computed"' in shown.text) is stored
        rows = re.findall(r'href="/children/\d+">([^<]+)</a></th>', shown.text)
        assert len(rows) == min(2, len(members) - len(seen))
        assert f"showing {len(seen) + 1} to {len(seen) + len(rows)}" in shown.text
        seen += rows
        if 'rel="next"' not in shown.text:
            break
        number += 1
    assert seen == expected  # every child once, in the cohort's order
    beyond = page.get(f"/panel/cohorts/{name}?as_of={today()}&page={number + 5}")
    assert "There are no more children in this cohort" in beyond.text


def test_a_team_managers_counts_from_the_snapshot_are_their_teams(
    engine: Engine,
    tmp_path: Path,
    make_user: UserFactory,
    web_as: Callable[..., WebUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(engine, tmp_path)  # every child of the return is in team north
    with read_connection(engine) as conn:
        live = cohorts.compute(conn, today())
    counted = _Counted()
    monkeypatch.setattr(cohorts, "compute", counted)
    north = web_as(make_user("tm.north", "team_manager", team="north"))
    south = web_as(make_user("tm.south", "team_manager", team="south"))
    assert _counts(north.get("/panel/cohorts").text) == {n: len(ms) for n, ms in live.items()}
    assert set(_counts(south.get("/panel/cohorts").text).values()) == {0}
    name, members = max(live.items(), key=lambda kv: len(kv[1]))
    shown = south.get(f"/panel/cohorts/{name}")
    assert 'id="cohort-computed"' in shown.text and "No children you may see" in shown.text
    assert f"{len(members)} children on" in north.get(f"/panel/cohorts/{name}").text
    assert counted.calls == 0
