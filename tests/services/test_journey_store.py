"""The transition's statements: on PostgreSQL one statement writes exactly the rows the
statements one by one write (byte for byte, JSON text included); a moved version writes
nothing; the async path answers what a re-read shows."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

import states
from services.access import Principal
from services.config import Settings
from services.db import make_async_engine
from services.journey_store import Transition, one_statement, read, write, write_one_by_one
from services.journeys import DeadlineView, JourneyService
from tests.conftest import Api
from workflow.engine import DeadlineChange, TransitionPlan

# (event, occurred_on, data): every kind of deadline change (open, move, meet, cancel),
# a state change, a repeated internal event and a closing event with an outcome.
CARE_PROCEEDINGS = [
    ("make_ico", "2025-09-03", {}),
    (
        "add_direction",
        "2025-09-10",
        {"direction": "Psychological assessment", "due_on": "2025-11-05"},
    ),
    ("add_direction", "2025-09-12", {"direction": "Parenting assessment", "due_on": "2025-10-31"}),
    ("extend_timetable", "2026-02-10", {"weeks": 4, "reason": "Awaiting the expert's report."}),
    ("complete_direction", "2026-02-11", {"direction_ref": "1"}),
    ("file_final_evidence", "2026-02-20", {}),
    ("list_final_hearing", "2026-02-25", {"hearing_date": "2026-03-20"}),
    ("conclude", "2026-03-20", {"outcome": "care_order", "care_plan": "adoption"}),
]
PERMANENCE_PLANNING = [
    ("hold_review", "2026-01-15", {"notes": "First review held: «quotes» and ünïcode."}),
    ("hold_review", "2026-04-10", {}),
    (
        "record_permanence_plan",
        "2026-04-10",
        {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
    ),
    ("cease_looked_after", "2026-05-01", {"reason": "adopted"}),
]


def _on_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes a transition statement by statement: nothing to compare")


def _rows(conn: Connection, journey_id: int, opened: list[int]) -> dict[str, Any]:
    """The journey's rows as the database holds them (JSON as its stored text), with the ids
    of the deadlines just opened replaced by their place in the plan (sequences are not
    rolled back, so the two writes get different ids)."""
    place = {deadline_id: f"opened-{i}" for i, deadline_id in enumerate(opened)}
    journey = conn.execute(
        text(
            "SELECT child_id, type, state, status, version, definition_version, started_on,"
            " closed_on, outcome, data::text, created_at, updated_at FROM journey WHERE id = :j"
        ),
        {"j": journey_id},
    ).one()
    events = conn.execute(
        text(
            "SELECT journey_version, event, from_state, to_state, occurred_on, recorded_at,"
            " actor_id, data::text, prev_hash, row_hash FROM journey_event WHERE journey_id = :j"
            " ORDER BY journey_version"
        ),
        {"j": journey_id},
    ).all()
    deadlines = conn.execute(
        text(
            "SELECT id, journey_id, child_id, meeting_id, kind, ref, due_on, owner_id,"
            " owner_role, status, met_on, created_at, updated_at FROM deadline"
            " WHERE journey_id = :j ORDER BY id"
        ),
        {"j": journey_id},
    ).all()
    return {
        "journey": tuple(journey),
        "events": [tuple(e) for e in events],
        "deadlines": sorted(((place.get(d.id, d.id), *tuple(d)[1:]) for d in deadlines), key=str),
    }


def _planned(
    service: JourneyService,
    conn: Connection,
    journey_id: int,
    step: tuple[str, str, dict[str, Any]],
    principal: Principal,
) -> Transition:
    event, on, data = step
    row, deadline_rows = read(conn, journey_id)
    deadlines = [DeadlineView(*r) for r in deadline_rows]
    return service.plan_transition(row, deadlines, event, date.fromisoformat(on), data, principal)


@pytest.mark.parametrize(
    ("journey_type", "started_on", "steps"),
    [
        ("care_proceedings", "2025-09-01", CARE_PROCEEDINGS),
        ("permanence_planning", None, PERMANENCE_PLANNING),
    ],
)
def test_one_statement_writes_what_the_statements_one_by_one_write(
    engine: Engine,
    sw: Api,
    journey_service: JourneyService,
    principal_of: Any,
    journey_type: str,
    started_on: str | None,
    steps: list[tuple[str, str, dict[str, Any]]],
) -> None:
    _on_postgres(engine)
    child = sw.create_child(looked_after_since="2025-08-20")
    journey = sw.start(child["id"], journey_type, started_on=started_on)
    principal = principal_of(sw.user_id)
    actions: set[str] = set()
    for step in steps:
        with engine.connect() as conn, conn.begin():
            t = _planned(journey_service, conn, journey["id"], step, principal)
            assert one_statement(t.plan), step
            actions |= {c.action for c in t.plan.deadline_changes}
            savepoint = conn.begin_nested()
            by_one = write_one_by_one(conn, t)
            assert by_one is not None
            expected = _rows(conn, journey["id"], by_one)
            savepoint.rollback()
            at_once = write(conn, t)
            assert at_once is not None
            assert len(at_once) == len(by_one)
            assert _rows(conn, journey["id"], at_once) == expected, step
    assert actions == {"open", "move", "meet", "cancel"}
    # The answers the API gives from these rows read back as the service wrote them.
    assert sw.reload(journey)["version"] == len(steps) + 1


def test_a_moved_version_writes_nothing(
    engine: Engine, sw: Api, journey_service: JourneyService, principal_of: Any
) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    principal = principal_of(sw.user_id)
    with engine.connect() as conn, conn.begin():
        t = _planned(journey_service, conn, journey["id"], PERMANENCE_PLANNING[0], principal)
    sw.fire(journey, "hold_review", "2026-01-10")  # someone else moves the version first
    before = sw.history(journey), sw.reload(journey)["deadlines"]
    with engine.connect() as conn, conn.begin():
        assert write(conn, t) is None
    assert (sw.history(journey), sw.reload(journey)["deadlines"]) == before


def test_changes_that_interact_go_one_by_one() -> None:
    def plan(*changes: DeadlineChange) -> TransitionPlan:
        return TransitionPlan("e", "a", "a", date(2026, 1, 1), {}, {}, changes, False, None)

    meet = DeadlineChange("meet", "review", "", None)
    open_ = DeadlineChange("open", "review", "", date(2026, 6, 1))
    move = DeadlineChange("move", "review", "", date(2026, 7, 1))
    other = DeadlineChange("move", "plan", "", date(2026, 7, 1))
    assert one_statement(plan(meet, open_))  # the met one is not the one opened
    assert one_statement(plan(meet, other, open_))
    assert not one_statement(plan(open_, meet))  # one by one, the meet would meet the new one
    assert not one_statement(plan(move, meet))  # two changes to one deadline


def test_the_async_path_answers_what_a_re_read_shows(
    engine: Engine, sw: Api, settings: Settings, principal_of: Any
) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    principal = principal_of(sw.user_id)

    async def fire_twice() -> list[Any]:
        async_engine = make_async_engine(settings.database_url, pool_size=2)
        service = JourneyService(
            engine, states.build_registry(), settings.policy(), async_engine=async_engine
        )
        try:
            views = []
            for version, (event, on, data) in enumerate(PERMANENCE_PLANNING[:2], start=1):
                views.append(
                    await service.fire_async(
                        journey["id"],
                        event=event,
                        expected_version=version,
                        occurred_on=date.fromisoformat(on),
                        data=data,
                        principal=principal,
                    )
                )
            return [views, service.get(journey["id"], principal)]
        finally:
            if async_engine is not None:
                await async_engine.dispose()

    views, reread = asyncio.run(fire_twice())
    assert views[-1] == reread
    assert [h["event"] for h in sw.history(journey)] == ["start", "hold_review", "hold_review"]
