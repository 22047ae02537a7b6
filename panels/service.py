"""Running a panel: meetings, referrals and packs, agendas, decisions, actions and minutes.

Every write is one transaction (``write_connection``). Deadlines the panel creates are
ordinary ``deadline`` rows, so the reminder sweep treats them like any other:

* ``panel_pack`` (ref = referral id): on the referred journey, owned by the referring social
  worker, due the pack lead time before the meeting; it hangs off the meeting
  (``meeting_id``), so moving the meeting moves it.
* ``panel_action`` (ref = action id): on the item's journey, owned by the action's owner.
* ``panel_minutes`` (ref = meeting id): the meeting's own deadline, with no journey or
  child, owned by the panel administrator role, due N working days after the meeting.

Each time one of them is opened, moved, met or cancelled the audit trail records why, in
the same transaction as the change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update

from notifications.notify import Notified, notify
from panels import agenda as agenda_builder
from panels import cohorts as cohort_rules
from panels import schedule as planner
from panels.config import PanelConfig
from panels.funding import FundingRequest, refusals
from panels.models import (
    PanelAction,
    PanelAttendance,
    PanelCase,
    PanelDecision,
    PanelItem,
    PanelMeeting,
    PanelReferral,
)
from services import audit
from services.access import Principal, child_refusal
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.journeys import AccessDenied, JourneyService, NotFound
from services.models import Child, Deadline, Journey, User
from states.roles import (
    ADM,
    CASEWORK,
    PANEL_ADMIN,
    PANEL_CHAIR,
    SOCIAL_WORKER,
    TEAM_MANAGER,
)
from workflow.definition import Policy
from workflow.errors import EngineError
from workflow.machines import Registry

M = PanelMeeting.__table__  # type: ignore[attr-defined]
A = PanelAttendance.__table__  # type: ignore[attr-defined]
R = PanelReferral.__table__  # type: ignore[attr-defined]
I = PanelItem.__table__  # type: ignore[attr-defined]  # noqa: E741
DEC = PanelDecision.__table__  # type: ignore[attr-defined]
ACT = PanelAction.__table__  # type: ignore[attr-defined]
PC = PanelCase.__table__  # type: ignore[attr-defined]
D = Deadline.__table__  # type: ignore[attr-defined]
J = Journey.__table__  # type: ignore[attr-defined]
C = Child.__table__  # type: ignore[attr-defined]
U = User.__table__  # type: ignore[attr-defined]

log = structlog.get_logger("permanence.panel")

PACK, ACTION, MINUTES = "panel_pack", "panel_action", "panel_minutes"
ANSWERS = ("yes", "no", "not_applicable")
# Outcomes for children discussed from a tracked cohort (no decision type, no event).
TRACKING_OUTCOMES: dict[str, str] = {
    "progressing": "Plan progressing; no further action",
    "actions_agreed": "Blocks and barriers addressed: actions agreed",
    "escalate": "Drift: escalated to the Service Director",
    "stop_tracking": "Permanence secured or no longer tracked",
}
PANEL_STAFF = (PANEL_ADMIN, PANEL_CHAIR)
# Why referrals were not listed, as the themes report words them.
_REPORTED = {
    "late": "late pack",
    "no_pack": "late pack",
    "incomplete": "incomplete pack",
    "full": "part full",
    "cancelled": "meeting cancelled",
}


class PanelInvalid(EngineError):
    """The request cannot be done as asked (422), with the reasons."""

    status_code = 422
    code = "panel_invalid"


class PanelConflict(EngineError):
    """The request clashes with the meeting's or referral's state (409)."""

    status_code = 409
    code = "panel_conflict"


class PanelForbidden(EngineError):
    """The role may not do this (403), e.g. above its scheme of delegation."""

    status_code = 403
    code = "forbidden"


def _require(principal: Principal, *roles: str) -> None:
    if principal.roles.isdisjoint(roles):
        raise PanelForbidden(f"This needs one of the roles: {', '.join(roles)}.")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _item_rows(conn: Connection, meeting_id: int, *child_columns: Any) -> list[Any]:
    """A meeting's agenda items in order, with the child's reference, the journey's type and
    state, and whatever other child columns the caller needs."""
    return list(
        conn.execute(
            select(
                I,
                C.c.reference,
                *child_columns,
                J.c.type.label("journey_type"),
                J.c.state.label("journey_state"),
            )
            .select_from(I.join(C, C.c.id == I.c.child_id).outerjoin(J, J.c.id == I.c.journey_id))
            .where(I.c.meeting_id == meeting_id)
            .order_by(I.c.part, I.c.position)
        ).all()
    )


class PanelService:
    """One local authority's panel, run on the service's database."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        config: PanelConfig,
        base_policy: Policy,
        *,
        email: bool = False,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.config = config
        # Whether notifications queue emails beside the in-app notice (SMTP configured).
        self.email = email
        self.key = config.panel.key
        self.journeys = JourneyService(engine, registry, self.policy_for(config, base_policy))

    @staticmethod
    def policy_for(config: PanelConfig, base: Policy) -> Policy:
        """The journey rules as this panel applies them: its SGO scheme of delegation and,
        for a calendar-day lead time, its pack lead (a working-day lead is judged here)."""
        policy = base
        scheme = config.funding_scheme("sgo")
        if scheme is not None:
            bands = tuple((b.up_to, tuple(b.roles)) for b in scheme.bands)
            policy = replace(policy, sgo_delegation=bands)
        lead = config.pack_lead.days if config.pack_lead.unit == "calendar" else 0
        return replace(policy, pack_lead_days=lead)

    # -- audit helpers -----------------------------------------------------------------

    @staticmethod
    def _audit(
        conn: Connection,
        principal: Principal,
        action: str,
        entity: str,
        entity_id: int | None,
        **details: Any,
    ) -> None:
        audit.record(
            conn,
            actor_id=principal.user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
        )

    def _deadline_change(
        self, conn: Connection, principal: Principal, verb: str, row: Any, why: str, **extra: Any
    ) -> None:
        details = {
            "kind": row.kind,
            "ref": row.ref,
            "journey_id": row.journey_id,
            "meeting_id": row.meeting_id,
            "why": why,
            **extra,
        }
        self._audit(conn, principal, f"deadline_{verb}", "deadline", row.id, **details)

    def _open_deadline(
        self,
        conn: Connection,
        principal: Principal,
        *,
        kind: str,
        ref: str,
        due_on: date,
        journey_id: int | None,
        child_id: int | None,
        meeting_id: int | None,
        owner_id: int | None,
        owner_role: str,
        why: str,
    ) -> None:
        stamp = now_utc()
        new_id = conn.execute(
            insert(D).values(
                journey_id=journey_id,
                child_id=child_id,
                meeting_id=meeting_id,
                kind=kind,
                ref=ref,
                due_on=due_on,
                owner_id=owner_id,
                owner_role=owner_role,
                status="open",
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        row = conn.execute(select(D).where(D.c.id == new_id)).one()
        self._deadline_change(conn, principal, "opened", row, why, due_on=due_on.isoformat())

    def _open_rows(self, conn: Connection, kind: str, ref: str) -> list[Any]:
        return list(
            conn.execute(
                select(D).where(and_(D.c.kind == kind, D.c.ref == ref, D.c.status == "open"))
            ).all()
        )

    def _move_deadline(
        self,
        conn: Connection,
        principal: Principal,
        row: Any,
        due_on: date,
        meeting_id: int | None,
        why: str,
    ) -> None:
        conn.execute(
            update(D)
            .where(D.c.id == row.id)
            .values(due_on=due_on, meeting_id=meeting_id, updated_at=now_utc())
        )
        self._deadline_change(
            conn,
            principal,
            "moved",
            row,
            why,
            from_due_on=row.due_on.isoformat(),
            to_due_on=due_on.isoformat(),
            to_meeting_id=meeting_id,
        )

    def _close_deadlines(
        self,
        conn: Connection,
        principal: Principal,
        kind: str,
        ref: str,
        *,
        met_on: date | None,
        why: str,
    ) -> None:
        for row in self._open_rows(conn, kind, ref):
            values: dict[str, Any] = {"updated_at": now_utc()}
            if met_on is not None:
                values.update(status="met", met_on=met_on)
            else:
                values.update(status="cancelled")
            conn.execute(update(D).where(D.c.id == row.id).values(**values))
            self._deadline_change(
                conn,
                principal,
                "met" if met_on else "cancelled",
                row,
                why,
                met_on=_iso(met_on),
            )

    # -- meetings ----------------------------------------------------------------------

    def _meeting(self, conn: Connection, meeting_id: int) -> Any:
        row = conn.execute(
            select(M).where(and_(M.c.id == meeting_id, M.c.panel == self.key))
        ).one_or_none()
        if row is None:
            raise NotFound(f"There is no meeting {meeting_id} of the {self.key} panel.")
        return row

    def pack_due(self, meeting_date: date) -> date:
        """When a pack for a meeting on ``meeting_date`` is due."""
        return planner.pack_due(meeting_date, self.config.pack_lead)

    def minutes_due(self, meeting_date: date) -> date:
        """When the minutes of a meeting on ``meeting_date`` are due."""
        return planner.minutes_due(meeting_date, self.config.minutes.due_working_days)

    def _generate(self, conn: Connection, start: date, months: int | None) -> list[int]:
        schedule = self.config.schedule
        existing = {
            r.scheduled_for
            for r in conn.execute(select(M.c.scheduled_for).where(M.c.panel == self.key))
        }
        stamp = now_utc()
        created = []
        for slot in planner.plan(schedule, start, months):
            if slot.scheduled_for in existing:
                continue  # a meeting already planned (perhaps moved) keeps its place
            new_id = conn.execute(
                insert(M).values(
                    panel=self.key,
                    scheduled_for=slot.scheduled_for,
                    meeting_date=slot.meeting_date,
                    start_time=schedule.start_time.strftime("%H:%M"),
                    length_minutes=schedule.length_minutes,
                    status="scheduled",
                    minutes_status="none",
                    minutes={},
                    version=1,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            created.append(int(new_id))
        return created

    def generate(
        self, principal: Principal, start: date | None = None, months: int | None = None
    ) -> list[dict[str, Any]]:
        """Plan meetings from ``start`` (default today) for the forward planner's months."""
        _require(principal, PANEL_ADMIN)
        start = start or today()
        with write_connection(self.engine) as conn:
            created = self._generate(conn, start, months)
            self._audit(
                conn,
                principal,
                "panel_planner_generated",
                "panel_meeting",
                None,
                panel=self.key,
                start=start.isoformat(),
                created=len(created),
            )
        end = start + timedelta(days=31 * (months or self.config.schedule.planner_months))
        return self.list_meetings(principal, start, end)

    def list_meetings(
        self, principal: Principal, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        """The forward planner: meetings between two dates, each with its pack due date."""
        self._require_reader(principal)
        query = select(M).where(M.c.panel == self.key).order_by(M.c.meeting_date, M.c.id)
        if start:
            query = query.where(M.c.meeting_date >= start)
        if end:
            query = query.where(M.c.meeting_date <= end)
        with read_connection(self.engine) as conn:
            return [self._meeting_json(r) for r in conn.execute(query)]

    @staticmethod
    def _require_reader(principal: Principal) -> None:
        if not principal.sees_children:
            raise PanelForbidden("Your roles give no access to the panel.")

    def _meeting_json(self, row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "panel": row.panel,
            "scheduled_for": row.scheduled_for.isoformat(),
            "meeting_date": row.meeting_date.isoformat(),
            "start_time": row.start_time,
            "length_minutes": row.length_minutes,
            "status": row.status,
            "reason": row.reason,
            "pack_due_on": self.pack_due(row.meeting_date).isoformat(),
            "minutes_due_on": self.minutes_due(row.meeting_date).isoformat(),
            "minutes_status": row.minutes_status,
            "version": row.version,
        }

    def get_meeting(self, meeting_id: int, principal: Principal) -> dict[str, Any]:
        """A meeting with its attendance, agenda, referrals and deadlines."""
        self._require_reader(principal)
        with read_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            out = self._meeting_json(row)
            out["attendance"] = [
                dict(r._mapping)
                for r in conn.execute(
                    select(A.c.member_key, A.c.person, A.c.status, A.c.representative, A.c.user_id)
                    .where(A.c.meeting_id == meeting_id)
                    .order_by(A.c.id)
                )
            ]
            out["members"] = self._seats(out["attendance"])
            out["agenda"] = self._agenda_json(conn, row, principal)
            out["deadlines"] = [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "ref": d.ref,
                    "due_on": d.due_on.isoformat(),
                    "status": d.status,
                    "journey_id": d.journey_id,
                }
                for d in conn.execute(
                    select(D).where(D.c.meeting_id == meeting_id).order_by(D.c.id)
                )
            ]
        return out

    def _seats(self, attendance: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every seat of the panel with who is expected for which parts and what was recorded:
        a seat needed for no part of the meeting, or only "when required", is not chased."""
        recorded = {a["member_key"]: a for a in attendance}
        part_keys = [p.key for p in self.config.parts]
        out = []
        for m in self.config.members:
            parts = m.parts or part_keys
            a = recorded.get(m.key)
            out.append(
                {
                    "key": m.key,
                    "title": m.title,
                    "role": m.role,
                    "parts": parts,
                    "expected": not m.when_required,
                    "status": a["status"]
                    if a
                    else ("not_recorded" if not m.when_required else "not_invited"),
                    "representative": a["representative"] if a else None,
                }
            )
        return out

    def _next_meeting(self, conn: Connection, after: date, *, pack_by: date | None = None) -> Any:
        """The first scheduled meeting after ``after`` (whose pack deadline is not before
        ``pack_by``), planning further ahead if the planner has run out."""
        for attempt in range(2):
            rows = conn.execute(
                select(M)
                .where(
                    and_(M.c.panel == self.key, M.c.status == "scheduled", M.c.meeting_date > after)
                )
                .order_by(M.c.meeting_date, M.c.id)
            ).all()
            for row in rows:
                if pack_by is None or self.pack_due(row.meeting_date) >= pack_by:
                    return row
            if attempt == 0:
                self._generate(conn, max(after, pack_by or after) + timedelta(days=1), None)
        raise PanelConflict("No later meeting could be planned.")

    def move_meeting(
        self, meeting_id: int, principal: Principal, *, new_date: date, reason: str
    ) -> dict[str, Any]:
        """Move a meeting; every pack deadline (and the minutes deadline) hanging off it moves
        with it, each move recorded with the reason."""
        _require(principal, PANEL_ADMIN)
        if not reason.strip():
            raise PanelInvalid("Say why the meeting moves.", errors=["reason: required"])
        with write_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            if row.status != "scheduled":
                raise PanelConflict(f"A {row.status} meeting cannot be moved.")
            clash = conn.execute(
                select(M.c.id).where(
                    and_(
                        M.c.panel == self.key,
                        M.c.meeting_date == new_date,
                        M.c.status != "cancelled",
                        M.c.id != meeting_id,
                    )
                )
            ).first()
            if clash is not None:
                raise PanelConflict(f"Meeting {clash.id} is already on {new_date.isoformat()}.")
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    meeting_date=new_date,
                    reason=reason,
                    version=M.c.version + 1,
                    updated_at=now_utc(),
                )
            )
            why = (
                f"Meeting moved from {row.meeting_date.isoformat()} to "
                f"{new_date.isoformat()}: {reason}"
            )
            for d in conn.execute(
                select(D).where(and_(D.c.meeting_id == meeting_id, D.c.status == "open"))
            ).all():
                if d.kind == PACK:
                    due = self.pack_due(new_date)
                    conn.execute(
                        update(R)
                        .where(R.c.id == int(d.ref))
                        .values(pack_due_on=due, updated_at=now_utc())
                    )
                elif d.kind == MINUTES:
                    due = self.minutes_due(new_date)
                else:
                    continue  # an action's due date is its own, not the meeting's
                self._move_deadline(conn, principal, d, due, meeting_id, why)
            # Accepted packs are already in: their due date moves for the record.
            conn.execute(
                update(R)
                .where(and_(R.c.meeting_id == meeting_id, R.c.status != "awaiting_pack"))
                .values(pack_due_on=self.pack_due(new_date))
            )
            self._audit(
                conn,
                principal,
                "panel_meeting_moved",
                "panel_meeting",
                meeting_id,
                from_date=row.meeting_date.isoformat(),
                to_date=new_date.isoformat(),
                reason=reason,
            )
            log.info("panel_meeting_moved", meeting_id=meeting_id, panel=self.key)
        return self.get_meeting(meeting_id, principal)

    def cancel_meeting(
        self, meeting_id: int, principal: Principal, *, reason: str
    ) -> dict[str, Any]:
        """Cancel a meeting; its referrals are offered the next meeting, their pack deadlines
        moving with them."""
        _require(principal, PANEL_ADMIN)
        if not reason.strip():
            raise PanelInvalid("Say why the meeting is cancelled.", errors=["reason: required"])
        with write_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            if row.status != "scheduled":
                raise PanelConflict(f"A {row.status} meeting cannot be cancelled.")
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    status="cancelled", reason=reason, version=M.c.version + 1, updated_at=now_utc()
                )
            )
            nxt = self._next_meeting(conn, row.meeting_date)
            for ref in conn.execute(
                select(R).where(
                    and_(
                        R.c.meeting_id == meeting_id, R.c.status.in_(("awaiting_pack", "accepted"))
                    )
                )
            ).all():
                self._offer(
                    conn,
                    principal,
                    ref,
                    nxt,
                    f"The meeting on {row.meeting_date.isoformat()} was cancelled: {reason}",
                    code="cancelled",
                )
            conn.execute(
                delete(I).where(and_(I.c.meeting_id == meeting_id, I.c.status != "decided"))
            )
            self._close_deadlines(
                conn,
                principal,
                MINUTES,
                str(meeting_id),
                met_on=None,
                why=f"Meeting cancelled: {reason}",
            )
            self._audit(
                conn,
                principal,
                "panel_meeting_cancelled",
                "panel_meeting",
                meeting_id,
                reason=reason,
                next_meeting_id=nxt.id,
            )
        return self.get_meeting(meeting_id, principal)

    def record_attendance(
        self, meeting_id: int, principal: Principal, entries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Who came, who sent apologies and who represented them (one row per seat)."""
        _require(principal, PANEL_ADMIN)
        members = {m.key: m for m in self.config.members}
        errors = []
        for e in entries:
            if e.get("member_key") not in members:
                errors.append(
                    f"member_key: no seat {e.get('member_key')!r} (one of {', '.join(members)})"
                )
            if e.get("status") not in ("present", "apologies", "absent"):
                errors.append(f"{e.get('member_key')}: status must be present, apologies or absent")
        if errors:
            raise PanelInvalid("The attendance is not valid.", errors=errors)
        with write_connection(self.engine) as conn:
            self._meeting(conn, meeting_id)
            for e in entries:
                conn.execute(
                    delete(A).where(
                        and_(A.c.meeting_id == meeting_id, A.c.member_key == e["member_key"])
                    )
                )
                conn.execute(
                    insert(A).values(
                        meeting_id=meeting_id,
                        member_key=e["member_key"],
                        user_id=e.get("user_id"),
                        person=e.get("person") or "",
                        status=e["status"],
                        representative=e.get("representative"),
                        recorded_at=now_utc(),
                    )
                )
            self._hold(conn, principal, meeting_id)
            self._audit(
                conn, principal, "panel_attendance", "panel_meeting", meeting_id, seats=len(entries)
            )
        return self.get_meeting(meeting_id, principal)

    def _hold(self, conn: Connection, principal: Principal, meeting_id: int) -> None:
        """Mark the meeting held (once it has happened) and open its minutes deadline."""
        row = self._meeting(conn, meeting_id)
        if row.status == "cancelled":
            raise PanelConflict("The meeting was cancelled.")
        if row.meeting_date > today():
            raise PanelConflict(
                f"The meeting on {row.meeting_date.isoformat()} has not happened yet."
            )
        if row.status == "held":
            return
        conn.execute(
            update(M)
            .where(M.c.id == meeting_id)
            .values(status="held", version=M.c.version + 1, updated_at=now_utc())
        )
        self._open_deadline(
            conn,
            principal,
            kind=MINUTES,
            ref=str(meeting_id),
            due_on=self.minutes_due(row.meeting_date),
            journey_id=None,
            child_id=None,
            meeting_id=meeting_id,
            owner_id=None,
            owner_role=self.config.minutes.owner_role,
            why=(
                f"Minutes of the meeting on {row.meeting_date.isoformat()} are due "
                f"{self.config.minutes.due_working_days} working days after it"
            ),
        )

    # -- referrals ---------------------------------------------------------------------

    def _journey(self, conn: Connection, journey_id: int) -> Any:
        row = conn.execute(
            select(
                J.c.id,
                J.c.child_id,
                J.c.type,
                J.c.state,
                J.c.status,
                J.c.version,
                J.c.data,
                C.c.team,
                C.c.reference,
                C.c.allocated_social_worker_id,
            )
            .select_from(J.join(C, C.c.id == J.c.child_id))
            .where(J.c.id == journey_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"There is no journey {journey_id}.")
        return row

    def refer(
        self,
        principal: Principal,
        *,
        journey_id: int,
        decision_type: str,
        meeting_id: int | None = None,
        referred_on: date | None = None,
        documents: list[str] | None = None,
    ) -> dict[str, Any]:
        """Refer a journey to a meeting for a decision; the pack deadline opens."""
        _require(principal, *CASEWORK)
        dt = self.config.decision_type(decision_type)
        if dt is None:
            raise PanelInvalid(
                f"The {self.key} panel has no decision type {decision_type!r}.",
                decision_types=[d.key for d in self.config.decision_types],
            )
        referred_on = referred_on or today()
        if referred_on > today():
            raise PanelInvalid("A referral cannot be future-dated.")
        with write_connection(self.engine) as conn:
            j = self._journey(conn, journey_id)
            refusal = child_refusal(principal, j.team, write=True)
            if refusal:
                raise AccessDenied(refusal)
            problems = []
            if j.type != dt.journey_type:
                problems.append(f"{dt.title} is for a {dt.journey_type} journey, not {j.type}.")
            if j.status != "active":
                problems.append("The journey is closed.")
            elif dt.states and j.state not in dt.states:
                problems.append(
                    f"{dt.title} can be referred in state {' or '.join(dt.states)}; "
                    f"the journey is {j.state}."
                )
            if problems:
                raise PanelInvalid(
                    "The journey cannot be referred: " + " ".join(problems), reasons=problems
                )
            if meeting_id is None:
                meeting = self._next_meeting(conn, referred_on, pack_by=referred_on)
            else:
                meeting = self._meeting(conn, meeting_id)
                if meeting.status != "scheduled":
                    raise PanelConflict(f"The meeting is {meeting.status}.")
            open_ref = conn.execute(
                select(R.c.id).where(
                    and_(
                        R.c.journey_id == journey_id,
                        R.c.decision_type == decision_type,
                        R.c.status.in_(("awaiting_pack", "accepted", "listed")),
                    )
                )
            ).first()
            if open_ref is not None:
                raise PanelConflict(
                    "The journey is already referred for this decision.", referral_id=open_ref.id
                )
            stamp = now_utc()
            due = self.pack_due(meeting.meeting_date)
            ref_id = int(
                conn.execute(
                    insert(R).values(
                        panel=self.key,
                        meeting_id=meeting.id,
                        journey_id=journey_id,
                        child_id=j.child_id,
                        decision_type=decision_type,
                        status="awaiting_pack",
                        referred_by=principal.user_id,
                        referred_on=referred_on,
                        pack_due_on=due,
                        checklist={},
                        documents=list(documents or []),
                        funding={},
                        reason=None,
                        history=[
                            {
                                "on": referred_on.isoformat(),
                                "meeting_id": meeting.id,
                                "note": "referred",
                            }
                        ],
                        created_at=stamp,
                        updated_at=stamp,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            owner = (
                principal.user_id
                if SOCIAL_WORKER in principal.roles
                else j.allocated_social_worker_id
            )
            self._open_deadline(
                conn,
                principal,
                kind=PACK,
                ref=str(ref_id),
                due_on=due,
                journey_id=journey_id,
                child_id=j.child_id,
                meeting_id=meeting.id,
                owner_id=owner,
                owner_role=SOCIAL_WORKER,
                why=f"Pack for {dt.title} at the meeting on {meeting.meeting_date.isoformat()}",
            )
            self._audit(
                conn,
                principal,
                "panel_referred",
                "panel_referral",
                ref_id,
                journey_id=journey_id,
                decision_type=decision_type,
                meeting_id=meeting.id,
            )
            return self._referral_json(conn, ref_id)

    def _referral_json(self, conn: Connection, referral_id: int) -> dict[str, Any]:
        r = conn.execute(
            select(R, M.c.meeting_date)
            .select_from(R.join(M, M.c.id == R.c.meeting_id))
            .where(R.c.id == referral_id)
        ).one_or_none()
        if r is None:
            raise NotFound(f"There is no referral {referral_id}.")
        dt = self.config.decision_type(r.decision_type)
        checklist = self.config.checklist(dt.checklist) if dt and dt.checklist else None
        return {
            "id": r.id,
            "meeting_id": r.meeting_id,
            "meeting_date": r.meeting_date.isoformat(),
            "journey_id": r.journey_id,
            "child_id": r.child_id,
            "decision_type": r.decision_type,
            "status": r.status,
            "listable": r.status == "accepted",
            "referred_on": r.referred_on.isoformat(),
            "pack_due_on": r.pack_due_on.isoformat(),
            "pack_submitted_on": _iso(r.pack_submitted_on),
            "checklist": r.checklist,
            "checklist_items": [i.model_dump() for i in checklist.items] if checklist else [],
            "documents": r.documents,
            "documents_expected": dt.documents if dt else [],
            "funding": r.funding,
            "reason": r.reason,
            "history": r.history,
        }

    def get_referral(self, referral_id: int, principal: Principal) -> dict[str, Any]:
        """A referral the principal may see."""
        with read_connection(self.engine) as conn:
            out = self._referral_json(conn, referral_id)
            self._check_child(conn, principal, out["child_id"], write=False)
            return out

    def _check_child(
        self, conn: Connection, principal: Principal, child_id: int, *, write: bool
    ) -> None:
        team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one()
        refusal = child_refusal(principal, team, write=write)
        if refusal:
            raise AccessDenied(refusal)

    def _offer(
        self,
        conn: Connection,
        principal: Principal,
        ref: Any,
        meeting: Any,
        reason: str,
        *,
        code: str,
        status: str | None = None,
    ) -> str:
        """Offer a referral the given meeting instead, with the reason shown on it.

        ``code`` classifies the reason for reports: late, incomplete, no_pack, full,
        cancelled or pinned.
        """
        shown = f"{reason} Offered the meeting on {meeting.meeting_date.isoformat()}."
        history = [
            *ref.history,
            {
                "on": today().isoformat(),
                "from_meeting_id": ref.meeting_id,
                "meeting_id": meeting.id,
                "code": code,
                "note": shown,
            },
        ]
        due = self.pack_due(meeting.meeting_date)
        conn.execute(
            update(R)
            .where(R.c.id == ref.id)
            .values(
                meeting_id=meeting.id,
                pack_due_on=due,
                reason=shown,
                history=history,
                status=status or ref.status,
                updated_at=now_utc(),
            )
        )
        for d in self._open_rows(conn, PACK, str(ref.id)):
            self._move_deadline(conn, principal, d, due, meeting.id, shown)
        return shown

    def submit_pack(
        self,
        principal: Principal,
        referral_id: int,
        *,
        checklist: dict[str, str],
        documents: list[str] | None = None,
        funding: dict[str, Any] | None = None,
        submitted_on: date | None = None,
    ) -> dict[str, Any]:
        """Submit the pack. Complete and on time: accepted for the meeting. Late or incomplete:
        it cannot be listed for decision and is offered the next meeting, saying why."""
        _require(principal, *CASEWORK)
        submitted_on = submitted_on or today()
        if submitted_on > today():
            raise PanelInvalid("A pack cannot be future-dated.")
        with write_connection(self.engine) as conn:
            ref = conn.execute(
                select(R).where(and_(R.c.id == referral_id, R.c.panel == self.key))
            ).one_or_none()
            if ref is None:
                raise NotFound(f"There is no referral {referral_id}.")
            self._check_child(conn, principal, ref.child_id, write=True)
            if ref.status != "awaiting_pack":
                raise PanelConflict(f"The referral is {ref.status}; no pack is awaited.")
            dt = self.config.decision_type(ref.decision_type)
            assert dt is not None
            errors = [
                f"checklist.{k}: answer yes, no or not_applicable"
                for k, v in checklist.items()
                if v not in ANSWERS
            ]
            cl = self.config.checklist(dt.checklist) if dt.checklist else None
            if cl is not None:
                known = {i.key for i in cl.items}
                errors += [
                    f"checklist.{k}: checklist {cl.key} has no such item"
                    for k in checklist
                    if k not in known
                ]
            form: FundingRequest | None = None
            if dt.funding_scheme is not None:
                try:
                    form = FundingRequest.model_validate(funding or {})
                except ValidationError as exc:
                    errors += [
                        f"funding.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                        for e in exc.errors()
                    ]
            if errors:
                raise PanelInvalid("The pack is not valid.", errors=errors)
            missing = cl.missing(checklist) if cl is not None else []
            unanswered = form.unanswered() if form is not None else []
            meeting = self._meeting(conn, ref.meeting_id)
            conn.execute(
                update(R)
                .where(R.c.id == referral_id)
                .values(
                    checklist=checklist,
                    documents=list(documents or ref.documents),
                    funding=form.model_dump(mode="json") if form else {},
                    pack_submitted_on=submitted_on,
                    updated_at=now_utc(),
                )
            )
            ref = conn.execute(select(R).where(R.c.id == referral_id)).one()
            on = meeting.meeting_date.isoformat()
            if missing or unanswered:
                parts = []
                if missing:
                    parts.append(
                        f"checklist {cl.key if cl else ''} is incomplete "
                        f"({', '.join(missing)} not answered Yes or Not applicable)"
                    )
                if unanswered:
                    parts.append(
                        f"the funding request form leaves {', '.join(unanswered)} unanswered"
                    )
                reason = f"The pack cannot be listed for decision on {on}: {'; '.join(parts)}."
                nxt = self._next_meeting(
                    conn, meeting.meeting_date, pack_by=max(submitted_on, today())
                )
                self._offer(conn, principal, ref, nxt, reason, code="incomplete")
                self._audit(
                    conn,
                    principal,
                    "panel_pack_incomplete",
                    "panel_referral",
                    referral_id,
                    missing=missing,
                    unanswered=unanswered,
                )
            else:
                if submitted_on > ref.pack_due_on:
                    reason = (
                        f"The pack arrived on {submitted_on.isoformat()}, after the "
                        f"deadline {ref.pack_due_on.isoformat()} for the meeting on {on}; "
                        "a late pack cannot be listed for decision."
                    )
                    meeting = self._next_meeting(conn, meeting.meeting_date, pack_by=submitted_on)
                    self._offer(conn, principal, ref, meeting, reason, code="late")
                    self._audit(
                        conn,
                        principal,
                        "panel_pack_late",
                        "panel_referral",
                        referral_id,
                        due_on=ref.pack_due_on.isoformat(),
                    )
                conn.execute(update(R).where(R.c.id == referral_id).values(status="accepted"))
                self._close_deadlines(
                    conn,
                    principal,
                    PACK,
                    str(referral_id),
                    met_on=submitted_on,
                    why="Pack received complete",
                )
                if dt.on_pack_event:
                    j = self._journey(conn, ref.journey_id)
                    self.journeys.fire(
                        ref.journey_id,
                        event=dt.on_pack_event,
                        expected_version=j.version,
                        occurred_on=submitted_on,
                        data={
                            "panel_date": meeting.meeting_date.isoformat(),
                            "checklist": checklist,
                        },
                        principal=principal,
                        conn=conn,
                    )
                self._audit(
                    conn,
                    principal,
                    "panel_pack_accepted",
                    "panel_referral",
                    referral_id,
                    meeting_id=meeting.id,
                )
            return self._referral_json(conn, referral_id)

    def withdraw_referral(
        self, principal: Principal, referral_id: int, reason: str
    ) -> dict[str, Any]:
        """Withdraw a referral; its pack deadline is cancelled."""
        _require(principal, *CASEWORK, PANEL_ADMIN)
        with write_connection(self.engine) as conn:
            ref = conn.execute(select(R).where(R.c.id == referral_id)).one_or_none()
            if ref is None:
                raise NotFound(f"There is no referral {referral_id}.")
            self._check_child(conn, principal, ref.child_id, write=True)
            conn.execute(
                update(R)
                .where(R.c.id == referral_id)
                .values(status="withdrawn", reason=reason, updated_at=now_utc())
            )
            self._close_deadlines(
                conn,
                principal,
                PACK,
                str(referral_id),
                met_on=None,
                why=f"Referral withdrawn: {reason}",
            )
            return self._referral_json(conn, referral_id)

    # -- agenda ------------------------------------------------------------------------

    def _roll_late(self, conn: Connection, principal: Principal, meeting: Any, as_of: date) -> None:
        """Referrals still without a complete pack after their deadline go to the next meeting."""
        for ref in conn.execute(
            select(R).where(
                and_(
                    R.c.meeting_id == meeting.id,
                    R.c.status == "awaiting_pack",
                    R.c.pack_due_on < as_of,
                )
            )
        ).all():
            nxt = self._next_meeting(conn, meeting.meeting_date, pack_by=as_of)
            self._offer(
                conn,
                principal,
                ref,
                nxt,
                f"No complete pack by {ref.pack_due_on.isoformat()}: it cannot be "
                f"listed for decision on {meeting.meeting_date.isoformat()}.",
                code="no_pack",
            )

    def build_agenda(
        self, meeting_id: int, principal: Principal, *, as_of: date | None = None
    ) -> dict[str, Any]:
        """Build (or rebuild) the agenda: accepted referrals and the tracked cohorts, each part
        within its capacity; the rest rolls to the next meeting with the reason. Pinned and
        decided items stay where the chair put them."""
        _require(principal, PANEL_ADMIN, PANEL_CHAIR)
        as_of = as_of or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.status == "cancelled":
                raise PanelConflict("The meeting was cancelled.")
            self._roll_late(conn, principal, meeting, min(as_of, meeting.meeting_date))
            candidates = self._candidates(conn, meeting)
            # Pins were read into the candidates above; undecided items are placed afresh.
            conn.execute(
                delete(I).where(and_(I.c.meeting_id == meeting_id, I.c.status != "decided"))
            )
            built = agenda_builder.build_agenda(self.config.parts, candidates)
            stamp = now_utc()
            rows = []
            for pa in built.parts:
                for placed in pa.items:
                    rows.append(
                        self._item_row(
                            meeting_id,
                            pa.key,
                            placed.position,
                            placed.candidate,
                            placed.minutes,
                            "listed",
                            None,
                            stamp,
                        )
                    )
            nxt = None
            for n, rolled in enumerate(built.rolled, start=1):
                c = rolled.candidate
                row = self._item_row(
                    meeting_id, c.part, 1000 + n, c, rolled.minutes, "rolled", rolled.reason, stamp
                )
                row["rolled_since"] = c.rolled_since or meeting.meeting_date
                rows.append(row)
                if c.referral_id is not None:
                    nxt = nxt or self._next_meeting(conn, meeting.meeting_date)
                    ref = conn.execute(select(R).where(R.c.id == c.referral_id)).one()
                    self._offer(conn, principal, ref, nxt, rolled.reason, code="full")
            if rows:
                conn.execute(insert(I), rows)
            listed = (
                conn.execute(
                    select(I.c.referral_id).where(
                        and_(
                            I.c.meeting_id == meeting_id,
                            I.c.status == "listed",
                            I.c.referral_id.is_not(None),
                        )
                    )
                )
                .scalars()
                .all()
            )
            if listed:
                conn.execute(update(R).where(R.c.id.in_(listed)).values(status="listed"))
            self._audit(
                conn,
                principal,
                "panel_agenda_built",
                "panel_meeting",
                meeting_id,
                listed=sum(len(p.items) for p in built.parts),
                rolled=len(built.rolled),
            )
            return self._agenda_json(conn, meeting, principal)

    @staticmethod
    def _item_row(
        meeting_id: int,
        part: str,
        position: int,
        c: agenda_builder.Candidate,
        minutes: int,
        status: str,
        reason: str | None,
        stamp: Any,
    ) -> dict[str, Any]:
        return {
            "meeting_id": meeting_id,
            "part": part,
            "position": position,
            "source": "referral" if c.referral_id is not None else c.source,
            "cohorts": list(c.cohorts),
            "child_id": c.child_id,
            "journey_id": c.journey_id,
            "referral_id": c.referral_id,
            "minutes": minutes,
            "pinned": c.pinned_position is not None,
            "status": status,
            "reason": reason,
            "rolled_since": None,
            "review_weeks": None,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _candidates(self, conn: Connection, meeting: Any) -> list[agenda_builder.Candidate]:
        """Everything that could go on this meeting's agenda."""
        on = meeting.meeting_date
        out: list[agenda_builder.Candidate] = []
        kept = conn.execute(
            select(I).where(
                and_(I.c.meeting_id == meeting.id, I.c.pinned.is_(True), I.c.status != "decided")
            )
        ).all()
        pinned = {
            (r.part, r.referral_id if r.referral_id is not None else -r.child_id): r.position
            for r in kept
        }
        decided = {
            (r.part, r.child_id, r.referral_id)
            for r in conn.execute(
                select(I.c.part, I.c.child_id, I.c.referral_id).where(
                    and_(I.c.meeting_id == meeting.id, I.c.status == "decided")
                )
            )
        }
        # When each (child, part) was first rolled since it was last on an agenda.
        rolled_since: dict[tuple[int, str], date] = {}
        previous = conn.execute(
            select(M.c.id)
            .where(and_(M.c.panel == self.key, M.c.meeting_date < on, M.c.status != "cancelled"))
            .order_by(M.c.meeting_date.desc())
            .limit(1)
        ).first()
        if previous is not None:
            # Each rolled row carries the date it was first rolled, so one meeting back is
            # enough to know how long an item has been waiting.
            for h in conn.execute(
                select(I.c.child_id, I.c.part, I.c.rolled_since).where(
                    and_(I.c.meeting_id == previous.id, I.c.status == "rolled")
                )
            ):
                if h.rolled_since is not None:
                    rolled_since[(h.child_id, h.part)] = h.rolled_since
        next_due = cohort_rules.load_next_due(conn)
        for ref in conn.execute(
            select(R).where(
                and_(R.c.meeting_id == meeting.id, R.c.status.in_(("accepted", "listed")))
            )
        ).all():
            dt = self.config.decision_type(ref.decision_type)
            if dt is None or (dt.part, ref.child_id, ref.id) in decided:
                continue
            first_rolled = next(
                (
                    date.fromisoformat(h["on"])
                    for h in ref.history
                    if h.get("from_meeting_id") and h.get("code") == "full"
                ),
                None,
            )
            out.append(
                agenda_builder.Candidate(
                    part=dt.part,
                    source="referral",
                    child_id=ref.child_id,
                    journey_id=ref.journey_id,
                    referral_id=ref.id,
                    minutes=dt.minutes,
                    pinned_position=pinned.get((dt.part, ref.id)),
                    rolled_since=first_rolled,
                    next_due=next_due.get(ref.child_id),
                    order=ref.id,
                )
            )
        cohort_parts: dict[str, list[str]] = defaultdict(list)
        for part in self.config.parts:
            for source in part.takes:
                if source != "referrals":
                    cohort_parts[source].append(part.key)
        if cohort_parts:
            reviews = {
                r.child_id: r.next_review_on
                for r in conn.execute(
                    select(PC.c.child_id, PC.c.next_review_on).where(PC.c.panel == self.key)
                )
            }
            journeys = cohort_rules.load_journeys(conn)
            approved = cohort_rules._secured_ltf(journeys, conn)
            for m in cohort_rules.members(cohort_parts, on, journeys, next_due, approved):
                review = reviews.get(m.child_id)
                if review is not None and review > on:
                    continue  # the chair wants this case back later
                for part_key in cohort_parts[m.cohort]:
                    if (part_key, m.child_id, None) in decided:
                        continue
                    out.append(
                        agenda_builder.Candidate(
                            part=part_key,
                            source=m.cohort,
                            child_id=m.child_id,
                            journey_id=m.journey_id,
                            cohorts=[m.cohort],
                            pinned_position=pinned.get((part_key, -m.child_id)),
                            rolled_since=rolled_since.get((m.child_id, part_key)),
                            next_due=m.next_due,
                            order=m.child_id,
                        )
                    )
        return out

    def _agenda_json(self, conn: Connection, meeting: Any, principal: Principal) -> dict[str, Any]:
        rows = _item_rows(conn, meeting.id, C.c.team)
        teams = principal.visible_teams()
        parts = []
        for part in self.config.parts:
            items = [
                self._item_json(r)
                for r in rows
                if r.part == part.key
                and r.status != "rolled"
                and (teams is None or r.team in teams)
            ]
            parts.append(
                {
                    "key": part.key,
                    "title": part.title,
                    "capacity": part.capacity.describe(),
                    "capacity_minutes": part.capacity.total_minutes,
                    "used_minutes": sum(i["minutes"] for i in items),
                    "items": items,
                }
            )
        rolled = [
            self._item_json(r)
            for r in rows
            if r.status == "rolled" and (teams is None or r.team in teams)
        ]
        not_listed = []
        # A referral offered away from this meeting always goes to a later one.
        for ref in conn.execute(
            select(R, C.c.reference, C.c.team)
            .select_from(R.join(C, C.c.id == R.c.child_id).join(M, M.c.id == R.c.meeting_id))
            .where(and_(R.c.panel == self.key, M.c.meeting_date >= meeting.meeting_date))
        ).all():
            if teams is not None and ref.team not in teams:
                continue
            for h in ref.history:
                if h.get("from_meeting_id") == meeting.id and h.get("code") not in (
                    "full",
                    "pinned",
                ):
                    not_listed.append(
                        {
                            "referral_id": ref.id,
                            "child_reference": ref.reference,
                            "decision_type": ref.decision_type,
                            "reason": h["note"],
                            "offered_meeting_id": h["meeting_id"],
                        }
                    )
            if ref.meeting_id == meeting.id and ref.status == "awaiting_pack":
                not_listed.append(
                    {
                        "referral_id": ref.id,
                        "child_reference": ref.reference,
                        "decision_type": ref.decision_type,
                        "reason": f"Awaiting the pack (due {ref.pack_due_on.isoformat()}).",
                        "offered_meeting_id": None,
                    }
                )
        return {
            "meeting_id": meeting.id,
            "meeting_date": meeting.meeting_date.isoformat(),
            "parts": parts,
            "rolled": rolled,
            "not_listed": not_listed,
        }

    @staticmethod
    def _item_json(r: Any) -> dict[str, Any]:
        return {
            "id": r.id,
            "part": r.part,
            "position": r.position,
            "source": r.source,
            "cohorts": r.cohorts,
            "child_id": r.child_id,
            "child_reference": r.reference,
            "journey_id": r.journey_id,
            "journey_type": r.journey_type,
            "journey_state": r.journey_state,
            "referral_id": r.referral_id,
            "minutes": r.minutes,
            "pinned": r.pinned,
            "status": r.status,
            "reason": r.reason,
            "review_weeks": r.review_weeks,
        }

    def reorder(
        self, meeting_id: int, principal: Principal, *, part: str, item_ids: list[int]
    ) -> dict[str, Any]:
        """The chair's order for a part's items (listed items only; the rest follow)."""
        _require(principal, PANEL_CHAIR)
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            current = [
                r.id
                for r in conn.execute(
                    select(I.c.id)
                    .where(
                        and_(I.c.meeting_id == meeting_id, I.c.part == part, I.c.status != "rolled")
                    )
                    .order_by(I.c.position)
                )
            ]
            unknown = [i for i in item_ids if i not in current]
            if unknown:
                raise PanelInvalid("Items not on this part of the agenda.", item_ids=unknown)
            order = list(item_ids) + [i for i in current if i not in item_ids]
            for position, item_id in enumerate(order, start=1):
                conn.execute(
                    update(I)
                    .where(I.c.id == item_id)
                    .values(position=position, updated_at=now_utc())
                )
            self._audit(
                conn,
                principal,
                "panel_agenda_reordered",
                "panel_meeting",
                meeting_id,
                part=part,
                order=order,
            )
            return self._agenda_json(conn, meeting, principal)

    def pin(self, item_id: int, principal: Principal, *, pinned: bool) -> dict[str, Any]:
        """Pin an item (it stays on the agenda through rebuilds, even over capacity)."""
        _require(principal, PANEL_CHAIR)
        with write_connection(self.engine) as conn:
            item = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
            if item is None:
                raise NotFound(f"There is no agenda item {item_id}.")
            meeting = self._meeting(conn, item.meeting_id)
            values: dict[str, Any] = {"pinned": pinned, "updated_at": now_utc()}
            if pinned and item.status == "rolled":
                values.update(status="listed", reason=None)
                if item.referral_id is not None:
                    ref = conn.execute(select(R).where(R.c.id == item.referral_id)).one()
                    self._offer(
                        conn,
                        principal,
                        ref,
                        meeting,
                        "Pinned by the chair.",
                        code="pinned",
                        status="listed",
                    )
            conn.execute(update(I).where(I.c.id == item_id).values(**values))
            self._audit(conn, principal, "panel_item_pinned", "panel_item", item_id, pinned=pinned)
            return self._agenda_json(conn, meeting, principal)

    # -- decisions and actions ---------------------------------------------------------

    def _event_roles(self, journey_type: str | None, event: str | None) -> tuple[str, ...]:
        if not journey_type or not event:
            return ()
        jm = self.registry.current(journey_type)
        ev = jm.definition.event(event) if jm else None
        return ev.roles if ev else ()

    def decide(self, item_id: int, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        """Record the decision or recommendation on an item, firing its journey event in the
        same transaction; actions become deadlines; the chair's review frequency is set."""
        with write_connection(self.engine) as conn:
            item = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
            if item is None:
                raise NotFound(f"There is no agenda item {item_id}.")
            meeting = self._meeting(conn, item.meeting_id)
            if item.status == "rolled":
                raise PanelConflict("The item was rolled to the next meeting; decide it there.")
            outcome_key = str(body.get("outcome") or "")
            ref = None
            dt = None
            event: str | None = None
            defers = False
            if item.referral_id is not None:
                ref = conn.execute(select(R).where(R.c.id == item.referral_id)).one()
                dt = self.config.decision_type(ref.decision_type)
                assert dt is not None
                outcome = next((o for o in dt.outcomes if o.key == outcome_key), None)
                if outcome is None:
                    raise PanelInvalid(
                        f"{dt.title} has no outcome {outcome_key!r}.",
                        outcomes=[o.key for o in dt.outcomes],
                    )
                event, defers, label = outcome.event, outcome.defers, outcome.label
            else:
                if outcome_key not in TRACKING_OUTCOMES:
                    raise PanelInvalid(
                        f"No tracking outcome {outcome_key!r}.", outcomes=list(TRACKING_OUTCOMES)
                    )
                label = TRACKING_OUTCOMES[outcome_key]
            journey = self._journey(conn, item.journey_id) if item.journey_id else None
            roles = self._event_roles(journey.type if journey else None, event)
            # The chair records decisions; a decision whose event belongs to another role
            # (the ADM's approval, a sign-off under the scheme of delegation) is recorded by
            # that role. A social worker never records the panel's decision.
            _require(principal, PANEL_CHAIR, *(r for r in roles if r != SOCIAL_WORKER))
            funding_check: dict[str, Any] = {}
            if (
                dt is not None
                and dt.funding_scheme
                and not defers
                and (event == "sign_off" or outcome_key.startswith("agree"))
            ):
                scheme = self.config.funding_scheme(dt.funding_scheme)
                assert scheme is not None and ref is not None
                form = FundingRequest.model_validate(ref.funding)
                reasons = refusals(
                    form,
                    scheme,
                    principal.roles,
                    exception_reason=str(body.get("exception_reason") or ""),
                )
                if reasons:
                    role_bound = any("scheme of delegation" in r for r in reasons)
                    error = PanelForbidden if role_bound else PanelInvalid
                    raise error(
                        "The funding cannot be agreed: " + " ".join(reasons), reasons=reasons
                    )
                band = scheme.band_for(float(form.annual_cost))
                funding_check = {
                    "annual_cost": str(form.annual_cost),
                    "total_cost": str(form.total_cost),
                    "band_roles": band.roles,
                    "quotes": len(form.quotes),
                    "by_exception": band.by_exception,
                }
            actions = list(body.get("actions") or [])
            if actions and journey is None:
                raise PanelInvalid("Actions need a journey to hang off.")
            self._hold(conn, principal, meeting.id)
            version = None
            if event is not None and journey is not None:
                data = dict(body.get("event_data") or {})
                jm = self.registry.current(journey.type)
                ev = jm.definition.event(event) if jm else None
                if ev is not None and any(f.name == "reason" for f in ev.fields):
                    data.setdefault("reason", body.get("notes") or label)
                if ev is not None and any(f.name == "recommendation" for f in ev.fields):
                    data.setdefault("recommendation", body.get("notes") or label)
                view = self.journeys.fire(
                    journey.id,
                    event=event,
                    expected_version=int(body.get("expected_version") or journey.version),
                    occurred_on=meeting.meeting_date,
                    data=data,
                    principal=principal,
                    conn=conn,
                )
                version = view.version
            meets = body.get("meets_needs")
            if meets not in (None, "will", "will_not"):
                raise PanelInvalid("meets_needs is will or will_not.")
            stamp = now_utc()
            decision_id = int(
                conn.execute(
                    insert(DEC).values(
                        item_id=item_id,
                        meeting_id=meeting.id,
                        child_id=item.child_id,
                        journey_id=item.journey_id,
                        outcome=outcome_key,
                        event=event,
                        journey_version=version,
                        meets_needs=meets,
                        resources_child=str(body.get("resources_child") or ""),
                        resources_carers=str(body.get("resources_carers") or ""),
                        notes=str(body.get("notes") or ""),
                        funding=funding_check,
                        recorded_by=principal.user_id,
                        recorded_at=stamp,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            review_weeks = body.get("review_weeks")
            part = self.config.part(item.part)
            if review_weeks is None and part is not None:
                review_weeks = part.review_weeks
            conn.execute(
                update(I)
                .where(I.c.id == item_id)
                .values(status="decided", review_weeks=review_weeks, updated_at=stamp)
            )
            if ref is not None:
                conn.execute(
                    update(R)
                    .where(R.c.id == ref.id)
                    .values(status="deferred" if defers else "decided", updated_at=stamp)
                )
            next_review = (
                meeting.meeting_date + timedelta(weeks=int(review_weeks)) if review_weeks else None
            )
            self._upsert_case(conn, item, meeting.id, outcome_key, review_weeks, next_review)
            for a in actions:
                self._add_action(conn, principal, meeting, item, journey, a)
            self._audit(
                conn,
                principal,
                "panel_decision",
                "panel_item",
                item_id,
                decision_id=decision_id,
                outcome=outcome_key,
                event=event,
            )
            log.info(
                "panel_decision",
                meeting_id=meeting.id,
                journey_id=item.journey_id,
                event_name=event,
            )
            return self._decision_json(conn, decision_id)

    def _upsert_case(
        self,
        conn: Connection,
        item: Any,
        meeting_id: int,
        outcome: str,
        review_weeks: int | None,
        next_review: date | None,
    ) -> None:
        values = {
            "journey_id": item.journey_id,
            "review_weeks": review_weeks,
            "next_review_on": next_review,
            "last_meeting_id": meeting_id,
            "last_outcome": outcome,
            "updated_at": now_utc(),
        }
        updated = conn.execute(
            update(PC)
            .where(and_(PC.c.panel == self.key, PC.c.child_id == item.child_id))
            .values(**values)
        )
        if updated.rowcount == 0:
            conn.execute(insert(PC).values(panel=self.key, child_id=item.child_id, **values))

    def _add_action(
        self,
        conn: Connection,
        principal: Principal,
        meeting: Any,
        item: Any,
        journey: Any,
        a: dict[str, Any],
    ) -> None:
        try:
            due_on = date.fromisoformat(str(a["due_on"]))
            description = str(a["description"]).strip()
        except (KeyError, ValueError) as exc:
            raise PanelInvalid(
                "An action needs a description and a due_on date.", errors=[str(exc)]
            ) from None
        if not description:
            raise PanelInvalid("An action needs a description.")
        owner_id = a.get("owner_id")
        owner_role = str(a.get("owner_role") or SOCIAL_WORKER)
        if owner_id is None and owner_role == SOCIAL_WORKER:
            owner_id = journey.allocated_social_worker_id
        stamp = now_utc()
        action_id = int(
            conn.execute(
                insert(ACT).values(
                    meeting_id=meeting.id,
                    item_id=item.id,
                    child_id=item.child_id,
                    journey_id=journey.id,
                    description=description,
                    owner_id=owner_id,
                    owner_role=owner_role,
                    due_on=due_on,
                    status="open",
                    created_by=principal.user_id,
                    created_at=stamp,
                    updated_at=stamp,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        self._open_deadline(
            conn,
            principal,
            kind=ACTION,
            ref=str(action_id),
            due_on=due_on,
            journey_id=journey.id,
            child_id=item.child_id,
            meeting_id=meeting.id,
            owner_id=owner_id,
            owner_role=owner_role,
            why=f"Action agreed at the panel on {meeting.meeting_date.isoformat()}",
        )

    def _decision_json(self, conn: Connection, decision_id: int) -> dict[str, Any]:
        d = conn.execute(select(DEC).where(DEC.c.id == decision_id)).one()
        actions = conn.execute(select(ACT).where(ACT.c.item_id == d.item_id)).all()
        return {
            "id": d.id,
            "item_id": d.item_id,
            "meeting_id": d.meeting_id,
            "child_id": d.child_id,
            "journey_id": d.journey_id,
            "outcome": d.outcome,
            "event": d.event,
            "journey_version": d.journey_version,
            "meets_needs": d.meets_needs,
            "resources_child": d.resources_child,
            "resources_carers": d.resources_carers,
            "notes": d.notes,
            "funding": d.funding,
            "actions": [self._action_json(a) for a in actions],
        }

    @staticmethod
    def _action_json(a: Any) -> dict[str, Any]:
        return {
            "id": a.id,
            "description": a.description,
            "owner_id": a.owner_id,
            "owner_role": a.owner_role,
            "due_on": a.due_on.isoformat(),
            "status": a.status,
            "done_on": _iso(a.done_on),
            "child_id": a.child_id,
            "journey_id": a.journey_id,
            "meeting_id": a.meeting_id,
        }

    def complete_action(
        self, action_id: int, principal: Principal, done_on: date | None = None
    ) -> dict[str, Any]:
        """Mark an action done; its deadline is met."""
        done_on = done_on or today()
        with write_connection(self.engine) as conn:
            a = conn.execute(select(ACT).where(ACT.c.id == action_id)).one_or_none()
            if a is None:
                raise NotFound(f"There is no action {action_id}.")
            self._check_child(conn, principal, a.child_id, write=True)
            if principal.user_id != a.owner_id:
                _require(principal, PANEL_ADMIN, PANEL_CHAIR, TEAM_MANAGER, a.owner_role)
            conn.execute(
                update(ACT)
                .where(ACT.c.id == action_id)
                .values(status="done", done_on=done_on, updated_at=now_utc())
            )
            self._close_deadlines(
                conn, principal, ACTION, str(action_id), met_on=done_on, why="Action completed"
            )
            return self._action_json(conn.execute(select(ACT).where(ACT.c.id == action_id)).one())

    def list_actions(
        self, principal: Principal, status: str | None = "open"
    ) -> list[dict[str, Any]]:
        """Actions across meetings, for the children the principal may see."""
        teams = principal.visible_teams()
        query = (
            select(ACT, C.c.reference, C.c.team)
            .select_from(ACT.join(C, C.c.id == ACT.c.child_id))
            .order_by(ACT.c.due_on, ACT.c.id)
        )
        if status:
            query = query.where(ACT.c.status == status)
        if teams is not None:
            query = query.where(C.c.team.in_(teams))
        with read_connection(self.engine) as conn:
            return [
                {**self._action_json(a), "child_reference": a.reference}
                for a in conn.execute(query)
            ]

    # -- minutes -----------------------------------------------------------------------

    def draft_minutes(self, meeting_id: int, principal: Principal) -> dict[str, Any]:
        """Draft the minutes from the recorded attendance, items, decisions and actions."""
        _require(principal, PANEL_ADMIN)
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "approved":
                raise PanelConflict("The minutes are approved; they cannot be redrafted.")
            self._hold(conn, principal, meeting_id)
            minutes = self._compose_minutes(conn, meeting)
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(minutes=minutes, minutes_status="draft", updated_at=now_utc())
            )
            self._audit(conn, principal, "panel_minutes_drafted", "panel_meeting", meeting_id)
            return minutes

    def _compose_minutes(self, conn: Connection, meeting: Any) -> dict[str, Any]:
        members = {m.key: m for m in self.config.members}
        attendance = conn.execute(
            select(A).where(A.c.meeting_id == meeting.id).order_by(A.c.id)
        ).all()
        present = [
            {
                "seat": members[a.member_key].title if a.member_key in members else a.member_key,
                "person": a.person,
            }
            for a in attendance
            if a.status == "present"
        ]
        apologies = [
            {
                "seat": members[a.member_key].title if a.member_key in members else a.member_key,
                "person": a.person,
                "representative": a.representative,
            }
            for a in attendance
            if a.status == "apologies"
        ]
        note_taker = next(
            (
                a.person
                for a in attendance
                if a.member_key in members and members[a.member_key].administrator
            ),
            "",
        )
        items = _item_rows(conn, meeting.id, C.c.given_name, C.c.family_name, C.c.date_of_birth)
        decisions: dict[int, list[Any]] = defaultdict(list)
        for d in conn.execute(select(DEC).where(DEC.c.meeting_id == meeting.id).order_by(DEC.c.id)):
            decisions[d.item_id].append(d)
        actions: dict[int, list[Any]] = defaultdict(list)
        for a in conn.execute(select(ACT).where(ACT.c.meeting_id == meeting.id).order_by(ACT.c.id)):
            actions[a.item_id].append(a)
        parts = []
        for part in self.config.parts:
            entries = []
            for it in items:
                if it.part != part.key or it.status == "rolled":
                    continue
                age = (meeting.meeting_date - it.date_of_birth).days // 365
                entries.append(
                    {
                        "item_id": it.id,
                        "child_id": it.child_id,
                        "child_reference": it.reference,
                        # The Panel Decisions template names the child; the minutes are read by
                        # panel members only, and never logged.
                        "child_name": f"{it.given_name} {it.family_name}",
                        "age": age,
                        "journey_type": it.journey_type,
                        "journey_state": it.journey_state,
                        "source": it.source,
                        "cohorts": it.cohorts,
                        "review_weeks": it.review_weeks,
                        "decisions": [
                            {
                                "outcome": d.outcome,
                                "event": d.event,
                                "meets_needs": d.meets_needs,
                                "resources_child": d.resources_child,
                                "resources_carers": d.resources_carers,
                                "notes": d.notes,
                                "funding": d.funding,
                            }
                            for d in decisions.get(it.id, [])
                        ],
                        "actions": [self._action_json(a) for a in actions.get(it.id, [])],
                    }
                )
            parts.append({"key": part.key, "title": part.title, "items": entries})
        rolled = [
            {"child_reference": it.reference, "part": it.part, "reason": it.reason}
            for it in items
            if it.status == "rolled"
        ]
        return {
            "panel": self.config.panel.name,
            "meeting_id": meeting.id,
            "held_on": meeting.meeting_date.isoformat(),
            "start_time": meeting.start_time,
            "present": present,
            "apologies": apologies,
            "note_taker": note_taker,
            "parts": parts,
            "rolled": rolled,
            "minutes_due_on": self.minutes_due(meeting.meeting_date).isoformat(),
        }

    def approve_minutes(
        self, meeting_id: int, principal: Principal, approved_on: date | None = None
    ) -> dict[str, Any]:
        """Approve the minutes: the minutes deadline is met, each child's entry is written to
        the child's record, and the tracker's circulation to team managers and social
        workers is recorded (and notified where a notification service exists)."""
        _require(principal, PANEL_ADMIN, PANEL_CHAIR)
        approved_on = approved_on or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "none":
                raise PanelConflict("Draft the minutes first.")
            if meeting.minutes_status == "approved":
                raise PanelConflict("The minutes are already approved.")
            minutes = self._compose_minutes(conn, meeting)
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    minutes=minutes,
                    minutes_status="approved",
                    minutes_approved_at=now_utc(),
                    minutes_approved_by=principal.user_id,
                    updated_at=now_utc(),
                )
            )
            self._close_deadlines(
                conn,
                principal,
                MINUTES,
                str(meeting_id),
                met_on=approved_on,
                why="Minutes approved",
            )
            children = [e["child_id"] for part in minutes["parts"] for e in part["items"]]
            if self.config.minutes.record_to_child:
                for part in minutes["parts"]:
                    for entry in part["items"]:
                        record = {k: v for k, v in entry.items() if k not in ("child_name", "age")}
                        self._audit(
                            conn,
                            principal,
                            "panel_minutes_entry",
                            "child",
                            entry["child_id"],
                            panel=self.key,
                            meeting_id=meeting_id,
                            held_on=minutes["held_on"],
                            part=part["key"],
                            entry=record,
                        )
            told = self._notify_minutes_approved(conn, meeting, approved_on)
            circulated = self._circulate(conn, principal, meeting, children, approved_on)
            log.info("panel_minutes_approved", meeting_id=meeting_id, count=len(set(children)))
        return {
            "meeting_id": meeting_id,
            "minutes_status": "approved",
            "children_recorded": len(set(children)) if self.config.minutes.record_to_child else 0,
            "circulated_to": circulated.recipients + circulated.already,
            "notified": {
                "tracker_circulated": circulated.recipients,
                "minutes_approved": told,
            },
        }

    def circulate_tracker(
        self, meeting_id: int, principal: Principal, on: date | None = None
    ) -> dict[str, Any]:
        """Circulate the tracker again after a meeting whose minutes are approved, to the
        team managers and social workers of the children it discussed.

        Once per meeting and London day: a retried or repeated request the same day tells
        nobody twice (the tracker it points to is the same that day); a circulation on a
        later day is a new one, since deadlines and RAG status have moved on.
        """
        _require(principal, PANEL_ADMIN, PANEL_CHAIR)
        on = on or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status != "approved":
                raise PanelConflict("The tracker is circulated once the minutes are approved.")
            children = [e["child_id"] for part in meeting.minutes["parts"] for e in part["items"]]
            done = self._circulate(conn, principal, meeting, children, on)
        return {
            "meeting_id": meeting_id,
            "circulated_on": on.isoformat(),
            "notified": done.recipients,
            "already_notified": done.already,
        }

    def _circulate(
        self, conn: Connection, principal: Principal, meeting: Any, children: list[int], on: date
    ) -> Notified:
        """Notify the tracker's circulation (and record it in the audit trail)."""
        recipients = self._circulation(conn, children)
        done = notify(
            conn,
            event_key=f"panel:{self.key}:tracker:{meeting.id}:{on.isoformat()}",
            event="panel_tracker_circulated",
            recipients=recipients,
            template="notify_tracker_circulated.txt",
            values={
                "panel": self.config.panel.name,
                "meeting_date": meeting.meeting_date.isoformat(),
                "count": len(set(children)),
            },
            link="/panel/tracker",
            on=on,
            email=self.email,
        )
        self._audit(
            conn,
            principal,
            "panel_tracker_circulated",
            "panel_meeting",
            meeting.id,
            recipients=recipients,
            notified=done.recipients,
            children=sorted(set(children)),
            channel="notification",
            on=on.isoformat(),
        )
        return done

    def _notify_minutes_approved(self, conn: Connection, meeting: Any, on: date) -> list[int]:
        """Each child referred to the meeting and decided: its referring social worker and
        its allocated one hear that the minutes are approved (reference only, no name)."""
        rows = conn.execute(
            select(I.c.child_id, C.c.reference, C.c.allocated_social_worker_id, R.c.referred_by)
            .select_from(I.join(R, R.c.id == I.c.referral_id).join(C, C.c.id == I.c.child_id))
            .where(and_(I.c.meeting_id == meeting.id, I.c.status == "decided"))
            .order_by(I.c.child_id)
        ).all()
        told: set[int] = set()
        for r in rows:
            people = {r.referred_by, r.allocated_social_worker_id} - {None}
            done = notify(
                conn,
                # Once ever per meeting, child and person: minutes are approved once.
                event_key=f"panel:{self.key}:minutes_approved:{meeting.id}:child:{r.child_id}",
                event="panel_minutes_approved",
                recipients=[p for p in people if p is not None],
                template="notify_minutes_approved.txt",
                values={
                    "child_reference": r.reference,
                    "panel": self.config.panel.name,
                    "meeting_date": meeting.meeting_date.isoformat(),
                },
                link=f"/panel/meetings/{meeting.id}",
                on=on,
                email=self.email,
            )
            told.update(done.recipients)
        return sorted(told)

    def _circulation(self, conn: Connection, children: list[int]) -> list[int]:
        """Team managers of the children's teams and their allocated social workers."""
        if not children:
            return []
        rows = conn.execute(
            select(C.c.team, C.c.allocated_social_worker_id).where(
                C.c.id.in_(sorted(set(children)))
            )
        ).all()
        teams = {r.team for r in rows}
        roles = set(self.config.minutes.circulate_to)
        out = {
            r.allocated_social_worker_id
            for r in rows
            if r.allocated_social_worker_id and SOCIAL_WORKER in roles
        }
        for u in conn.execute(
            select(U.c.id, U.c.roles, U.c.team).where(
                and_(U.c.active.is_(True), U.c.team.in_(teams))
            )
        ):
            if TEAM_MANAGER in roles and TEAM_MANAGER in (u.roles or ()):
                out.add(u.id)
        return sorted(out)

    def minutes(self, meeting_id: int, principal: Principal) -> dict[str, Any]:
        """The meeting's minutes (draft or approved); panel staff and the ADM only, since
        they name children."""
        _require(principal, PANEL_ADMIN, PANEL_CHAIR, ADM)
        with read_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "none":
                raise PanelConflict("No minutes are drafted yet.")
            return {**meeting.minutes, "status": meeting.minutes_status}

    def child_history(self, child_id: int, principal: Principal) -> list[dict[str, Any]]:
        """The panel entries written to a child's record."""
        from services.models import AuditLog

        AL = AuditLog.__table__  # type: ignore[attr-defined]
        with read_connection(self.engine) as conn:
            self._check_child(conn, principal, child_id, write=False)
            rows = conn.execute(
                select(AL)
                .where(
                    and_(
                        AL.c.entity == "child",
                        AL.c.entity_id == child_id,
                        AL.c.action == "panel_minutes_entry",
                    )
                )
                .order_by(AL.c.id)
            ).all()
        return [{"at": r.at.isoformat(), **r.details} for r in rows]

    # -- tracker -----------------------------------------------------------------------

    def tracker(self, principal: Principal, as_of: date | None = None) -> list[dict[str, Any]]:
        """Every child the panel follows: journey, state, next deadline, last decision, open
        actions, review date, RAG."""
        self._require_reader(principal)
        as_of = as_of or today()
        teams = principal.visible_teams()
        with read_connection(self.engine) as conn:
            child_ids: set[int] = set()
            journey_of: dict[int, int | None] = {}
            for r in conn.execute(
                select(PC.c.child_id, PC.c.journey_id).where(PC.c.panel == self.key)
            ):
                child_ids.add(r.child_id)
                journey_of[r.child_id] = r.journey_id
            for r in conn.execute(
                select(R.c.child_id, R.c.journey_id)
                .where(and_(R.c.panel == self.key, R.c.status != "withdrawn"))
                .order_by(R.c.id)
            ):
                child_ids.add(r.child_id)
                journey_of.setdefault(r.child_id, r.journey_id)
            for r in conn.execute(
                select(I.c.child_id, I.c.journey_id)
                .select_from(I.join(M, M.c.id == I.c.meeting_id))
                .where(M.c.panel == self.key)
            ):
                child_ids.add(r.child_id)
                journey_of.setdefault(r.child_id, r.journey_id)
            if not child_ids:
                return []
            ids = sorted(child_ids)
            children = {
                r.id: r
                for r in conn.execute(
                    select(C.c.id, C.c.reference, C.c.team).where(C.c.id.in_(ids))
                )
            }
            journeys = {
                r.id: r
                for r in conn.execute(
                    select(J.c.id, J.c.type, J.c.state).where(
                        J.c.id.in_([j for j in journey_of.values() if j])
                    )
                )
            }
            deadlines: dict[int, list[Any]] = defaultdict(list)
            for d in conn.execute(
                select(D.c.child_id, D.c.kind, D.c.due_on)
                .where(and_(D.c.child_id.in_(ids), D.c.status == "open"))
                .order_by(D.c.due_on)
            ):
                deadlines[d.child_id].append(d)
            last: dict[int, Any] = {}
            for d in conn.execute(
                select(DEC.c.child_id, DEC.c.outcome, M.c.meeting_date)
                .select_from(DEC.join(M, M.c.id == DEC.c.meeting_id))
                .where(and_(M.c.panel == self.key, DEC.c.child_id.in_(ids)))
                .order_by(M.c.meeting_date, DEC.c.id)
            ):
                last[d.child_id] = d
            actions: dict[int, list[Any]] = defaultdict(list)
            for a in conn.execute(
                select(ACT.c.child_id, ACT.c.due_on).where(
                    and_(ACT.c.child_id.in_(ids), ACT.c.status == "open")
                )
            ):
                actions[a.child_id].append(a)
            reviews = {
                r.child_id: r
                for r in conn.execute(
                    select(PC.c.child_id, PC.c.next_review_on, PC.c.review_weeks).where(
                        PC.c.panel == self.key
                    )
                )
            }
        amber = self.config.tracker.amber_within_days
        out = []
        for cid in ids:
            child = children[cid]
            if teams is not None and child.team not in teams:
                continue
            j = journeys.get(journey_of.get(cid) or 0)
            dls = deadlines.get(cid, [])
            nxt = dls[0] if dls else None
            overdue = [d for d in dls if d.due_on < as_of]
            if overdue:
                rag = "red"
            elif nxt is not None and (nxt.due_on - as_of).days <= amber:
                rag = "amber"
            else:
                rag = "green"
            dec = last.get(cid)
            review = reviews.get(cid)
            out.append(
                {
                    "child_id": cid,
                    "child_reference": child.reference,
                    "team": child.team,
                    "journey_id": journey_of.get(cid),
                    "journey_type": j.type if j else None,
                    "state": j.state if j else None,
                    "next_deadline": nxt.kind if nxt else None,
                    "next_deadline_due": nxt.due_on.isoformat() if nxt else None,
                    "overdue_deadlines": len(overdue),
                    "last_decision": dec.outcome if dec else None,
                    "last_decision_on": dec.meeting_date.isoformat() if dec else None,
                    "open_actions": len(actions.get(cid, [])),
                    "next_action_due": min(a.due_on for a in actions[cid]).isoformat()
                    if actions.get(cid)
                    else None,
                    "next_review_on": _iso(review.next_review_on) if review else None,
                    "review_weeks": review.review_weeks if review else None,
                    "rag": rag,
                }
            )
        return out

    # -- reports -----------------------------------------------------------------------

    def themes(self, principal: Principal, start: date, end: date) -> dict[str, Any]:
        """Decisions, deferrals and their reasons, packs refused and why, breaches by kind."""
        _require(principal, PANEL_ADMIN, PANEL_CHAIR, ADM, "service_manager", "service_director")
        with read_connection(self.engine) as conn:
            meetings = conn.execute(
                select(M.c.id, M.c.status).where(
                    and_(M.c.panel == self.key, M.c.meeting_date >= start, M.c.meeting_date <= end)
                )
            ).all()
            ids = [m.id for m in meetings]
            decisions = (
                conn.execute(
                    select(DEC.c.outcome, DEC.c.notes, DEC.c.item_id).where(
                        DEC.c.meeting_id.in_(ids)
                    )
                ).all()
                if ids
                else []
            )
            refs = conn.execute(
                select(R.c.decision_type, R.c.history).where(R.c.panel == self.key)
            ).all()
            breaches = conn.execute(
                select(D.c.kind, func.count())
                .where(
                    and_(
                        D.c.due_on >= start,
                        D.c.due_on <= end,
                        or_(
                            and_(D.c.status == "open", D.c.due_on < today()),
                            and_(D.c.status == "met", D.c.met_on > D.c.due_on),
                        ),
                    )
                )
                .group_by(D.c.kind)
            ).all()
            rolled = (
                conn.execute(
                    select(I.c.part, func.count())
                    .where(and_(I.c.meeting_id.in_(ids), I.c.status == "rolled"))
                    .group_by(I.c.part)
                ).all()
                if ids
                else []
            )
        deferrals = []
        outcomes: dict[str, int] = defaultdict(int)
        deferring = {o.key for dt in self.config.decision_types for o in dt.outcomes if o.defers}
        for d in decisions:
            outcomes[d.outcome] += 1
            if d.outcome in deferring:
                deferrals.append({"outcome": d.outcome, "reason": d.notes})
        refused: dict[str, int] = defaultdict(int)
        for r in refs:
            for h in r.history:
                on = h.get("on", "")
                if not h.get("from_meeting_id") or not (start.isoformat() <= on <= end.isoformat()):
                    continue
                label = _REPORTED.get(str(h.get("code")))
                if label:
                    refused[label] += 1
        return {
            "panel": self.config.panel.name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "meetings": len(meetings),
            "cancelled": sum(1 for m in meetings if m.status == "cancelled"),
            "decisions": dict(outcomes),
            "deferrals": deferrals,
            "not_listed": dict(refused),
            "rolled_by_part": {p: n for p, n in rolled},
            "breaches_by_kind": {k: n for k, n in breaches},
        }

    def annual_report(self, principal: Principal, year: int) -> dict[str, Any]:
        """The panel's year for the senior management team: activity and timeliness."""
        start, end = date(year, 1, 1), date(year, 12, 31)
        report = self.themes(principal, start, end)
        with read_connection(self.engine) as conn:
            ids = [
                m.id
                for m in conn.execute(
                    select(M.c.id).where(
                        and_(
                            M.c.panel == self.key,
                            M.c.meeting_date >= start,
                            M.c.meeting_date <= end,
                            M.c.status != "cancelled",
                        )
                    )
                )
            ]
            minutes = (
                conn.execute(
                    select(D.c.due_on, D.c.met_on, D.c.status).where(
                        and_(D.c.kind == MINUTES, D.c.meeting_id.in_(ids))
                    )
                ).all()
                if ids
                else []
            )
            packs = conn.execute(
                select(R.c.pack_due_on, R.c.pack_submitted_on).where(
                    and_(R.c.panel == self.key, R.c.referred_on >= start, R.c.referred_on <= end)
                )
            ).all()
            acts = (
                conn.execute(
                    select(ACT.c.due_on, ACT.c.done_on, ACT.c.status).where(
                        ACT.c.meeting_id.in_(ids)
                    )
                ).all()
                if ids
                else []
            )
            children = (
                conn.execute(
                    select(func.count(func.distinct(I.c.child_id))).where(I.c.meeting_id.in_(ids))
                ).scalar()
                if ids
                else 0
            )

        def pct(n: int, d: int) -> float | None:
            return round(100 * n / d, 1) if d else None

        on_time_minutes = sum(1 for m in minutes if m.met_on and m.met_on <= m.due_on)
        submitted = [p for p in packs if p.pack_submitted_on]
        on_time_packs = sum(1 for p in submitted if p.pack_submitted_on <= p.pack_due_on)
        done = [a for a in acts if a.done_on]
        report.update(
            {
                "year": year,
                "meetings_held": len(ids),
                "children_discussed": children,
                "referrals": len(packs),
                "timeliness": {
                    "minutes_on_time_pct": pct(on_time_minutes, len(minutes)),
                    "packs_on_time_pct": pct(on_time_packs, len(submitted)),
                    "actions_done_on_time_pct": pct(
                        sum(1 for a in done if a.done_on <= a.due_on), len(acts)
                    ),
                },
            }
        )
        return report
