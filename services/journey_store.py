"""The journey's statements: read a journey with its deadlines, write a transition.

Statements are built once at import and compiled once per dialect (:mod:`services.prepared`).

SQLite runs them one by one: it is in-process, so a statement costs no round trip, and its
writers queue on one lock (:mod:`services.db`).

PostgreSQL is a network round trip per statement, each worth more than the statement's own
work, so a transition takes two: the journey and its deadlines are read together (psycopg's
pipeline mode: both statements go in one flight), and the whole change is written by one
statement (:data:`_TRANSITION`, data-modifying CTEs): the ``UPDATE ... WHERE version``, the
history entry (chained onto the journey's previous event, whose hash the first read returns:
:mod:`services.history_chain`), every deadline change and the new deadlines' ids. The history
entry and the deadline writes hang off the UPDATE's ``RETURNING``, so if the version has moved
nothing is written: the optimistic check guards the whole statement as it guarded the
statements one by one. Both are server-side prepared statements. The written rows are those the
statements one by one write (``tests/services/test_journey_store.py`` compares them), and a
plan whose deadline changes could interact within one statement (two changes to one deadline,
or a change to a deadline opened by the same plan) goes statement by statement instead.

Every function here runs inside the caller's transaction (a SQLAlchemy connection's, or one
the caller runs on the driver's connection: :class:`services.prepared.Driver`); a caller on
an autocommit connection (the async engine, or :func:`services.db.driver_autocommit`) gets
the single write statement as its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

from services.history_chain import as_stored, event_digest
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.prepared import Conn, Driver, Prepared, RowMaker, dbapi_of
from workflow.engine import TransitionPlan

JOURNEY_COLUMNS = (
    J.c.id,
    J.c.child_id,
    J.c.type,
    J.c.state,
    J.c.status,
    J.c.version,
    J.c.definition_version,
    J.c.started_on,
    J.c.closed_on,
    J.c.outcome,
    J.c.data,
    C.c.reference,
    C.c.team,
    C.c.looked_after_since,
    C.c.legal_status,
    C.c.allocated_social_worker_id,
)


def _p(name: str, column: Any) -> Any:
    """A named bind parameter typed like ``column`` (so dates and JSON convert the same)."""
    return bindparam(name, type_=column.type)


# The hash of the journey's latest event, read with the journey so that the transition can
# chain its event onto it (services.history_chain) without a round trip of its own; the
# version check then guards the link as it guards the rest of the write.
_LAST_EVENT_HASH = (
    select(E.c.row_hash)
    .where(E.c.journey_id == J.c.id)
    .order_by(E.c.journey_version.desc())
    .limit(1)
    .scalar_subquery()
    .label("last_event_hash")
)
LOAD = Prepared(
    select(*JOURNEY_COLUMNS, _LAST_EVENT_HASH)
    .select_from(J.join(C, C.c.id == J.c.child_id))
    .where(J.c.id == _p("journey_id", J.c.id))
)
DEADLINES = Prepared(
    select(
        D.c.id, D.c.kind, D.c.ref, D.c.due_on, D.c.status, D.c.met_on, D.c.owner_id, D.c.owner_role
    )
    .where(D.c.journey_id == _p("journey_id", D.c.journey_id))
    .order_by(D.c.due_on, D.c.id)
)
_VERSION_MATCHES = and_(
    J.c.id == _p("journey_id", J.c.id), J.c.version == _p("expected_version", J.c.version)
)
_ADVANCE = Prepared(
    update(J)
    .where(_VERSION_MATCHES)
    .values(
        state=_p("new_state", J.c.state),
        version=_p("new_version", J.c.version),
        data=_p("new_data", J.c.data),
        updated_at=_p("stamp", J.c.updated_at),
    )
)
_ADVANCE_AND_CLOSE = Prepared(
    update(J)
    .where(_VERSION_MATCHES)
    .values(
        state=_p("new_state", J.c.state),
        version=_p("new_version", J.c.version),
        data=_p("new_data", J.c.data),
        updated_at=_p("stamp", J.c.updated_at),
        status="closed",
        closed_on=_p("new_closed_on", J.c.closed_on),
        outcome=_p("new_outcome", J.c.outcome),
    )
)
EVENT_COLUMNS = (
    "journey_id",
    "journey_version",
    "event",
    "from_state",
    "to_state",
    "occurred_on",
    "recorded_at",
    "actor_id",
    "data",
    "prev_hash",
    "row_hash",
)
_RECORD = Prepared(insert(E).values({k: _p("p_" + k, E.c[k]) for k in EVENT_COLUMNS}))
_DEADLINE_COLUMNS = (
    "journey_id",
    "child_id",
    "kind",
    "ref",
    "due_on",
    "owner_id",
    "owner_role",
    "created_at",
    "updated_at",
)
_OPEN_DEADLINE = Prepared(
    insert(D)
    .values({**{k: _p("p_" + k, D.c[k]) for k in _DEADLINE_COLUMNS}, "status": "open"})
    .returning(D.c.id)
)
_CURRENT_DEADLINE = and_(
    D.c.journey_id == _p("journey_id", D.c.journey_id),
    D.c.kind == _p("kind", D.c.kind),
    D.c.ref == _p("ref", D.c.ref),
    D.c.status == "open",
)
_MOVE_DEADLINE = Prepared(
    update(D)
    .where(_CURRENT_DEADLINE)
    .values(due_on=_p("new_due_on", D.c.due_on), updated_at=_p("stamp", D.c.updated_at))
)
_MEET_DEADLINE = Prepared(
    update(D)
    .where(_CURRENT_DEADLINE)
    .values(
        status="met", met_on=_p("new_met_on", D.c.met_on), updated_at=_p("stamp", D.c.updated_at)
    )
)
_CANCEL_DEADLINE = Prepared(
    update(D)
    .where(_CURRENT_DEADLINE)
    .values(status="cancelled", updated_at=_p("stamp", D.c.updated_at))
)

# -- PostgreSQL: the whole transition in one statement ----------------------------------------

# The deadline changes travel as parallel arrays, one element per change in the plan's order
# (``ord``); each column of the SET list keeps its value unless the change's action sets it,
# so a row gets the values the one-change UPDATE above would give it.
#
# ``changed`` names the journey by its parameter, not only through ``advanced``: the statement
# is server-side prepared, and PostgreSQL's generic plan for it, built once per connection
# (often while the tables are nearly empty, and never re-planned while autovacuum has not
# analysed them), would otherwise reach the journey's deadlines by ``status = 'open'`` alone,
# scanning every open deadline of the authority on every event: a per-event cost that grew
# with the database (issue 13: 0.9 ms an event at the first 200 imported children, 5-8 ms at
# 2,000). With the parameter, any plan has ``ix_deadline_journey_status`` on both columns.
_TRANSITION_SQL = """
WITH advanced AS (
    UPDATE journey SET state = :new_state, version = :new_version, data = :new_data,
        updated_at = :stamp{close}
    WHERE journey.id = :journey_id AND journey.version = :expected_version
    RETURNING journey.id
), recorded AS (
    INSERT INTO journey_event (journey_id, journey_version, event, from_state, to_state,
        occurred_on, recorded_at, actor_id, data, prev_hash, row_hash)
    SELECT advanced.id, :new_version, :event, :from_state, :new_state, :occurred_on, :stamp,
        :actor_id, :event_data, :event_prev_hash, :event_hash
    FROM advanced
), changes AS (
    SELECT * FROM unnest(:c_action, :c_kind, :c_ref, :c_due_on, :c_owner_id, :c_owner_role)
        WITH ORDINALITY AS c(action, kind, ref, due_on, owner_id, owner_role, ord)
), changed AS (
    UPDATE deadline SET
        status = CASE c.action WHEN 'meet' THEN 'met' WHEN 'cancel' THEN 'cancelled'
            ELSE deadline.status END,
        due_on = CASE c.action WHEN 'move' THEN c.due_on ELSE deadline.due_on END,
        met_on = CASE c.action WHEN 'meet' THEN :occurred_on ELSE deadline.met_on END,
        updated_at = :stamp
    FROM changes AS c, advanced
    WHERE c.action <> 'open' AND deadline.journey_id = :journey_id
        AND deadline.kind = c.kind AND deadline.ref = c.ref AND deadline.status = 'open'
), opened AS (
    INSERT INTO deadline (journey_id, child_id, kind, ref, due_on, owner_id, owner_role,
        status, created_at, updated_at)
    SELECT advanced.id, :child_id, c.kind, c.ref, c.due_on, c.owner_id, c.owner_role,
        'open', :stamp, :stamp
    FROM changes AS c, advanced
    WHERE c.action = 'open'
    ORDER BY c.ord
    RETURNING deadline.id
)
SELECT (SELECT count(*) FROM advanced) AS advanced,
    ARRAY(SELECT opened.id FROM opened ORDER BY opened.id) AS opened_ids
"""
_TRANSITION_BINDS = (
    _p("new_state", J.c.state),
    _p("new_version", J.c.version),
    _p("new_data", J.c.data),
    _p("stamp", J.c.updated_at),
    _p("journey_id", J.c.id),
    _p("expected_version", J.c.version),
    _p("event", E.c.event),
    _p("from_state", E.c.from_state),
    _p("occurred_on", E.c.occurred_on),
    _p("actor_id", E.c.actor_id),
    _p("event_data", E.c.data),
    _p("event_prev_hash", E.c.prev_hash),
    _p("event_hash", E.c.row_hash),
    _p("child_id", D.c.child_id),
    bindparam("c_action", type_=ARRAY(String)),
    bindparam("c_kind", type_=ARRAY(String)),
    bindparam("c_ref", type_=ARRAY(String)),
    bindparam("c_due_on", type_=ARRAY(Date)),
    bindparam("c_owner_id", type_=ARRAY(Integer)),
    bindparam("c_owner_role", type_=ARRAY(String)),
)


def _transition(close: str = "", *close_binds: Any) -> Prepared:
    statement = text(_TRANSITION_SQL.format(close=close)).bindparams(
        *_TRANSITION_BINDS, *close_binds
    )
    return Prepared(statement.columns(advanced=Integer, opened_ids=ARRAY(Integer)))


_TRANSITION = _transition()
_TRANSITION_AND_CLOSE = _transition(
    ", status = 'closed', closed_on = :new_closed_on, outcome = :new_outcome",
    _p("new_closed_on", J.c.closed_on),
    _p("new_outcome", J.c.outcome),
)


@dataclass(frozen=True)
class Transition:
    """One planned event, ready to write: the journey it moves from ``expected_version``, who
    fires it, when it was recorded, the social worker who owns the deadlines it opens, and
    the hash of the journey's event before it (None for its first, or after unchained
    events)."""

    journey_id: int
    child_id: int
    expected_version: int
    social_worker_id: int | None
    actor_id: int
    stamp: Any
    plan: TransitionPlan
    prev_hash: str | None = None

    @property
    def new_version(self) -> int:
        """The version the journey has once this is written."""
        return self.expected_version + 1

    def event_data(self) -> dict[str, Any]:
        """The history entry's data: the event's, plus the deadline changes it made."""
        data = dict(self.plan.event_data)
        if self.plan.deadline_changes:
            data["deadlines"] = [c.as_json() for c in self.plan.deadline_changes]
        return data

    def event_hash(self, data: dict[str, Any]) -> str:
        """The history entry's hash, chained onto :attr:`prev_hash`, for ``data`` (what
        :meth:`event_data` returns)."""
        plan = self.plan
        return event_digest(
            prev_hash=self.prev_hash,
            journey_id=self.journey_id,
            journey_version=self.new_version,
            event=plan.event,
            from_state=plan.from_state,
            to_state=plan.to_state,
            occurred_on=plan.occurred_on,
            recorded_at=self.stamp,
            actor_id=self.actor_id,
            data=as_stored(data),
        )

    def owner_of(self, owner_role: str) -> int | None:
        """Who owns a deadline the rule gives to ``owner_role``."""
        return self.social_worker_id if owner_role == "social_worker" else None


def one_statement(plan: TransitionPlan) -> bool:
    """Whether the plan's deadline changes can be written by one statement with the same
    result as one by one: each deadline changed at most once, and none it opens changed."""
    touched: set[tuple[str, str]] = set()
    opened: set[tuple[str, str]] = set()
    for change in plan.deadline_changes:
        key = (change.kind, change.ref)
        if change.action == "open":
            opened.add(key)
        elif key in touched or key in opened:
            return False
        else:
            touched.add(key)
    return True


# -- reading ----------------------------------------------------------------------------------


def _pipelined(conn: Conn) -> bool:
    return conn.dialect.name == "postgresql"


def read(conn: Conn, journey_id: int, deadline: RowMaker | None = None) -> tuple[Any, list[Any]]:
    """The journey with its child (None if there is none) and its deadlines, soonest first:
    named tuples, or what ``deadline`` builds from each deadline's columns (``id, kind, ref,
    due_on, status, met_on, owner_id, owner_role``)."""
    args = {"journey_id": journey_id}
    if not _pipelined(conn):
        return LOAD.first(conn, args), DEADLINES.all(conn, args, deadline)
    pg: Any = dbapi_of(conn)
    with pg.pipeline():
        journey = LOAD.execute(conn, args, prepare=True)
        deadlines = DEADLINES.execute(conn, args, prepare=True)
    try:
        row = LOAD.convert(conn.dialect, journey.fetchone())
        return row, [DEADLINES.convert(conn.dialect, r, deadline) for r in deadlines.fetchall()]
    finally:
        journey.close()
        deadlines.close()


async def read_async(
    pg: Any, dialect: Dialect, journey_id: int, deadline: RowMaker | None = None
) -> tuple[Any, list[Any]]:
    """:func:`read` on a psycopg ``AsyncConnection``: one round trip."""
    args = {"journey_id": journey_id}
    journey_sql, journey_args = LOAD.bind(dialect, args)
    deadlines_sql, deadlines_args = DEADLINES.bind(dialect, args)
    async with pg.pipeline():
        journey = pg.cursor()
        deadlines = pg.cursor()
        await journey.execute(journey_sql, journey_args, prepare=True)
        await deadlines.execute(deadlines_sql, deadlines_args, prepare=True)
    try:
        row = LOAD.convert(dialect, await journey.fetchone())
        return row, [DEADLINES.convert(dialect, r, deadline) for r in await deadlines.fetchall()]
    finally:
        await journey.close()
        await deadlines.close()


# -- writing ----------------------------------------------------------------------------------


def _transition_args(t: Transition) -> tuple[Prepared, dict[str, Any]]:
    plan = t.plan
    changes = plan.deadline_changes
    event_data = t.event_data()
    args: dict[str, Any] = {
        "journey_id": t.journey_id,
        "expected_version": t.expected_version,
        "new_state": plan.to_state,
        "new_version": t.new_version,
        "new_data": plan.journey_data,
        "stamp": t.stamp,
        "event": plan.event,
        "from_state": plan.from_state,
        "occurred_on": plan.occurred_on,
        "actor_id": t.actor_id,
        "event_data": event_data,
        "event_prev_hash": t.prev_hash,
        "event_hash": t.event_hash(event_data),
        "child_id": t.child_id,
        "c_action": [c.action for c in changes],
        "c_kind": [c.kind for c in changes],
        "c_ref": [c.ref for c in changes],
        "c_due_on": [c.due_on for c in changes],
        "c_owner_id": [t.owner_of(c.owner_role) if c.action == "open" else None for c in changes],
        "c_owner_role": [c.owner_role for c in changes],
    }
    if plan.closes:
        args.update(new_closed_on=plan.occurred_on, new_outcome=plan.outcome)
        return _TRANSITION_AND_CLOSE, args
    return _TRANSITION, args


def write(conn: Conn, t: Transition) -> list[int] | None:
    """Write the transition in the caller's transaction: the ids of the deadlines it opened,
    in the plan's order, or None if the journey's version is no longer the expected one (then
    nothing was written)."""
    if _pipelined(conn) and one_statement(t.plan):
        statement, args = _transition_args(t)
        cursor = statement.execute(conn, args, prepare=True)
        try:
            row = statement.convert(conn.dialect, cursor.fetchone())
        finally:
            cursor.close()
        return list(row.opened_ids) if row.advanced == 1 else None
    return write_one_by_one(conn, t)


async def write_async(pg: Any, dialect: Dialect, t: Transition) -> list[int] | None:
    """:func:`write` on a psycopg ``AsyncConnection`` (autocommit: the statement is the
    transaction); None if the version has moved. A plan :func:`one_statement` refuses
    must go through :func:`write` instead."""
    statement, args = _transition_args(t)
    sql, bound = statement.bind(dialect, args)
    async with pg.cursor() as cursor:
        await cursor.execute(sql, bound, prepare=True)
        row = statement.convert(dialect, await cursor.fetchone())
    return list(row.opened_ids) if row.advanced == 1 else None


def write_one_by_one(conn: Conn, t: Transition) -> list[int] | None:
    """:func:`write`, one statement per row (SQLite; PostgreSQL for the rare plan whose
    changes interact, in a transaction)."""
    if isinstance(conn, Driver) and conn.dialect.name == "postgresql":
        # A driver connection on PostgreSQL is in autocommit (services.db.driver_autocommit):
        # statements one by one there would not be one transaction.
        raise ValueError("statements one by one need a transaction, not an autocommit driver")
    plan = t.plan
    values: dict[str, Any] = {
        "journey_id": t.journey_id,
        "expected_version": t.expected_version,
        "new_state": plan.to_state,
        "new_version": t.new_version,
        "new_data": plan.journey_data,
        "stamp": t.stamp,
    }
    if plan.closes:
        values.update(new_closed_on=plan.occurred_on, new_outcome=plan.outcome)
    advance = _ADVANCE_AND_CLOSE if plan.closes else _ADVANCE
    if advance.rowcount(conn, values) != 1:
        return None
    record_event(conn, t)
    return apply_deadlines(conn, t)


def record_event(conn: Conn, t: Transition) -> None:
    """Append the history entry of ``t`` (at the journey's new version), chained."""
    plan = t.plan
    data = t.event_data()
    _RECORD.rowcount(
        conn,
        {
            "p_journey_id": t.journey_id,
            "p_journey_version": t.new_version,
            "p_event": plan.event,
            "p_from_state": plan.from_state,
            "p_to_state": plan.to_state,
            "p_occurred_on": plan.occurred_on,
            "p_recorded_at": t.stamp,
            "p_actor_id": t.actor_id,
            "p_data": data,
            "p_prev_hash": t.prev_hash,
            "p_row_hash": t.event_hash(data),
        },
    )


def apply_deadlines(conn: Conn, t: Transition) -> list[int]:
    """Write the plan's deadline changes one by one; the ids of the deadlines opened, in
    order."""
    plan = t.plan
    new_ids: list[int] = []
    for change in plan.deadline_changes:
        if change.action == "open":
            row = _OPEN_DEADLINE.first(
                conn,
                {
                    "p_journey_id": t.journey_id,
                    "p_child_id": t.child_id,
                    "p_kind": change.kind,
                    "p_ref": change.ref,
                    "p_due_on": change.due_on,
                    "p_owner_id": t.owner_of(change.owner_role),
                    "p_owner_role": change.owner_role,
                    "p_created_at": t.stamp,
                    "p_updated_at": t.stamp,
                },
            )
            new_ids.append(int(row.id))
            continue
        current: Mapping[str, Any] = {
            "journey_id": t.journey_id,
            "kind": change.kind,
            "ref": change.ref,
            "stamp": t.stamp,
        }
        if change.action == "move":
            _MOVE_DEADLINE.rowcount(conn, {**current, "new_due_on": change.due_on})
        elif change.action == "meet":
            _MEET_DEADLINE.rowcount(conn, {**current, "new_met_on": plan.occurred_on})
        else:
            _CANCEL_DEADLINE.rowcount(conn, current)
    return new_ids
