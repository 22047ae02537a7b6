"""A new child's journeys planned in memory and written together (the care record's import).

The care-record import starts a new child's journeys and fires their back-dated events one
after another (``services/care_record/journeys.py``). Through
:class:`services.journeys.JourneyService` every one of them reads its journey and deadlines,
checks the child has no active journey of the type, writes the event and each deadline
change one statement at a time, and builds a view of the journey to return: about eleven
statements a child, for a child whose journeys the same transaction has just begun, so every
read can only find what the import itself wrote.

:class:`NewJourneys` holds such a child's journeys instead: each start and event is planned
by the same code (:meth:`JourneyService.plan_new` and :meth:`JourneyService.plan_transition`,
that is the engine with the journey definitions' rules and guards) against the journey's
state, data and open deadlines as held here, and nothing is written until :meth:`write`.
That writes each table's rows together, once the journeys' ids are known: the journeys (one
row per journey, their final state), then the events (chained by
:mod:`services.history_chain` exactly as one by one, the journey's events in version order)
and the deadlines (as the last of their changes left them), each as one ``executemany`` of a
statement compiled once (:mod:`services.prepared`); psycopg sends an ``executemany`` in
pipeline mode, and the events and deadlines go in one pipeline, so PostgreSQL takes two round
trips for all of a child's journeys. The rows are those the one-by-one path writes for the
same child (``tests/services/care_record/test_fast_journeys.py`` compares every column,
hashes included).

Only for a child created in the caller's transaction: nothing here reads the database, so
a journey someone else could have started or moved would be overwritten in ignorance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert

from services.access import Principal, child_refusal
from services.clock import now_utc
from services.deadlines import before_service
from services.journey_store import EVENT_COLUMNS, Transition
from services.journeys import AccessDenied, DeadlineView, JourneyService, new_journey_values
from services.models import DEADLINES as D
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.prepared import Prepared
from workflow.definition import ChildFacts
from workflow.engine import TransitionPlan
from workflow.errors import UnknownJourneyType

_JOURNEY_FIELDS = (
    "child_id",
    "type",
    "state",
    "status",
    "version",
    "definition_version",
    "started_on",
    "closed_on",
    "outcome",
    "data",
    "created_at",
    "updated_at",
)
_INSERT_JOURNEY = Prepared(
    insert(J)
    .values({k: bindparam(k, type_=J.c[k].type) for k in _JOURNEY_FIELDS})
    .returning(J.c.id)
)
_INSERT_EVENT = Prepared(
    insert(E).values({k: bindparam(k, type_=E.c[k].type) for k in EVENT_COLUMNS})
)
_DEADLINE_FIELDS = (
    "journey_id",
    "child_id",
    "kind",
    "ref",
    "due_on",
    "status",
    "met_on",
    "owner_id",
    "owner_role",
    "before_service",
    "created_at",
    "updated_at",
)
_INSERT_DEADLINE = Prepared(
    insert(D).values({k: bindparam(k, type_=D.c[k].type) for k in _DEADLINE_FIELDS})
)


class _Row(NamedTuple):
    """A held journey as :meth:`JourneyService.plan_transition` reads a stored one."""

    id: int
    child_id: int
    type: str
    state: str
    status: str
    version: int
    definition_version: int
    started_on: date
    data: Any
    looked_after_since: date | None
    legal_status: str | None
    allocated_social_worker_id: int | None
    last_event_hash: str | None


@dataclass
class _Deadline:
    """A deadline as its changes so far leave it (``key`` orders it as its id would)."""

    key: int
    kind: str
    ref: str
    due_on: date
    status: str
    met_on: date | None
    owner_id: int | None
    owner_role: str
    created_at: Any
    updated_at: Any


@dataclass
class _Journey:
    row: _Row
    values: dict[str, Any]
    transitions: list[Transition] = field(default_factory=list)
    deadlines: list[_Deadline] = field(default_factory=list)

    def views(self) -> list[DeadlineView]:
        """The deadlines as :func:`services.journey_store.read` returns them, soonest first."""
        rows = [
            DeadlineView(
                d.key, d.kind, d.ref, d.due_on, d.status, d.met_on, d.owner_id, d.owner_role
            )
            for d in self.deadlines
        ]
        rows.sort(key=lambda d: (d.due_on, d.id))
        return rows


def _stored(data: Any) -> Any:
    # What the JSON column hands back on the next read (the one-by-one path re-reads it).
    return json.loads(json.dumps(data))


class NewJourneys:
    """One new child's journeys, planned by the engine in memory and written by
    :meth:`write` (module docstring). Handles are the journeys' positions, in start order."""

    def __init__(
        self,
        service: JourneyService,
        principal: Principal,
        *,
        child_id: int,
        team: str,
        looked_after_since: date | None,
        legal_status: str | None,
        social_worker_id: int | None,
    ) -> None:
        """``child_id`` and the child's facts as the caller has just written them."""
        reason = child_refusal(principal, team, write=True)
        if reason:
            raise AccessDenied(reason)
        self.service = service
        self.principal = principal
        self.child = ChildFacts(child_id, looked_after_since, legal_status)
        self.social_worker_id = social_worker_id
        self.journeys: list[_Journey] = []
        self._keys = 0

    def start(self, journey_type: str, *, started_on: date, provenance: Mapping[str, Any]) -> int:
        """Plan the start of a journey (with no form data, as the import starts them)."""
        jm = self.service.registry.current(journey_type)
        if jm is None:
            raise UnknownJourneyType(
                f"There is no journey type {journey_type!r}.",
                types=self.service.registry.types(),
            )
        plan = self.service.plan_new(
            jm,
            self.child,
            started_on=started_on,
            data=None,
            principal=self.principal,
            provenance=provenance,
        )
        stamp = now_utc()
        values = new_journey_values(jm, self.child.id, started_on, plan, stamp)
        values.update(closed_on=None, outcome=None)
        row = _Row(
            id=0,  # known once written; nothing planned depends on it
            child_id=self.child.id,
            type=journey_type,
            state=plan.to_state,
            status=values["status"],
            version=0,
            definition_version=jm.definition.version,
            started_on=started_on,
            data=None,
            looked_after_since=self.child.looked_after_since,
            legal_status=self.child.legal_status,
            allocated_social_worker_id=self.social_worker_id,
            last_event_hash=None,
        )
        journey = _Journey(row, values)
        self.journeys.append(journey)
        self._apply(
            journey,
            Transition(
                journey_id=0,
                child_id=self.child.id,
                expected_version=0,
                social_worker_id=self.social_worker_id,
                actor_id=self.principal.user_id,
                stamp=stamp,
                plan=plan,
            ),
        )
        return len(self.journeys) - 1

    def fire(
        self,
        handle: int,
        *,
        event: str,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        provenance: Mapping[str, Any],
    ) -> None:
        """Plan ``event`` on the journey ``handle`` as it stands here (the engine's refusals
        raised as :meth:`JourneyService.fire` raises them)."""
        journey = self.journeys[handle]
        t = self.service.plan_transition(
            journey.row,
            journey.views(),
            event,
            occurred_on,
            data,
            self.principal,
            provenance,
        )
        self._apply(journey, t)

    def _apply(self, journey: _Journey, t: Transition) -> None:
        """Hold ``t``'s change as the statements one by one would leave the rows."""
        plan: TransitionPlan = t.plan
        journey.transitions.append(t)
        status = journey.row.status
        values = journey.values
        if t.expected_version:  # an event; the start's row is ``values`` already
            values.update(state=plan.to_state, data=plan.journey_data, updated_at=t.stamp)
            if plan.closes:
                status = "closed"
                values.update(status=status, closed_on=plan.occurred_on, outcome=plan.outcome)
        values["version"] = t.new_version
        journey.row = journey.row._replace(
            state=plan.to_state,
            status=status,
            version=t.new_version,
            data=_stored(plan.journey_data),
        )
        for change in plan.deadline_changes:
            if change.action == "open":
                assert change.due_on is not None
                self._keys += 1
                journey.deadlines.append(
                    _Deadline(
                        self._keys,
                        change.kind,
                        change.ref,
                        change.due_on,
                        "open",
                        None,
                        t.owner_of(change.owner_role),
                        change.owner_role,
                        t.stamp,
                        t.stamp,
                    )
                )
                continue
            for d in journey.deadlines:
                if d.kind != change.kind or d.ref != change.ref or d.status != "open":
                    continue
                d.updated_at = t.stamp
                if change.action == "move":
                    assert change.due_on is not None
                    d.due_on = change.due_on
                elif change.action == "meet":
                    d.status, d.met_on = "met", plan.occurred_on
                else:
                    d.status = "cancelled"

    def write(self, conn: Connection, *, day: date) -> None:
        """Write the journeys, their events and deadlines in the caller's transaction;
        ``day`` is the import's, for the deadlines already due on it
        (:func:`services.deadlines.before_service`)."""
        if not self.journeys:
            return
        ids = _insert_journeys(conn, [j.values for j in self.journeys])
        events: list[dict[str, Any]] = []
        deadlines: list[dict[str, Any]] = []
        for journey_id, journey in zip(ids, self.journeys, strict=True):
            prev: str | None = None
            for t in journey.transitions:
                t = replace(t, journey_id=journey_id, prev_hash=prev)
                data = t.event_data()
                prev = t.event_hash(data)
                plan = t.plan
                events.append(
                    {
                        "journey_id": journey_id,
                        "journey_version": t.new_version,
                        "event": plan.event,
                        "from_state": plan.from_state,
                        "to_state": plan.to_state,
                        "occurred_on": plan.occurred_on,
                        "recorded_at": t.stamp,
                        "actor_id": t.actor_id,
                        "data": data,
                        "prev_hash": t.prev_hash,
                        "row_hash": prev,
                    }
                )
            deadlines.extend(
                {
                    "journey_id": journey_id,
                    "child_id": self.child.id,
                    "kind": d.kind,
                    "ref": d.ref,
                    "due_on": d.due_on,
                    "status": d.status,
                    "met_on": d.met_on,
                    "owner_id": d.owner_id,
                    "owner_role": d.owner_role,
                    "before_service": before_service(d.status, d.due_on, day),
                    "created_at": d.created_at,
                    "updated_at": d.updated_at,
                }
                for d in journey.deadlines
            )
        _insert_rest(conn, events, deadlines)


def _insert_journeys(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the journeys in order; their ids in the same order."""
    dialect = conn.dialect
    bound = [_INSERT_JOURNEY.bind(dialect, r) for r in rows]
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql" and len(bound) > 1:
            # One round trip; psycopg returns each parameter set's rows in order.
            cursor.executemany(bound[0][0], [args for _, args in bound], returning=True)
            ids = []
            while True:
                ids.append(int(cursor.fetchone()[0]))
                if not cursor.nextset():
                    break
            return ids
        ids = []
        for sql, args in bound:
            cursor.execute(sql, args)
            ids.append(int(cursor.fetchone()[0]))
        return ids
    finally:
        cursor.close()


def _insert_rest(
    conn: Connection, events: list[dict[str, Any]], deadlines: list[dict[str, Any]]
) -> None:
    """The events and deadlines, each table as one ``executemany`` (one pipeline on
    PostgreSQL)."""
    dialect = conn.dialect
    raw: Any = conn.connection.dbapi_connection
    cursor: Any = raw.cursor()
    try:
        if dialect.name == "postgresql":
            with raw.pipeline():
                _INSERT_EVENT.executemany(cursor, dialect, events)
                if deadlines:
                    _INSERT_DEADLINE.executemany(cursor, dialect, deadlines)
        else:
            _INSERT_EVENT.executemany(cursor, dialect, events)
            if deadlines:
                _INSERT_DEADLINE.executemany(cursor, dialect, deadlines)
    finally:
        cursor.close()
