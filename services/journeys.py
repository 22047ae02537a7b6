"""Storing journeys: start one, fire an event, read one back. Every write is one transaction.

This is the hot path, so it speaks SQL through SQLAlchemy Core (a handful of statements per
transition) rather than the ORM. The version check in the UPDATE is what refuses a
concurrent edit: two writers with the same ``expected_version`` cannot both match it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update

from services.access import Principal, child_refusal
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.models import Child, Deadline, Journey, JourneyEvent
from workflow.definition import ChildFacts, Policy
from workflow.engine import (
    EventOption,
    JourneySnapshot,
    TransitionPlan,
    options,
    plan_event,
    plan_start,
)
from workflow.errors import EngineError, StaleVersion, UnknownJourneyType
from workflow.machines import Registry

J = Journey.__table__  # type: ignore[attr-defined]
C = Child.__table__  # type: ignore[attr-defined]
D = Deadline.__table__  # type: ignore[attr-defined]
E = JourneyEvent.__table__  # type: ignore[attr-defined]


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


_JOURNEY_COLUMNS = (
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


class JourneyService:
    """Journeys of children, stored in the database behind ``engine``."""

    def __init__(self, engine: Engine, registry: Registry, policy: Policy) -> None:
        self.engine = engine
        self.registry = registry
        self.policy = policy

    # -- reading ---------------------------------------------------------------------------

    def _load(self, conn: Connection, journey_id: int) -> Any:
        row = conn.execute(
            select(*_JOURNEY_COLUMNS)
            .select_from(J.join(C, C.c.id == J.c.child_id))
            .where(J.c.id == journey_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"There is no journey {journey_id}.")
        return row

    @staticmethod
    def _open_deadlines(conn: Connection, journey_id: int) -> dict[tuple[str, str], date]:
        rows = conn.execute(
            select(D.c.kind, D.c.ref, D.c.due_on).where(
                and_(D.c.journey_id == journey_id, D.c.status == "open")
            )
        )
        return {(r.kind, r.ref): r.due_on for r in rows}

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

    def _view(self, conn: Connection, row: Any, principal: Principal) -> JourneyView:
        jm = self.registry.get(row.type, row.definition_version)
        deadline_rows = conn.execute(
            select(D).where(D.c.journey_id == row.id).order_by(D.c.due_on, D.c.id)
        ).all()
        deadlines = [
            DeadlineView(
                d.id, d.kind, d.ref, d.due_on, d.status, d.met_on, d.owner_id, d.owner_role
            )
            for d in deadline_rows
        ]
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
            measures=definition.measures(row.data, snapshot.child, day)
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
            return self._view(conn, row, principal)

    def history(self, journey_id: int, principal: Principal) -> list[dict[str, Any]]:
        """The journey's events, oldest first."""
        with read_connection(self.engine) as conn:
            row = self._load(conn, journey_id)
            self._check_access(principal, row.team, write=False)
            rows = conn.execute(
                select(E).where(E.c.journey_id == journey_id).order_by(E.c.journey_version)
            ).all()
        return [dict(r._mapping) for r in rows]

    def list_for_child(self, child_id: int, principal: Principal) -> list[JourneyView]:
        """Every journey of a child, newest first."""
        with read_connection(self.engine) as conn:
            rows = conn.execute(
                select(*_JOURNEY_COLUMNS)
                .select_from(J.join(C, C.c.id == J.c.child_id))
                .where(J.c.child_id == child_id)
                .order_by(J.c.id.desc())
            ).all()
            return [self._view(conn, r, principal) for r in rows]

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
    ) -> JourneyView:
        """Start a journey of ``journey_type`` for a child, with its first deadlines."""
        jm = self.registry.current(journey_type)
        if jm is None:
            raise UnknownJourneyType(
                f"There is no journey type {journey_type!r}.", types=self.registry.types()
            )
        with write_connection(self.engine) as conn:
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
            plan = plan_start(
                jm,
                started_on=started_on,
                data=data,
                actor=principal.actor,
                child=ChildFacts(child.id, child.looked_after_since, child.legal_status),
                today=today(),
                policy=self.policy,
            )
            stamp = now_utc()
            journey_id = conn.execute(
                insert(J).values(
                    child_id=child_id,
                    type=journey_type,
                    state=plan.to_state,
                    status="closed" if plan.closes else "active",
                    version=1,
                    definition_version=jm.definition.version,
                    started_on=started_on,
                    data=plan.journey_data,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self._record(conn, journey_id, 1, plan, principal, stamp)
            self._apply_deadlines(
                conn, journey_id, child_id, child.allocated_social_worker_id, plan, stamp
            )
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
    ) -> JourneyView:
        """Fire ``event``: state, version, history and deadlines change together or not at all.

        ``conn`` lets a caller (the panel recording a decision) make the event part of its own
        write transaction, so the decision and the journey's change commit together.
        """
        if conn is not None:
            return self._fire(
                conn, journey_id, event, expected_version, occurred_on, data, principal
            )
        with write_connection(self.engine) as own:
            return self._fire(
                own, journey_id, event, expected_version, occurred_on, data, principal
            )

    def _fire(
        self,
        conn: Connection,
        journey_id: int,
        event: str,
        expected_version: int,
        occurred_on: date,
        data: Mapping[str, Any] | None,
        principal: Principal,
    ) -> JourneyView:
        row = self._load(conn, journey_id)
        self._check_access(principal, row.team, write=True)
        if row.version != expected_version:
            raise StaleVersion(
                f"The journey has changed since you loaded it (version {row.version}, "
                f"you sent {expected_version}); reload and try again.",
                current_version=row.version,
            )
        jm = self.registry.get(row.type, row.definition_version)
        plan = plan_event(
            jm,
            self._snapshot(row, self._open_deadlines(conn, journey_id)),
            event=event,
            occurred_on=occurred_on,
            data=data,
            actor=principal.actor,
            today=today(),
            policy=self.policy,
        )
        stamp = now_utc()
        new_version = expected_version + 1
        values: dict[str, Any] = {
            "state": plan.to_state,
            "version": new_version,
            "data": plan.journey_data,
            "updated_at": stamp,
        }
        if plan.closes:
            values.update(status="closed", closed_on=plan.occurred_on, outcome=plan.outcome)
        updated = conn.execute(
            update(J)
            .where(and_(J.c.id == journey_id, J.c.version == expected_version))
            .values(**values)
        )
        if updated.rowcount != 1:
            raise StaleVersion(
                "The journey was changed by someone else just now; reload and try again."
            )
        self._record(conn, journey_id, new_version, plan, principal, stamp)
        self._apply_deadlines(
            conn, journey_id, row.child_id, row.allocated_social_worker_id, plan, stamp
        )
        return self._view(conn, self._load(conn, journey_id), principal)

    @staticmethod
    def _record(
        conn: Connection,
        journey_id: int,
        version: int,
        plan: TransitionPlan,
        principal: Principal,
        stamp: Any,
    ) -> None:
        data = dict(plan.event_data)
        if plan.deadline_changes:
            data["deadlines"] = [c.as_json() for c in plan.deadline_changes]
        conn.execute(
            insert(E).values(
                journey_id=journey_id,
                journey_version=version,
                event=plan.event,
                from_state=plan.from_state,
                to_state=plan.to_state,
                occurred_on=plan.occurred_on,
                recorded_at=stamp,
                actor_id=principal.user_id,
                data=data,
            )
        )

    @staticmethod
    def _apply_deadlines(
        conn: Connection,
        journey_id: int,
        child_id: int,
        social_worker_id: int | None,
        plan: TransitionPlan,
        stamp: Any,
    ) -> None:
        for change in plan.deadline_changes:
            current = and_(
                D.c.journey_id == journey_id,
                D.c.kind == change.kind,
                D.c.ref == change.ref,
                D.c.status == "open",
            )
            if change.action == "open":
                conn.execute(
                    insert(D).values(
                        journey_id=journey_id,
                        child_id=child_id,
                        kind=change.kind,
                        ref=change.ref,
                        due_on=change.due_on,
                        owner_id=social_worker_id if change.owner_role == "social_worker" else None,
                        owner_role=change.owner_role,
                        status="open",
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            elif change.action == "move":
                conn.execute(
                    update(D).where(current).values(due_on=change.due_on, updated_at=stamp)
                )
            elif change.action == "meet":
                conn.execute(
                    update(D)
                    .where(current)
                    .values(status="met", met_on=plan.occurred_on, updated_at=stamp)
                )
            else:
                conn.execute(update(D).where(current).values(status="cancelled", updated_at=stamp))
