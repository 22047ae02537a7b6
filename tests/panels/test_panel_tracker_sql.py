"""The tracker's filters, order, count and page are SQL (issue 12 item 4: a national panel
following every cohort member tracks 83,000 children, and the page read and built them all
to show 200). These tests hold the SQL to what the page did before: every row built, the
RAG worked out in Python from the child's open deadlines, then the page's filters kept in
memory and the page cut from the list. Over a varied tracker (two teams, four journeys, no
journey, overdue / due soon / later / no deadline, decisions superseded by later ones, an
action, a case) every filter alone and in combination, each date to rate on and each
reader give exactly the old rows, in the old order, paged the old way."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

import states
from panels.config import load_panel
from panels.models import ACTIONS, CASES, DECISIONS, ITEMS, MEETINGS
from panels.results import NO_DECISION, TrackerFilters, TrackerRow
from panels.service import PanelService
from services.access import Principal
from services.clock import today
from services.config import Settings
from services.models import DEADLINES
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, people

RAGS = ("red", "amber", "green")


@pytest.fixture(autouse=True)
def _sefton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "sefton")


@dataclass
class Tracker:
    panel: PanelService
    admin: Principal
    south: Principal  # a social worker of team south: that team's children only
    engine: Engine


def _ico(factory: Journeys, started_days_ago: int, **child: Any) -> dict[str, Any]:
    """A child with an interim care order (Sefton's cohort), its 26-week deadline set by
    when the proceedings started."""
    made = factory.child(**child)
    journey = factory.sw.start(
        made["id"], "care_proceedings", iso(today() - timedelta(days=started_days_ago))
    )
    factory.sw.fire(journey, "make_ico", iso(today() - timedelta(days=started_days_ago - 5)))
    return made


@pytest.fixture
def tracker(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    principal_of: Callable[[int], Principal],
) -> Tracker:
    cast = people(make_user)
    south_sw = make_user("sw.south", "social_worker", team="south")
    north = Journeys(cast.sw)
    south = Journeys(south_sw)
    south.n = 500
    children: list[dict[str, Any]] = []
    # 26 weeks is 182 days: started 200 days ago is overdue, 178 due in 4 days (amber with
    # Sefton's window), 182 due today (amber, not overdue), 100 and 30 later (green).
    for i, ago in enumerate((200, 178, 182, 100, 30, 190, 176, 60)):
        children.append(_ico(north, ago))
        children.append(
            _ico(south, ago + i, team="south", allocated_social_worker_id=south_sw.user_id)
        )
    # Other journeys of the cohorts the panel takes (placed with parents; SGO plans).
    for factory, extra in (
        (north, {}),
        (south, {"team": "south", "allocated_social_worker_id": south_sw.user_id}),
    ):
        children.append(factory.pwp() if not extra else _pwp(factory, extra))
    # A child the panel has a case for but no journey: tracked, its journey empty.
    bare = north.child()
    stamp = datetime.now().astimezone()
    panel = PanelService(engine, states.build_registry(), load_panel("sefton"), settings.policy())
    with engine.begin() as conn:
        conn.execute(
            insert(CASES).values(
                panel=panel.key,
                child_id=bare["id"],
                journey_id=None,
                review_weeks=6,
                next_review_on=today() + timedelta(days=42),
                updated_at=stamp,
            )
        )
        # Two held meetings with decisions: a later decision supersedes an earlier one,
        # and on one meeting two decisions for a child are ordered by id.
        meetings = []
        for held in (today() - timedelta(days=60), today() - timedelta(days=20)):
            meetings.append(
                conn.execute(
                    insert(MEETINGS)
                    .values(
                        panel=panel.key,
                        scheduled_for=held,
                        meeting_date=held,
                        start_time="10:00",
                        length_minutes=120,
                        status="held",
                        minutes={},
                        created_at=stamp,
                        updated_at=stamp,
                    )
                    .returning(MEETINGS.c.id)
                ).scalar_one()
            )
        ids = [c["id"] for c in children]
        decided = [
            (meetings[0], ids[0], "approved"),
            (meetings[1], ids[0], "deferred"),  # the later meeting: last
            (meetings[0], ids[1], "deferred"),
            (meetings[1], ids[3], "approved"),
            (meetings[1], ids[3], "not_approved"),  # same meeting, later id: last
            (meetings[0], ids[6], "approved"),
            (meetings[1], bare["id"], "deferred"),
        ]
        for position, (meeting_id, child_id, outcome) in enumerate(decided):
            item = conn.execute(
                insert(ITEMS)
                .values(
                    meeting_id=meeting_id,
                    part="tracking",
                    position=position,
                    source="referral",
                    cohorts=[],
                    child_id=child_id,
                    minutes=10,
                    status="decided",
                    created_at=stamp,
                    updated_at=stamp,
                )
                .returning(ITEMS.c.id)
            ).scalar_one()
            conn.execute(
                insert(DECISIONS).values(
                    item_id=item,
                    meeting_id=meeting_id,
                    child_id=child_id,
                    outcome=outcome,
                    funding={},
                    recorded_by=cast.admin.user_id,
                    recorded_at=stamp,
                )
            )
            if position == 0:
                journey_id = conn.execute(
                    select(DEADLINES.c.journey_id).where(DEADLINES.c.child_id == child_id)
                ).scalar()
                conn.execute(
                    insert(ACTIONS).values(
                        meeting_id=meeting_id,
                        item_id=item,
                        child_id=child_id,
                        journey_id=journey_id,
                        description="Send the plan",
                        owner_role="social_worker",
                        due_on=today() + timedelta(days=7),
                        created_by=cast.admin.user_id,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
    return Tracker(
        panel=panel,
        admin=principal_of(cast.admin.user_id),
        south=principal_of(south_sw.user_id),
        engine=engine,
    )


def _pwp(factory: Journeys, child: dict[str, Any]) -> dict[str, Any]:
    """A placement with parents journey for a child of another team."""
    made = factory.child(legal_status="care_order", **child)
    factory.sw.start(made["id"], "placed_with_parents", iso(factory.start))
    return made


# -- what the page did before: every row built, then filtered in memory ----------------------


def _old_rag(row: TrackerRow, as_of: date, amber: int) -> str:
    """The Python rule the tracker had."""
    if row.overdue_deadlines:
        return "red"
    if row.next_deadline_due is not None and (row.next_deadline_due - as_of).days <= amber:
        return "amber"
    return "green"


def _old_keep(f: TrackerFilters, row: TrackerRow) -> bool:
    """The page's old in-memory filter."""
    outcome = row.last_decision or NO_DECISION
    return (
        (not f.team or row.team == f.team)
        and (not f.journey_type or row.journey_type == f.journey_type)
        and (not f.rag or row.rag == f.rag)
        and (not f.outcome or outcome == f.outcome)
        and (not f.overdue or row.overdue_deadlines > 0)
        and (not f.q or f.q.lower() in row.child_reference.lower())
    )


def _open_deadlines(engine: Engine) -> dict[int, list[Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(DEADLINES.c.child_id, DEADLINES.c.kind, DEADLINES.c.due_on).where(
                DEADLINES.c.status == "open"
            )
        ).all()
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(r.child_id, []).append(r)
    return out


def _filter_sets(rows: list[TrackerRow]) -> list[TrackerFilters]:
    """Every filter alone with each value the rows hold (and one they do not), and the
    pairs of them."""
    teams = sorted({r.team for r in rows})
    types = sorted({r.journey_type for r in rows if r.journey_type})
    outcomes = [*sorted({r.last_decision for r in rows if r.last_decision}), NO_DECISION]
    singles = (
        [TrackerFilters()]
        + [TrackerFilters(team=t) for t in teams]
        + [TrackerFilters(journey_type=t) for t in types]
        + [TrackerFilters(rag=r) for r in RAGS]
        + [TrackerFilters(outcome=o) for o in outcomes]
        + [TrackerFilters(overdue=True)]
        + [TrackerFilters(q=q) for q in ("p-05", "0001", "P-000", "zzz", "%", "_")]
    )
    pairs = []
    for a, b in itertools.combinations(singles[1:], 2):
        merged = _fields(a) | _fields(b)
        if len(merged) == len(_fields(a)) + len(_fields(b)):
            pairs.append(TrackerFilters(**merged))
    return singles + pairs


def _fields(f: TrackerFilters) -> dict[str, Any]:
    return {
        k: getattr(f, k)
        for k in ("team", "journey_type", "rag", "outcome", "overdue", "q")
        if getattr(f, k)
    }


@pytest.mark.parametrize("days_on", [0, 5, 30])
def test_sql_filters_order_and_pages_give_the_rows_the_old_filtering_gave(
    tracker: Tracker, days_on: int
) -> None:
    as_of = today() + timedelta(days=days_on)
    amber = tracker.panel.config.tracker.amber_within_days
    deadlines = _open_deadlines(tracker.engine)
    for reader in (tracker.admin, tracker.south):
        every = tracker.panel.tracker(reader, as_of)
        assert len(every) > 10 if reader is tracker.admin else len(every) > 5
        assert [r.child_id for r in every] == sorted(r.child_id for r in every)
        # Each row's next deadline, overdue count and RAG as the old reads and rule made
        # them, from the open deadlines themselves.
        for row in every:
            mine = deadlines.get(row.child_id, [])
            first = min((d.due_on for d in mine), default=None)
            assert row.next_deadline_due == first
            assert row.next_deadline == min(
                (d.kind for d in mine if d.due_on == first), default=None
            )
            assert row.overdue_deadlines == sum(1 for d in mine if d.due_on < as_of)
            assert row.rag == _old_rag(row, as_of, amber)
        # The choices are what the unfiltered rows hold.
        held = tracker.panel.tracker_choices(reader, as_of)
        assert held.teams == sorted({r.team for r in every})
        assert held.journey_types == sorted({r.journey_type for r in every if r.journey_type})
        assert held.outcomes == sorted({r.last_decision for r in every if r.last_decision})
        for f in _filter_sets(every):
            expected = [r for r in every if _old_keep(f, r)]
            assert tracker.panel.tracker(reader, as_of, filters=f) == expected, f
            # Pages of 3, as the page cut them from the list; past the last is the last.
            size = 3
            pages = max(1, (len(expected) - 1) // size + 1)  # the old clamp: page 1 at least
            shown: list[TrackerRow] = []
            for n in range(1, pages + 1):
                page = tracker.panel.tracker_page(reader, as_of, f, page=n, page_size=size)
                assert page.total == len(expected) and page.page == n, f
                assert page.more == (n * size < len(expected)), f
                assert page.rows == expected[(n - 1) * size : n * size], (f, n)
                shown += page.rows
            assert shown == expected, f
            last = tracker.panel.tracker_page(reader, as_of, f, page=pages + 5, page_size=size)
            assert last.page == pages and last.rows == expected[(pages - 1) * size :], f


def test_the_data_set_is_varied(tracker: Tracker) -> None:
    """The comparison above covers each case: both teams, several journeys and none, every
    RAG, superseded decisions, undecided children, an action and a review date."""
    rows = tracker.panel.tracker(tracker.admin)
    assert {r.team for r in rows} == {"north", "south"}
    assert len({r.journey_type for r in rows}) >= 2 and None in {r.journey_type for r in rows}
    assert {r.rag for r in rows} == set(RAGS)
    assert {r.last_decision for r in rows} >= {"deferred", "not_approved", "approved", None}
    assert any(r.open_actions for r in rows) and any(r.next_review_on for r in rows)
    assert any(r.next_deadline is None for r in rows)


def test_the_page_is_audited_with_the_children_it_shows(tracker: Tracker) -> None:
    from services.models import AUDIT_LOG

    page = tracker.panel.tracker_page(tracker.admin, None, TrackerFilters(), page=2, page_size=4)
    with tracker.engine.connect() as conn:
        entry = conn.execute(select(AUDIT_LOG).order_by(AUDIT_LOG.c.id.desc()).limit(1)).one()
    assert entry.action == "read.tracker"
    assert sorted(entry.details["child_ids"]) == sorted(r.child_id for r in page.rows)
    assert len(page.rows) == 4
