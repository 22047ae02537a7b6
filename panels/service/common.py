"""What every part of the panel service shares: constants, small helpers, and
``PanelBase`` (the configuration, audit and deadline helpers, lookups and access checks
every area uses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from notifications.notify import Notified
from panels import RUNNING_NAMES
from panels import schedule as planner
from panels.config import PanelConfig
from panels.models import ATTENDANCE as A
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.quorum import QuorumState, judge, status_words
from panels.results import Action, Agenda, Minutes, ToRatify
from services import audit
from services.access import Principal, child_refusal
from services.clock import now_utc
from services.db import insert_id
from services.journeys import AccessDenied, JourneyService, NotFound
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from states import sgo
from states.deadline_kinds import PANEL_ACTION, PANEL_MINUTES, PANEL_PACK
from workflow.definition import Policy
from workflow.machines import Registry

log = structlog.get_logger("permanence.panel")

PACK, ACTION, MINUTES = (k.key for k in (PANEL_PACK, PANEL_ACTION, PANEL_MINUTES))
# A referral still waiting for its meeting: the planner counts these, the meeting lists them.
WAITING_STATUSES = ("awaiting_pack", "accepted")
# Outcomes for children discussed from a tracked cohort (no decision type, no event).
TRACKING_OUTCOMES: dict[str, str] = {
    "progressing": "Plan progressing; no further action",
    "actions_agreed": "Blocks and barriers addressed: actions agreed",
    "escalate": "Drift: escalated to the Service Director",
    "stop_tracking": "Permanence secured or no longer tracked",
}


def age_on(day: date, born: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def action_of(row: Any) -> Action:
    """An ``ACTIONS`` row as the service answers it."""
    return Action(
        id=row.id,
        description=row.description,
        owner_id=row.owner_id,
        owner_role=row.owner_role,
        due_on=row.due_on,
        status=row.status,
        done_on=row.done_on,
        child_id=row.child_id,
        journey_id=row.journey_id,
        meeting_id=row.meeting_id,
    )


def quorum_words(conn: Connection, decisions: Sequence[Any]) -> dict[int, str]:
    """Each decision row's quorum in words (``panels.quorum.status_words``; "" when
    quorate), reading the ratifying meetings' dates in one query."""
    ids = {d.ratified_meeting_id for d in decisions if d.ratified_meeting_id is not None}
    dates = (
        {
            r.id: r.meeting_date
            for r in conn.execute(select(M.c.id, M.c.meeting_date).where(M.c.id.in_(ids)))
        }
        if ids
        else {}
    )
    return {
        d.id: status_words(
            d.quorate, d.ratification, d.ratification_reason, dates.get(d.ratified_meeting_id)
        )
        for d in decisions
    }


def item_rows(
    conn: Connection, meeting_id: int, *child_columns: Any, rolled_limit: int | None = None
) -> list[Any]:
    """A meeting's agenda items in order, with the child's reference, the journey's type and
    state, and whatever other child columns the caller needs.

    ``rolled_limit``: only the first that many rolled items (in order) after the rest. An
    agenda built from every cohort of a national-size authority rolls tens of thousands,
    which a page cannot show (issue 12, item 4); :func:`rolled_count` says how many."""
    query = (
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
    )
    if rolled_limit is None:
        return list(conn.execute(query).all())
    # Two reads, each a walk of its own partial index (migration 0035): the items not
    # rolled, and the first rolled ones. One read with "not rolled, or among the first
    # rolled" filtered all 150,000 rolled items of a national agenda (100 ms, twice a page).
    # The items not rolled come first, then the rolled, each in agenda order (the callers
    # take the two apart; the database's order of parts is kept, not re-sorted here).
    return [
        *conn.execute(query.where(I.c.status != "rolled")).all(),
        *conn.execute(query.where(I.c.status == "rolled").limit(rolled_limit)).all(),
    ]


def rolled_count(conn: Connection, meeting_id: int, teams: frozenset[str] | None) -> int:
    """How many of a meeting's items rolled to the next meeting (of these teams' children)."""
    query = (
        select(func.count())
        .select_from(I)
        .where(I.c.meeting_id == meeting_id, I.c.status == "rolled")
    )
    if teams is not None:
        query = query.select_from(I.join(C, C.c.id == I.c.child_id)).where(
            C.c.team.in_(sorted(teams))
        )
    return int(conn.execute(query).scalar_one())


class PanelBase:
    """One local authority's panel, run on the service's database: the shared state and
    helpers the area mixins build on."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        config: PanelConfig,
        base_policy: Policy,
        *,
        email: bool = False,
        record_webhook: bool = False,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.config = config
        # Whether notifications queue emails beside the in-app notice (SMTP configured).
        self.email = email
        # Whether approved minutes queue each record entry for the case management system.
        self.record_webhook = record_webhook
        self.key = config.panel.key
        # Notices name a pack's meeting by this panel's name (panels.panel_name).
        RUNNING_NAMES[self.key] = config.panel.name
        self.journeys = JourneyService(engine, registry, self.policy_for(config, base_policy))

    @staticmethod
    def policy_for(config: PanelConfig, base: Policy) -> Policy:
        """The journey rules as this panel applies them: its SGO scheme of delegation and,
        for a calendar-day lead time, its pack lead (a working-day lead is judged here)."""
        policy = base
        scheme = config.funding_scheme(sgo.DELEGATION_SCHEME)
        if scheme is not None:
            bands = tuple((b.up_to, tuple(b.roles)) for b in scheme.bands)
            policy = policy.with_scheme(sgo.DELEGATION_SCHEME, bands)
        lead = config.pack_lead.days if config.pack_lead.unit == "calendar" else 0
        return replace(policy, pack_lead_days=lead)

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
        new_id = insert_id(
            conn.execute(
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
            )
        )
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

    def _meeting(self, conn: Connection, meeting_id: int) -> Any:
        row = conn.execute(
            select(M).where(and_(M.c.id == meeting_id, M.c.panel == self.key))
        ).one_or_none()
        if row is None:
            raise NotFound(f"There is no meeting {meeting_id} of the {self.key} panel.")
        return row

    def _quorum_state(self, conn: Connection, meeting_id: int) -> QuorumState:
        """Whether the meeting is quorate by the attendance recorded so far (the one rule,
        ``panels.quorum.judge``)."""
        rows = conn.execute(
            select(A.c.member_key, A.c.status, A.c.representative).where(
                A.c.meeting_id == meeting_id
            )
        ).all()
        return judge(self.config, rows)

    def pack_due(self, meeting_date: date) -> date:
        """When a pack for a meeting on ``meeting_date`` is due."""
        return planner.pack_due(meeting_date, self.config.pack_lead)

    def minutes_due(self, meeting_date: date) -> date:
        """When the minutes of a meeting on ``meeting_date`` are due."""
        return planner.minutes_due(meeting_date, self.config.minutes.due_working_days)

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

    def _check_child(
        self, conn: Connection, principal: Principal, child_id: int, *, write: bool
    ) -> None:
        team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one_or_none()
        if team is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, team, write=write)
        if refusal:
            raise AccessDenied(refusal)

    if TYPE_CHECKING:
        # Provided by the area mixins; PanelService composes them all.
        def _next_meeting(
            self, conn: Connection, after: date, *, pack_by: date | None = None
        ) -> Any: ...
        def _hold(self, conn: Connection, principal: Principal, meeting_id: int) -> None: ...
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
        ) -> str: ...
        def _agenda(
            self,
            conn: Connection,
            meeting: Any,
            principal: Principal,
            *,
            rolled_limit: int | None = None,
        ) -> Agenda: ...
        def _to_ratify(self, conn: Connection, meeting: Any) -> list[ToRatify]: ...
        def _republish(self, conn: Connection, principal: Principal, meeting_id: int) -> None: ...
        def _circulate(
            self,
            conn: Connection,
            principal: Principal,
            meeting: Any,
            children: list[int],
            on: date,
        ) -> Notified: ...
        def _write_record_entries(
            self,
            conn: Connection,
            principal: Principal,
            meeting: Any,
            minutes: Minutes,
            approved_on: date,
            *,
            webhook: bool,
        ) -> list[int]: ...
