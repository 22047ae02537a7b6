"""The tracker lists every child the panel tracks, decided on or not (issue 14 item 6,
Sefton: "once the order is made the child needs to be added to the panel tracker"), and
its reads stay bounded: no statement passes the children's ids as parameters (at 84,000
children that list failed with a database error)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

import states
from panels.config import load_panel
from panels.service import PanelService
from services.access import Principal
from services.clock import today
from services.config import Settings
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people


@pytest.fixture(autouse=True)
def _sefton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "sefton")


def _interim_care_order(factory: Journeys) -> dict[str, Any]:
    """A child whose interim care order is made: no referral, no agenda, no decision."""
    child = factory.child()
    journey = factory.sw.start(child["id"], "care_proceedings", iso(today() - timedelta(days=30)))
    factory.sw.fire(journey, "make_ico", iso(today() - timedelta(days=20)))
    return child


def test_a_child_with_an_interim_care_order_is_on_the_tracker_undecided(
    make_user: UserFactory,
) -> None:
    cast = people(make_user)
    factory = Journeys(cast.sw)
    ico = _interim_care_order(factory)
    rows = ok(cast.admin.get("/panel/tracker"))
    row = next((r for r in rows if r["child_id"] == ico["id"]), None)
    assert row is not None, rows  # before: only children a meeting had listed or decided
    assert row["journey_type"] == "care_proceedings" and row["state"] == "ico_made"
    assert row["last_decision"] is None
    assert row["next_deadline"] == "proceedings_26_weeks"
    # The exports hold the same child, its decision in words.
    got = cast.admin.get("/panel/tracker", params={"format": "csv"})
    assert got.status_code == 200, got.text
    lines = list(csv.DictReader(io.StringIO(got.text)))
    line = next(r for r in lines if r["Child reference"] == ico["reference"])
    assert line["Last decision"] == "No decision yet"
    assert len(lines) == len(rows)


def test_another_teams_tracked_child_is_not_shown_to_a_social_worker(
    make_user: UserFactory,
) -> None:
    cast = people(make_user)
    ico = _interim_care_order(Journeys(cast.sw))
    south = make_user("sw.south", "social_worker", team="south")
    assert all(r["child_id"] != ico["id"] for r in ok(south.get("/panel/tracker")))
    assert any(r["child_id"] == ico["id"] for r in ok(cast.sw.get("/panel/tracker")))


@contextmanager
def _parameters(engine: Engine) -> Iterator[list[int]]:
    """The number of bound parameters of each statement the tracker runs on ``engine``."""
    counts: list[int] = []

    def count(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        # services.cohorts reads the hand-typed legal status of children without a care
        # record in chunks of its own (_CHUNK ids a statement): bounded, and not the tracker's.
        # The reads only: a first view on a fresh database stores the cohort snapshot
        # (services.cohort_snapshot), whose INSERT is paged by SQLAlchemy (1,000 rows a
        # statement), so bounded too.
        reads = statement.lstrip().upper().startswith(("SELECT", "WITH"))
        if reads and "looked_after_since" not in statement:
            counts.append(len(params) if params else 0)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_tracker_reads_pass_no_list_of_children(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    principal_of: Callable[[int], Principal],
) -> None:
    cast = people(make_user)
    factory = Journeys(cast.sw)
    children = [_interim_care_order(factory)["id"] for _ in range(30)]
    panel = PanelService(engine, states.build_registry(), load_panel("sefton"), settings.policy())
    principal = principal_of(cast.admin.user_id)
    with _parameters(engine) as counts:
        rows = panel.tracker(principal)
    assert set(children) <= {r.child_id for r in rows}
    assert counts and max(counts) < 30, counts  # before: one parameter per child


def test_the_tracker_page_is_paged(
    make_user: UserFactory, web_as: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.web.routes import panel_tracker

    monkeypatch.setattr(panel_tracker, "PAGE_SIZE", 5)
    cast = people(make_user)
    factory = Journeys(cast.sw)
    for _ in range(7):
        _interim_care_order(factory)
    pages = web_as(cast.admin)
    first = pages.get("/panel/tracker")
    assert first.status_code == 200
    assert "7 children (page 1)" in first.text
    assert first.text.count('<th scope="row"') == 5
    assert 'href="/panel/tracker?page=2"' in first.text
    second = pages.get("/panel/tracker?page=2")
    assert second.text.count('<th scope="row"') == 2 and "7 children (page 2)" in second.text
    # The download holds every row whatever the page.
    assert pages.get("/panel/tracker.csv?page=2").text.count("\n") == 8
