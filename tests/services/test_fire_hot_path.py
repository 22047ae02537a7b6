"""The transition's hot path (issue 12 item 5): ``JourneyService.fire`` runs its own
transaction on the driver's connection (SQLite: the writer lock and ``BEGIN IMMEDIATE``;
PostgreSQL: autocommit, the reads pipelined and one write statement), binds through
``Prepared``'s precomputed parameter lists, and plans with each definition's tables worked
out once. What it writes and answers stays what a re-read shows."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, bindparam, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

import states
from services import journey_store
from services.db import driver_autocommit, driver_write, is_sqlite, write_connection
from services.journeys import DeadlineView, JourneyService
from services.prepared import Prepared
from tests.conftest import Api
from tests.services.test_journey_store import CARE_PROCEEDINGS
from workflow.definition import ANY_OPEN_STATE


def _fire_all(
    service: JourneyService, journey_id: int, principal: Any, steps: list[Any]
) -> list[tuple[Any, Any]]:
    """Fire each step through ``fire`` (its own transaction); each answer beside a re-read."""
    out = []
    for version, (event, on, data) in enumerate(steps, start=1):
        view = service.fire(
            journey_id,
            event=event,
            expected_version=version,
            occurred_on=date.fromisoformat(on),
            data=data,
            principal=principal,
        )
        out.append((view, service.get(journey_id, principal)))
    return out


def test_fire_answers_what_a_re_read_shows_through_every_kind_of_change(
    sw: Api, journey_service: JourneyService, principal_of: Any
) -> None:
    child = sw.create_child(looked_after_since="2025-08-20")
    journey = sw.start(child["id"], "care_proceedings", started_on="2025-09-01")
    principal = principal_of(sw.user_id)
    for view, reread in _fire_all(journey_service, journey["id"], principal, CARE_PROCEEDINGS):
        assert view == reread
    assert view.status == "closed"
    assert view.outcome == "care_order"
    assert all(d.status != "open" for d in view.deadlines)  # closing cancelled the rest


def test_fire_on_postgres_writes_interacting_changes_in_one_transaction(
    engine: Engine,
    sw: Api,
    journey_service: JourneyService,
    principal_of: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan the single statement cannot write goes statement by statement in a transaction
    (never on the autocommit connection), with the same answer and rows."""
    if is_sqlite(engine):
        pytest.skip("SQLite always writes statement by statement")
    monkeypatch.setattr(journey_store, "one_statement", lambda plan: False)
    child = sw.create_child(looked_after_since="2025-08-20")
    journey = sw.start(child["id"], "care_proceedings", started_on="2025-09-01")
    principal = principal_of(sw.user_id)
    for view, reread in _fire_all(journey_service, journey["id"], principal, CARE_PROCEEDINGS[:3]):
        assert view == reread
    assert reread.version == 4


def test_statements_one_by_one_refuse_an_autocommit_connection(
    engine: Engine, sw: Api, journey_service: JourneyService, principal_of: Any
) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL's autocommit driver connection only")
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    principal = principal_of(sw.user_id)
    with driver_autocommit(engine) as driver:
        row, deadlines = journey_store.read(driver, journey["id"], DeadlineView.of_row)
        t = journey_service.plan_transition(
            row, deadlines, "hold_review", date(2026, 1, 15), {}, principal
        )
        with pytest.raises(ValueError, match="transaction"):
            journey_store.write_one_by_one(driver, t)
    assert sw.reload(journey)["version"] == 1


def test_driver_autocommit_gives_the_connection_back_in_transaction_mode(engine: Engine) -> None:
    if is_sqlite(engine):
        pytest.skip("PostgreSQL only")
    with driver_autocommit(engine) as driver:
        dbapi = driver.dbapi_connection
        assert dbapi.autocommit is True
    assert dbapi.autocommit is False
    with pytest.raises(RuntimeError), driver_autocommit(engine) as driver:
        raise RuntimeError("the caller failed")
    assert driver.dbapi_connection.autocommit is False


def _count_teams(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM team WHERE name = :n"), {"n": name}
            ).scalar_one()
        )


def _add_team(dbapi: Any, name: str) -> None:
    dbapi.execute(
        "INSERT INTO team (name, title, created_at) VALUES (?, ?, '2026-01-01 00:00:00')",
        (name, name.title()),
    )


def test_driver_write_commits_rolls_back_and_holds_the_writer_lock(engine: Engine) -> None:
    if not is_sqlite(engine):
        pytest.skip("SQLite only")
    with driver_write(engine) as driver:
        _add_team(driver.dbapi_connection, "kept")
    assert _count_teams(engine, "kept") == 1
    with pytest.raises(RuntimeError), driver_write(engine) as driver:
        _add_team(driver.dbapi_connection, "dropped")
        raise RuntimeError("the caller failed")
    assert _count_teams(engine, "dropped") == 0
    # While one driver transaction is open, another thread's write waits for the lock.
    order: list[str] = []
    with driver_write(engine) as driver:
        other = threading.Thread(target=lambda: _write_then_note(engine, order))
        other.start()
        other.join(0.3)
        order.append("first committed")
    other.join(10)
    assert order == ["first committed", "second wrote"]


def _write_then_note(engine: Engine, order: list[str]) -> None:
    with write_connection(engine) as conn:
        conn.execute(text("SELECT 1"))
        order.append("second wrote")


# -- definitions' tables ------------------------------------------------------------------


def test_definition_tables_are_what_the_states_and_events_say() -> None:
    registry = states.build_registry()
    for journey_type in registry.types():
        d = registry.current(journey_type).definition  # type: ignore[union-attr]
        open_states = tuple(s.name for s in d.states if not s.final)
        assert d.open_states == open_states
        assert d.final_states == frozenset(s.name for s in d.states if s.final)
        assert d.state_names == tuple(s.name for s in d.states)
        for ev in (d.start, *d.events):
            expected = open_states if ANY_OPEN_STATE in ev.sources else ev.sources
            assert d.sources_of(ev) == expected
        for state in d.state_names:
            assert d.events_from(state) == tuple(e for e in d.events if state in d.sources_of(e))
        assert d.events_from("no such state") == ()


def test_a_changed_definition_gets_its_own_tables() -> None:
    """The tables are worked out per definition object: a definition made from another
    (``dataclasses.replace``, as a new version is) never reads the old one's."""
    d = states.build_registry().current("placed_with_parents").definition  # type: ignore[union-attr]
    hold_review = d.event("hold_review")
    assert hold_review is not None
    assert hold_review in d.events_from("placed")
    fewer = replace(
        d, version=d.version + 1, events=tuple(e for e in d.events if e is not hold_review)
    )
    assert hold_review not in fewer.events_from("placed")
    assert fewer.event("hold_review") is None
    # An event that is not the definition's own is worked out as it stands.
    assert fewer.sources_of(hold_review) == hold_review.sources
    narrowed = replace(hold_review, sources=(ANY_OPEN_STATE,))
    assert d.sources_of(narrowed) == d.open_states


# -- Prepared's binding -------------------------------------------------------------------

_T = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("day", Date),
    Column("status", String),
    Column("note", String),
)


@pytest.mark.parametrize(
    "dialect",
    [sqlite.dialect(), postgresql.psycopg.dialect()],  # type: ignore[no-untyped-call]
    ids=["sqlite", "postgresql"],
)
def test_prepared_binds_as_sqlalchemy_does(dialect: Any) -> None:
    statement = insert(_T).values(
        id=bindparam("id", type_=Integer),
        day=bindparam("day", type_=Date),
        status="open",  # a literal bind: a default the caller need not give
        note=bindparam("note", type_=String),
    )
    prepared = Prepared(statement)
    params = {"id": 7, "day": date(2026, 3, 1), "note": None}
    sql, bound = prepared.bind(dialect, params)
    compiled: Any = statement.compile(dialect=dialect)
    assert sql == compiled.string
    expected = compiled.construct_params(params)
    for name, proc in compiled._bind_processors.items():  # what SQLAlchemy's execute applies
        expected[name] = proc(expected[name])
    if compiled.positional:
        assert bound == tuple(expected[n] for n in compiled.positiontup or ())
    else:
        assert bound == expected
    with pytest.raises(KeyError):
        prepared.bind(dialect, {"id": 7, "day": date(2026, 3, 1)})  # note not given
