"""The tracker reads the cohorts' members from a snapshot (services.cohort_snapshot), not
computed on each view (issue 14): the scheduler's daily job and each care-record import
refresh it, the first view on a fresh database (or the first of a day no job has refreshed)
computes it once, and the page, the JSON and the CSV say when it was computed."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

import states
from notifications.policy import Policies
from notifications.scheduler import build_scheduler
from panels.config import load_panel
from panels.service import PanelService
from services.access import Principal
from services.care_record.importer import import_return
from services.clock import today
from services.cohort_snapshot import MEMBERS, SNAPSHOTS, newest_as_of, refresh_cohort_snapshot
from services.config import Settings
from services.models import CHILDREN as C
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people
from tests.reminder_support import reminder_jobs
from tests.services.care_record.support import SmallReturn, episode, header


@pytest.fixture(autouse=True)
def _sefton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "sefton")


def _interim_care_order(factory: Journeys) -> dict[str, Any]:
    """A child in Sefton's interim care orders cohort only (no referral, agenda, decision)."""
    child = factory.child()
    journey = factory.sw.start(child["id"], "care_proceedings", iso(today() - timedelta(days=30)))
    factory.sw.fire(journey, "make_ico", iso(today() - timedelta(days=20)))
    return child


def _snapshots(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(SNAPSHOTS.c.id, SNAPSHOTS.c.as_of).order_by(SNAPSHOTS.c.id))
        )


def _ids(rows: list[dict[str, Any]]) -> set[int]:
    return {r["child_id"] for r in rows}


def test_a_fresh_database_computes_the_cohorts_once_and_the_json_says_when(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    ico = _interim_care_order(Journeys(cast.sw))
    assert _snapshots(engine) == []
    rows = ok(cast.admin.get("/panel/tracker"))
    assert ico["id"] in _ids(rows)
    first = _snapshots(engine)
    assert [s.as_of for s in first] == [today()]  # computed once, stored
    with engine.connect() as conn:  # the panel's own cohorts only
        held = conn.execute(select(SNAPSHOTS.c.cohorts)).scalar_one().split()
    assert held == sorted(
        t for part in load_panel("sefton").parts for t in part.takes if t != "referrals"
    )
    computed = {r["cohorts_computed_at"] for r in rows}
    assert len(computed) == 1 and None not in computed
    # The next views read it: no second computing.
    again = ok(cast.admin.get("/panel/tracker"))
    assert _snapshots(engine) == first
    assert {r["cohorts_computed_at"] for r in again} == computed


def test_a_child_who_joins_a_cohort_is_on_the_tracker_after_the_scheduler_refreshes(
    make_user: UserFactory, engine: Engine, policies: Policies
) -> None:
    cast = people(make_user)
    factory = Journeys(cast.sw)
    first = _interim_care_order(factory)
    jobs = reminder_jobs(engine, policies)
    jobs.run_cohort_snapshot()
    before = ok(cast.admin.get("/panel/tracker"))
    assert first["id"] in _ids(before)
    joined = _interim_care_order(factory)
    # Not until the snapshot is refreshed (the page says when it was computed).
    stale = ok(cast.admin.get("/panel/tracker"))
    assert joined["id"] not in _ids(stale)
    jobs.run_cohort_snapshot()
    rows = ok(cast.admin.get("/panel/tracker"))
    row = next(r for r in rows if r["child_id"] == joined["id"])
    assert row["journey_type"] == "care_proceedings" and row["state"] == "ico_made"
    assert row["cohorts_computed_at"] > before[0]["cohorts_computed_at"]
    # The one before is kept (a view that picked it still reads it), older ones deleted.
    jobs.run_cohort_snapshot()
    assert len(_snapshots(engine)) == 2


def test_the_scheduler_runs_the_cohorts_daily_and_catches_up_at_start(
    engine: Engine, policies: Policies
) -> None:
    jobs = reminder_jobs(engine, policies)
    assert jobs.cohort_snapshot_due()  # none yet
    ids = {j.id for j in build_scheduler(jobs).get_jobs()}
    assert {"cohort_snapshot", "cohort_snapshot_catch_up"} <= ids
    jobs.run_cohort_snapshot()
    assert newest_as_of(engine) == today() and not jobs.cohort_snapshot_due()
    ids = {j.id for j in build_scheduler(jobs).get_jobs()}
    assert "cohort_snapshot" in ids and "cohort_snapshot_catch_up" not in ids


def test_a_snapshot_without_the_panels_cohorts_is_not_read(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    ico = _interim_care_order(Journeys(cast.sw))
    refresh_cohort_snapshot(engine, today(), ["section_20"])
    rows = ok(cast.admin.get("/panel/tracker"))
    assert ico["id"] in _ids(rows)
    assert len(_snapshots(engine)) == 2
    # Every cohort (the scheduler's and the importer's) serves the view as it is.
    refresh_cohort_snapshot(engine, today())
    kept = _snapshots(engine)
    ok(cast.admin.get("/panel/tracker"))
    assert _snapshots(engine) == kept


def test_a_view_on_a_day_no_job_refreshed_computes_that_days_once(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    _interim_care_order(Journeys(cast.sw))
    refresh_cohort_snapshot(engine, today() - timedelta(days=1))
    ok(cast.admin.get("/panel/tracker"))
    ok(cast.admin.get("/panel/tracker"))
    assert [s.as_of for s in _snapshots(engine)] == [today() - timedelta(days=1), today()]


def test_an_import_refreshes_the_cohorts_after_its_commit(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    principal_of: Callable[[int], Principal],
    tmp_path: Path,
) -> None:
    cast = people(make_user)
    panel = PanelService(engine, states.build_registry(), load_panel("sefton"), settings.policy())
    admin = principal_of(cast.admin.user_id)
    refresh_cohort_snapshot(engine, today())
    assert panel.tracker(admin) == []
    the_return = (
        SmallReturn(tmp_path / "r")
        .headers(header("ICO9", SEX="M"))
        .episodes(
            episode("ICO9", "05/01/2026", "20/01/2026", LS="L2", PLACE="U6"),
            episode("ICO9", "20/01/2026", RNE="L", LS="C1", PLACE="U6"),
        )
    )
    report = import_return(engine, the_return.write())
    assert report.children_created == 1 and report.import_id is not None
    with engine.connect() as conn:
        child_id = conn.execute(select(C.c.id).where(C.c.reference == "ICO9")).scalar_one()
        snap = conn.execute(select(func.max(SNAPSHOTS.c.id))).scalar_one()
        cohorts = set(
            conn.execute(
                select(MEMBERS.c.cohort).where(
                    MEMBERS.c.snapshot_id == snap, MEMBERS.c.child_id == child_id
                )
            ).scalars()
        )
    assert "interim_care_orders" in cohorts
    assert len(_snapshots(engine)) == 2  # the import's, after the one before it
    rows = panel.tracker(admin)
    assert [r.child_id for r in rows] == [child_id]
    # A dry run changes nothing, so refreshes nothing.
    import_return(engine, the_return.write(), dry_run=True)
    assert _snapshots(engine)[-1].id == snap


def test_the_page_and_the_csv_say_when_the_cohorts_were_computed(
    make_user: UserFactory, web_as: Callable[[Any], Any]
) -> None:
    cast = people(make_user)
    ico = _interim_care_order(Journeys(cast.sw))
    html = web_as(cast.admin).get("/panel/tracker").text
    assert 'id="cohorts-as-of"' in html
    assert "Children in the panel&#39;s cohorts as computed on" in html or (
        "Children in the panel's cohorts as computed on" in html
    )
    got = cast.admin.get("/panel/tracker", params={"format": "csv"})
    line = next(
        r for r in csv.DictReader(io.StringIO(got.text)) if r["Child reference"] == ico["reference"]
    )
    assert line["Cohort members computed"].startswith(today().isoformat()[:4])
