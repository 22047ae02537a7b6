"""Storing journeys: start one, fire an event, read one back. Every write is one transaction.

This is the hot path, so it speaks SQL through SQLAlchemy Core (a handful of statements per
transition) rather than the ORM. The version check in the UPDATE is what refuses a
concurrent edit: two writers with the same ``expected_version`` cannot both match it.

Firing an event reads the journey with its child and its deadlines, plans the event (the
engine, no I/O), then writes the change where the version still matches: the journey, the
history entry and the deadline changes, in one write transaction. The statements are in
:mod:`services.journey_store` (one by one on SQLite, two round trips on PostgreSQL); the
answer is built from what the transaction read plus what it wrote, rather than read back:
the transaction holds the write lock (SQLite) or has just moved the version (PostgreSQL),
so a re-read shows the same rows. :meth:`JourneyService.fire_async` is the same for the
API's event loop. When ``fire`` owns its transaction it runs it on the driver's connection
(:func:`services.db.driver_write` on SQLite, :func:`services.db.driver_autocommit` on
PostgreSQL, as ``fire_async`` does), not through SQLAlchemy's ``Connection``.

A page's event goes through :meth:`JourneyService.record` instead: the same checks and writes
in one transaction, in the order a form shows its refusals, with the refusals a form shows
again (stale version, field errors, guards) returned together with the journey as it now is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from operator import attrgetter
from typing import Any, NoReturn

from sqlalchemy import Connection, Engine, and_, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services import audit, journey_store
from services.access import Principal, child_refusal
from services.clock import now_utc, today
from services.db import (
    driver_autocommit,
    driver_connection,
    driver_write,
    insert_id,
    is_sqlite,
    read_connection,
    write_connection,
)
from services.journey_store import DEADLINES as _DEADLINES
from services.journey_store import JOURNEY_COLUMNS as _JOURNEY_COLUMNS
from services.journey_store import LOAD as _LOAD
from services.journey_store import Transition
from services.models import CHILDREN as C
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.prepared import Conn
from workflow.definition import ChildFacts, Event, Policy
from workflow.engine import (
    EventOption,
    JourneySnapshot,
    TransitionPlan,
    check_role,
    find_event,
    input_errors,
    options,
    plan_event,
    plan_start,
)
from workflow.errors import (
    EngineError,
    GuardFailed,
    InvalidData,
    StaleVersion,
    UnknownJourneyType,
)
from workflow.machines import Registry


class NotFound(EngineError):
    status_code = 404
    code = "not_found"


class AccessDenied(EngineError):
    status_code = 403
    code = "forbidden"


class AlreadyActive(EngineError):
    status_code = 409
    code = "journey_already_active"


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as a journey shows it."""

    id: int
    kind: str
    ref: str
    due_on: date
    status: str
    met_on: date | None
    owner_id: int | None
    owner_role: str

    @classmethod
    def of_row(cls, *values: Any) -> DeadlineView:
        """The view of a deadline row's columns, in field order (as ``DEADLINES`` selects
        them). Every transition builds one per deadline of its journey, read and answered:
        filling the instance's ``__dict__`` costs half of the frozen dataclass's
        ``__init__`` (one ``object.__setattr__`` per field), and the result is the same
        object (equality, hashing and orjson read the attributes)."""
        view = _new_object(cls)
        view.__dict__.update(zip(_DEADLINE_FIELDS, values, strict=True))
        return view


_new_object = object.__new__
_DEADLINE_FIELDS = tuple(f.name for f in fields(DeadlineView))
_DUE_THEN_ID = attrgetter("due_on", "id")


@dataclass(frozen=True)
class JourneyView:
    """A journey as the API returns it."""

    id: int
    child_id: int
    child_reference: str
    type: str
    title: str
    state: str
    version: int
    definition_version: int
    status: str
    started_on: date
    closed_on: date | None
    outcome: str | None
    data: Mapping[str, Any]
    available_events: list[EventOption]
    deadlines: list[DeadlineView]
    measures: dict[str, Any]
    suggested_next: str | None


@dataclass(frozen=True)
class PostedEvent:
    """An event as a form posted it: the journey version the page showed, the date and the
    data the form could read, and whether it read every input. When it could not (it has
    said why, in its own words), the input is still checked, so that every problem shows
    at once, but nothing is recorded."""

    expected_version: int
    occurred_on: date | None
    data: Mapping[str, Any]
    complete: bool = True


EventReader = Callable[[Event, Mapping[str, Any]], PostedEvent]
"""Reads a posted form, given the event (its fields) and the journey's recorded data (a
form's inputs may depend on it: a checklist's items on the placement kind)."""


@dataclass(frozen=True)
class EventAttempt:
    """What became of an event a form posted.

    Recorded: ``view`` is the journey after it and ``refusal`` is None. Refused in a way the
    form shows again: ``refusal`` says why (a stale version with the current one, field
    errors, a guard's reasons) and ``view`` is the journey as it is now, to show the form
    at the version and stage it now has.
    """

    view: JourneyView
    refusal: StaleVersion | InvalidData | GuardFailed | None = None

    @property
    def recorded(self) -> bool:
        """Whether the event was recorded."""
        return self.refusal is None


class _Refused(Exception):
    """Carries a refused attempt out of its transaction, so that the transaction rolls back."""

    def __init__(self, attempt: EventAttempt) -> None:
        super().__init__(attempt.refusal)
        self.attempt = attempt


def _deadline_views(conn: Conn, journey_id: int) -> list[DeadlineView]:
    """The journey's deadlines, soonest first (ties by id)."""
    return _DEADLINES.all(conn, {"journey_id": journey_id}, DeadlineView.of_row)


def _deadlines_after(
    before: list[DeadlineView], plan: TransitionPlan, new_ids: list[int], owner_id: int | None
) -> list[DeadlineView]:
    """What the deadline rows are once ``plan``'s changes are written (as a re-read shows)."""
    rows = list(before)
    opened = iter(new_ids)
    for change in plan.deadline_changes:
        if change.action == "open":
            assert change.due_on is not None
            rows.append(
                DeadlineView.of_row(
                    next(opened),
                    change.kind,
                    change.ref,
                    change.due_on,
                    "open",
                    None,
                    owner_id if change.owner_role == "social_worker" else None,
                    change.owner_role,
                )
            )
            continue
        for i, d in enumerate(rows):
            # Most of a journey's deadlines are met or cancelled: the status first.
            if d.status != "open" or d.kind != change.kind or d.ref != change.ref:
                continue
            due_on, status, met_on = d.due_on, d.status, d.met_on
            if change.action == "move":
                assert change.due_on is not None
                due_on = change.due_on
            elif change.action == "meet":
                status, met_on = "met", plan.occurred_on
            else:
                status = "cancelled"
            rows[i] = DeadlineView.of_row(
                d.id, d.kind, d.ref, due_on, status, met_on, d.owner_id, d.owner_role
            )
    rows.sort(key=_DUE_THEN_ID)
    return rows


def new_journey_values(
    jm: Any, child_id: int, started_on: date, plan: TransitionPlan, stamp: Any
) -> dict[str, Any]:
    """The ``journey`` row a start planned as ``plan`` writes (version 1)."""
    return {
        "child_id": child_id,
        "type": jm.definition.type,
        "state": plan.to_state,
        "status": "closed" if plan.closes else "active",
        "version": 1,
        "definition_version": jm.definition.version,
        "started_on": started_on,
        "data": plan.journey_data,
        "created_at": stamp,
        "updated_at": stamp,
    }


def _changed_just_now() -> StaleVersion:
    return StaleVersion("The journey was changed by someone else just now; reload and try again.")


def _stale(current: int, expected: int) -> StaleVersion:
    return StaleVersion(
        f"The journey has changed since you loaded it (version {current}, "
        f"you sent {expected}); reload and try again.",
        current_version=current,
    )


class JourneyService:
    """Journeys of children, stored in the database behind ``engine``."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        policy: Policy,
        *,
        async_engine: AsyncEngine | None = None,
    ) -> None:
        """``async_engine`` (PostgreSQL, autocommit: :func:`services.db.make_async_engine`)
        carries :meth:`fire_async` on the event loop; without it ``fire_async`` runs
        :meth:`fire`."""
        self.engine = engine
        self.registry = registry
        self.policy = policy
        self.async_engine = async_engine

    # -- reading ---------------------------------------------------------------------------

    def _load(self, conn: Connection, journey_id: int) -> Any:
        row = _LOAD.first(conn, {"journey_id": journey_id})
        if row is None:
            raise NotFound(f"There is no journey {journey_id}.")
        return row

    def _snapshot(
        self, row: Any, open_deadlines: Mapping[tuple[str, str], date]
    ) -> JourneySnapshot:
        return JourneySnapshot(
            state=row.state,
            closed=row.status == "closed",
            started_on=row.started_on,
            data=row.data,
            child=ChildFacts(row.child_id, row.looked_after_since, row.legal_status),
            open_deadlines=open_deadlines,
        )

    def _view(
        self,
        conn: Connection | None,
        row: Any,
        principal: Principal,
        deadlines: list[DeadlineView] | None = None,
    ) -> JourneyView:
        jm = self.registry.get(row.type, row.definition_version)
        if deadlines is None:
            assert conn is not None, "a view without its deadlines reads them"
            deadlines = _deadline_views(conn, row.id)
        open_deadlines = {(d.kind, d.ref): d.due_on for d in deadlines if d.status == "open"}
        snapshot = self._snapshot(row, open_deadlines)
        refusal = child_refusal(principal, row.team, write=True)
        day = today()
        definition = jm.definition
        return JourneyView(
            id=row.id,
            child_id=row.child_id,
            child_reference=row.reference,
            type=row.type,
            title=definition.title,
            state=row.state,
            version=row.version,
            definition_version=row.definition_version,
            status=row.status,
            started_on=row.started_on,
            closed_on=row.closed_on,
            outcome=row.outcome,
            data=row.data,
            available_events=options(
                jm,
                snapshot,
                actor=principal.actor,
                today=day,
                policy=self.policy,
                refusal=refusal,
            ),
            deadlines=deadlines,
            # A closed journey's measures stop at the day it closed.
            measures=definition.measures(row.data, snapshot.child, row.closed_on or day)
            if definition.measures
            else {},
            suggested_next=definition.suggest_next(row.data)
            if definition.suggest_next and row.status == "closed"
            else None,
        )

    def get(self, journey_id: int, principal: Principal) -> JourneyView:
        """A journey the principal may see."""
        with read_connection(self.engine) as conn:
            row = self._load(conn, journey_id)
            self._check_access(principal, row.team, write=False)
            view = self._view(conn, row, principal)
        self._audit_read(principal, "journey", row.child_id, [journey_id])
        return view

    def _audit_read(
        self, principal: Principal, what: str, child_id: int, journey_ids: list[int]
    ) -> None:
        audit.audit_read(
            self.engine, principal, what, [child_id], details={"journey_ids": journey_ids}
        )

    def history(self, journey_id: int, principal: Principal) -> list[dict[str, Any]]:
        """The journey's events, oldest first."""
        with read_connection(self.engine) as conn:
            row = self._load(conn, journey_id)
            self._check_access(principal, row.team, write=False)
            rows = conn.execute(
                select(E).where(E.c.journey_id == journey_id).order_by(E.c.journey_version)
            ).all()
        self._audit_read(principal, "history", row.child_id, [journey_id])
        return [dict(r._mapping) for r in rows]

    def list_for_child(self, child_id: int, principal: Principal) -> list[JourneyView]:
        """Every journey of a child the principal may see, newest first (404 / 403 otherwise)."""
        with read_connection(self.engine) as conn:
            team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one_or_none()
            if team is None:
                raise NotFound(f"There is no child {child_id}.")
            self._check_access(principal, team, write=False)
            rows = conn.execute(
                select(*_JOURNEY_COLUMNS)
                .select_from(J.join(C, C.c.id == J.c.child_id))
                .where(J.c.child_id == child_id)
                .order_by(J.c.id.desc())
            ).all()
            views = [self._view(conn, r, principal) for r in rows]
        self._audit_read(principal, "journeys", child_id, [v.id for v in views])
        return views

    @staticmethod
    def _check_access(principal: Principal, team: str, *, write: bool) -> None:
        reason = child_refusal(principal, team, write=write)
        if reason:
            raise AccessDenied(reason)

    # -- writing ---------------------------------------------------------------------------

    def start(
        self,
        child_id: int,
        journey_type: str,
        *,
        started_on: date | None,
        data: Mapping[str, Any] | None,
        principal: Principal,
        conn: Connection | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> JourneyView:
        """Start a journey of ``journey_type`` for a child, with its first deadlines.

        ``conn`` makes the start part of the caller's write transaction (the care record's
        import); ``provenance`` is stored in the start event's data beside the checked
        fields (where the fact came from: the import, its file and row), never validated
        as a form's field because no person typed it.
        """
        jm = self.registry.current(journey_type)
        if jm is None:
            raise UnknownJourneyType(
                f"There is no journey type {journey_type!r}.", types=self.registry.types()
            )
        if conn is not None:
            return self._start(
                conn, jm, child_id, journey_type, started_on, data, principal, provenance
            )
        with write_connection(self.engine) as own:
            return self._start(
                own, jm, child_id, journey_type, started_on, data, principal, provenance
            )

    def _start(
        self,
        conn: Connection,
        jm: Any,
        child_id: int,
        journey_type: str,
        started_on: date | None,
        data: Mapping[str, Any] | None,
        principal: Principal,
        provenance: Mapping[str, Any] | None,
    ) -> JourneyView:
        child = conn.execute(
            select(
                C.c.id,
                C.c.team,
                C.c.looked_after_since,
                C.c.legal_status,
                C.c.allocated_social_worker_id,
            ).where(C.c.id == child_id)
        ).one_or_none()
        if child is None:
            raise NotFound(f"There is no child {child_id}.")
        self._check_access(principal, child.team, write=True)
        active = conn.execute(
            select(J.c.id).where(
                and_(J.c.child_id == child_id, J.c.type == journey_type, J.c.status == "active")
            )
        ).first()
        if active is not None:
            raise AlreadyActive(
                f"The child already has an active {journey_type} journey.",
                journey_id=active.id,
            )
        if started_on is None:
            started_on = child.looked_after_since or today()
        plan = self.plan_new(
            jm,
            ChildFacts(child.id, child.looked_after_since, child.legal_status),
            started_on=started_on,
            data=data,
            principal=principal,
            provenance=provenance,
        )
        stamp = now_utc()
        journey_id = insert_id(
            conn.execute(
                insert(J).values(new_journey_values(jm, child_id, started_on, plan, stamp))
            )
        )
        started = Transition(
            journey_id=journey_id,
            child_id=child_id,
            expected_version=0,
            social_worker_id=child.allocated_social_worker_id,
            actor_id=principal.user_id,
            stamp=stamp,
            plan=plan,
        )
        journey_store.record_event(conn, started)
        journey_store.apply_deadlines(conn, started)
        row = self._load(conn, journey_id)
        return self._view(conn, row, principal)

    def fire(
        self,
        journey_id: int,
        *,
        event: str,
        expected_version: int,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
        conn: Connection | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> JourneyView:
        """Fire ``event``: state, version, history and deadlines change together or not at all.

        ``conn`` lets a caller (the panel recording a decision) make the event part of its own
        write transaction, so the decision and the journey's change commit together.
        ``provenance`` (the care record's import only) is stored beside the event's data.
        """
        if conn is not None:
            row, deadlines = journey_store.read(conn, journey_id, DeadlineView.of_row)
            self._check_read(row, journey_id, principal, expected_version)
            if provenance:
                t = self.plan_transition(
                    row, deadlines, event, occurred_on, data, principal, provenance
                )
                new_ids = journey_store.write(conn, t)
                if new_ids is None:
                    raise _changed_just_now()
                return self._answer(row, t, deadlines, new_ids, principal)
            return self._advance(conn, row, event, occurred_on, data, principal, deadlines)
        args = (journey_id, event, expected_version, occurred_on, data, principal)
        if is_sqlite(self.engine):
            # The writer lock and BEGIN IMMEDIATE as write_connection, on the driver's own
            # connection: SQLAlchemy's Connection and Transaction around the statements
            # cost more than the statements (issue 12 item 5).
            with driver_write(self.engine) as driver:
                return self._fire(driver, *args)
        # PostgreSQL: as fire_async, two round trips in autocommit (the reads pipelined, then
        # one version-checked statement that is its own transaction), not BEGIN, the reads,
        # the write and COMMIT.
        with driver_autocommit(self.engine) as driver:
            row, deadlines = journey_store.read(driver, journey_id, DeadlineView.of_row)
            self._check_read(row, journey_id, principal, expected_version)
            t = self.plan_transition(row, deadlines, event, occurred_on, data, principal)
            if journey_store.one_statement(t.plan):
                new_ids = journey_store.write(driver, t)
                if new_ids is None:
                    raise _changed_just_now()
                return self._answer(row, t, deadlines, new_ids, principal)
        # Rare (changes that interact): the statements one by one, in one transaction.
        with write_connection(self.engine) as own:
            return self._fire(own, *args)

    async def fire_async(
        self,
        journey_id: int,
        *,
        event: str,
        expected_version: int,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
    ) -> JourneyView:
        """:meth:`fire` for a caller on an event loop, with the same checks, writes and answer.

        On PostgreSQL with an async engine it runs on the loop in two round trips (the
        journey and its deadlines read together, then one statement that writes the change:
        :mod:`services.journey_store`), with no thread hand-off. On SQLite it runs
        :meth:`fire` inline: writers queue on the process's lock anyway. On PostgreSQL
        without an async engine :meth:`fire` runs in a worker thread.
        """
        args = (journey_id,)
        kw: dict[str, Any] = {
            "event": event,
            "expected_version": expected_version,
            "occurred_on": occurred_on,
            "data": data,
            "principal": principal,
        }
        if self.async_engine is None:
            if self.engine.dialect.name == "sqlite":
                return self.fire(*args, **kw)
            return await asyncio.to_thread(self.fire, *args, **kw)
        dialect = self.async_engine.dialect
        async with driver_connection(self.async_engine) as pg:
            row, deadlines = await journey_store.read_async(
                pg, dialect, journey_id, DeadlineView.of_row
            )
            self._check_read(row, journey_id, principal, expected_version)
            t = self.plan_transition(row, deadlines, event, occurred_on, data, principal)
            if not journey_store.one_statement(t.plan):
                # Rare (changes that interact): the statements one by one, in a thread.
                return await asyncio.to_thread(self.fire, *args, **kw)
            new_ids = await journey_store.write_async(pg, dialect, t)
        if new_ids is None:
            raise _changed_just_now()
        return self._answer(row, t, deadlines, new_ids, principal)

    def _check_read(
        self, row: Any, journey_id: int, principal: Principal, expected_version: int
    ) -> None:
        """Refuse an event on the journey ``row`` read for it: there is none, the principal
        may not change it, or it has another version than the one sent."""
        if row is None:
            raise NotFound(f"There is no journey {journey_id}.")
        self._check_access(principal, row.team, write=True)
        if row.version != expected_version:
            raise _stale(row.version, expected_version)

    def _fire(
        self,
        conn: Conn,
        journey_id: int,
        event: str,
        expected_version: int,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
    ) -> JourneyView:
        row, deadlines = journey_store.read(conn, journey_id, DeadlineView.of_row)
        self._check_read(row, journey_id, principal, expected_version)
        return self._advance(conn, row, event, occurred_on, data, principal, deadlines)

    def _advance(
        self,
        conn: Conn,
        row: Any,
        event: str,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
        deadlines: list[DeadlineView] | None = None,
    ) -> JourneyView:
        """Plan ``event`` on the journey ``row`` (read in this transaction, access and
        version checked) and write it: the engine's refusals are raised before any write."""
        if deadlines is None:
            deadlines = _deadline_views(conn, row.id)
        t = self.plan_transition(row, deadlines, event, occurred_on, data, principal)
        new_ids = journey_store.write(conn, t)
        if new_ids is None:
            raise _changed_just_now()
        return self._answer(row, t, deadlines, new_ids, principal)

    def plan_new(
        self,
        jm: Any,
        child: ChildFacts,
        *,
        started_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
        provenance: Mapping[str, Any] | None = None,
    ) -> TransitionPlan:
        """The start of a journey of the machine ``jm`` for ``child`` as the engine plans it
        (its refusals raised here, before anything is written), with ``provenance`` beside
        the start event's checked fields."""
        plan = plan_start(
            jm,
            started_on=started_on,
            data=data,
            actor=principal.actor,
            child=child,
            today=today(),
            policy=self.policy,
        )
        if provenance:
            plan = replace(plan, event_data={**plan.event_data, **provenance})
        return plan

    def plan_transition(
        self,
        row: Any,
        deadlines: list[DeadlineView],
        event: str,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
        provenance: Mapping[str, Any] | None = None,
    ) -> Transition:
        """The change ``event`` makes to the journey ``row`` (as :data:`LOAD` reads it, or as
        a caller holds it in memory) with ``deadlines`` (the engine's refusals are raised
        here, before anything is written); ``provenance`` is stored beside the event's data."""
        jm = self.registry.get(row.type, row.definition_version)
        open_deadlines = {(d.kind, d.ref): d.due_on for d in deadlines if d.status == "open"}
        plan = plan_event(
            jm,
            self._snapshot(row, open_deadlines),
            event=event,
            occurred_on=occurred_on,
            data=data,
            actor=principal.actor,
            today=today(),
            policy=self.policy,
        )
        if provenance:
            plan = replace(plan, event_data={**plan.event_data, **provenance})
        return Transition(
            journey_id=row.id,
            child_id=row.child_id,
            expected_version=row.version,
            social_worker_id=row.allocated_social_worker_id,
            actor_id=principal.user_id,
            stamp=now_utc(),
            plan=plan,
            prev_hash=row.last_event_hash,
        )

    def _answer(
        self,
        row: Any,
        t: Transition,
        deadlines: list[DeadlineView],
        new_ids: list[int],
        principal: Principal,
    ) -> JourneyView:
        """The journey once ``t`` is written, as a re-read would return it (the JSON round
        trip of its data included), built from what was read plus what was written."""
        plan = t.plan
        after = row._replace(
            state=plan.to_state,
            version=t.new_version,
            data=json.loads(json.dumps(plan.journey_data)),
        )
        if plan.closes:
            after = after._replace(
                status="closed", closed_on=plan.occurred_on, outcome=plan.outcome
            )
        return self._view(
            None,
            after,
            principal,
            _deadlines_after(deadlines, plan, new_ids, row.allocated_social_worker_id),
        )

    # -- a form's event: every check and the change in one transaction ---------------------

    def _event_for(self, row: Any, event: str, principal: Principal) -> Event:
        """The journey's event ``event`` if the principal (who may see the journey) may
        record it, refused in the order a page refuses: an unknown event
        (:class:`UnknownEvent`), roles that only read (:class:`AccessDenied`), roles the
        event does not allow (:class:`RoleNotAllowed`)."""
        ev = find_event(self.registry.get(row.type, row.definition_version).definition, event)
        self._check_access(principal, row.team, write=True)
        check_role(ev, principal.actor, self.policy)
        return ev

    def for_event(self, journey_id: int, event: str, principal: Principal) -> JourneyView:
        """A journey the principal may see, if they may record ``event`` on it (refused as
        :meth:`record` refuses before it reads the form); its ``available_events`` say whether
        the current stage offers the event now."""
        with read_connection(self.engine) as conn:
            row = self._load(conn, journey_id)
            self._check_access(principal, row.team, write=False)
            self._event_for(row, event, principal)
            view = self._view(conn, row, principal)
        self._audit_read(principal, "journey", row.child_id, [journey_id])
        return view

    def record(
        self, journey_id: int, *, event: str, principal: Principal, read: EventReader
    ) -> EventAttempt:
        """Record an event a form posted, checking everything once, in one write transaction.

        In order: the journey exists and the principal sees it (:class:`NotFound`,
        :class:`AccessDenied`), the event exists and the principal may record it
        (:meth:`for_event`); ``read`` reads the form (what it raises, say a form without a
        version, goes up and nothing is written); then the version the page showed; then the
        input alone, every problem at once (a future date, the fields' rules); then what the
        engine checks against the journey (its state, the date it started, the guards). The
        refusals a form shows again come back as an :class:`EventAttempt` with the journey as
        it is now; the others (not found, access, role, unknown event, the journey closed or
        the event not available in its state) are raised. A refusal writes nothing.
        """
        try:
            with write_connection(self.engine) as conn:
                row = self._load(conn, journey_id)
                self._check_access(principal, row.team, write=False)
                ev = self._event_for(row, event, principal)
                posted = read(ev, row.data)
                if posted.expected_version != row.version:
                    self._refuse(conn, row, principal, _stale(row.version, posted.expected_version))
                problems = input_errors(
                    ev, occurred_on=posted.occurred_on, data=posted.data, today=today()
                )
                if problems or not posted.complete or posted.occurred_on is None:
                    self._refuse(
                        conn,
                        row,
                        principal,
                        InvalidData("The event's data is not valid.", field_errors=problems),
                    )
                try:
                    view = self._advance(
                        conn, row, event, posted.occurred_on, posted.data, principal
                    )
                except (InvalidData, GuardFailed) as exc:
                    self._refuse(conn, row, principal, exc)
                except StaleVersion as exc:
                    # Changed by someone else since this transaction read it (PostgreSQL;
                    # SQLite's writers queue): a new statement sees their committed change.
                    self._refuse(conn, self._load(conn, journey_id), principal, exc)
        except _Refused as refused:
            return refused.attempt
        return EventAttempt(view)

    def _refuse(
        self,
        conn: Connection,
        row: Any,
        principal: Principal,
        refusal: StaleVersion | InvalidData | GuardFailed,
    ) -> NoReturn:
        """Leave the transaction with ``refusal`` and the journey ``row`` as a page shows it."""
        raise _Refused(EventAttempt(self._view(conn, row, principal), refusal))
