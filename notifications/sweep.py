"""The sweep: as of a London date, record every reminder and escalation that has come due.

One sweep is one write transaction: the notices and their outbox rows are written together,
or not at all. The unique key on ``notice`` (deadline, step, due_on, recipient) makes a
second send impossible, whatever runs the sweep and however often: a missed day is caught up
by the next sweep, and a repeated sweep inserts nothing.

On PostgreSQL the sweep holds a transaction-scoped advisory lock, so with several processes
exactly one sweep runs at a time (a scheduler that finds the lock taken skips its turn; the
CLI waits). On SQLite ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

import structlog
from sqlalchemy import Connection, Engine, and_, exists, select, text
from sqlalchemy.dialects import postgresql, sqlite

from notifications.policy import Policies, Step
from services.clock import now_utc
from services.db import read_connection, write_connection
from services.models import Child, Deadline, Journey, Notice, Outbox, User
from states.roles import SERVICE_DIRECTOR, SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER

N = Notice.__table__  # type: ignore[attr-defined]
O = Outbox.__table__  # type: ignore[attr-defined]  # noqa: E741
D = Deadline.__table__  # type: ignore[attr-defined]
C = Child.__table__  # type: ignore[attr-defined]
J = Journey.__table__  # type: ignore[attr-defined]
U = User.__table__  # type: ignore[attr-defined]

SWEEP_LOCK_KEY = 726_100_003  # PostgreSQL advisory lock: one sweep at a time
_TEAM_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER})
_BATCH = 5000

log = structlog.get_logger("permanence.sweep")


@dataclass(frozen=True)
class Channels:
    """Which delivery channels a sweep queues beside the in-app notice."""

    email: bool = False
    webhook: bool = False


class PlannedNotice(NamedTuple):
    """A notice the sweep records (or, in a dry run, would record).

    A named tuple rather than a dataclass: a sweep makes tens of thousands of them.
    """

    deadline_id: int
    journey_id: int
    child_id: int
    child_reference: str
    deadline_kind: str
    due_on: date
    step: str
    category: str
    fire_on: date
    recipient_id: int
    recipient: str

    def as_json(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings)."""
        out = self._asdict()
        out["due_on"] = self.due_on.isoformat()
        out["fire_on"] = self.fire_on.isoformat()
        return out


# Sort key: fire_on, deadline_id, step, recipient_id (by position: faster than a lambda).
_ORDER = itemgetter(8, 0, 6, 9)


@dataclass
class SweepResult:
    """What one sweep did."""

    as_of: date
    dry_run: bool
    locked_out: bool = False
    notices: list[PlannedNotice] = field(default_factory=list)
    outbox: int = 0
    unaddressed: int = 0  # due steps with nobody to send to (no such user configured)


@dataclass(frozen=True)
class Staff:
    """Active users by role and team: who a step reaches."""

    usernames: dict[int, str]
    emails: dict[int, str]
    by_role: dict[str, list[int]]
    by_role_team: dict[tuple[str, str], list[int]]

    def recipients(self, step: Step, owner_id: int | None, owner_role: str, team: str) -> list[int]:
        """The people a step of a deadline goes to (may be empty)."""
        if step.audience == "owner":
            if owner_id is not None and owner_id in self.usernames:
                return [owner_id]
            # No (active) owner: the role that owns it, within the team for team roles;
            # failing that the team's managers, so an unallocated deadline still reaches someone.
            holders = (
                self.by_role_team.get((owner_role, team), [])
                if owner_role in _TEAM_ROLES
                else self.by_role.get(owner_role, [])
            )
            return holders or self.by_role_team.get((TEAM_MANAGER, team), [])
        if step.audience == TEAM_MANAGER:
            return self.by_role_team.get((TEAM_MANAGER, team), [])
        if step.audience in (SERVICE_MANAGER, SERVICE_DIRECTOR):
            return self.by_role.get(step.audience, [])
        return []


def load_staff(conn: Connection) -> Staff:
    """Every active user, indexed for recipient resolution (a small table, read once)."""
    usernames: dict[int, str] = {}
    emails: dict[int, str] = {}
    by_role: dict[str, list[int]] = defaultdict(list)
    by_role_team: dict[tuple[str, str], list[int]] = defaultdict(list)
    rows = conn.execute(
        select(U.c.id, U.c.username, U.c.email, U.c.roles, U.c.team)
        .where(U.c.active.is_(True))
        .order_by(U.c.id)
    )
    for row in rows:
        usernames[row.id] = row.username
        if row.email:
            emails[row.id] = row.email
        for role in row.roles or ():
            by_role[role].append(row.id)
            if row.team:
                by_role_team[(role, row.team)].append(row.id)
    return Staff(usernames, emails, dict(by_role), dict(by_role_team))


def _candidates(conn: Connection, step: Step, kinds: frozenset[str], inclusive: bool, as_of: date):  # type: ignore[no-untyped-def]
    """Open deadlines for which ``step`` has come due and has not been recorded."""
    sent = exists().where(
        and_(N.c.deadline_id == D.c.id, N.c.step == step.name, N.c.due_on == D.c.due_on)
    )
    conditions = [D.c.status == "open", D.c.due_on <= step.latest_due_on(as_of), ~sent]
    if inclusive:
        conditions.append(D.c.kind.in_(sorted(kinds)))
    elif kinds:
        conditions.append(D.c.kind.not_in(sorted(kinds)))
    if step.category == "escalation":
        # An acknowledged escalation (at any rung, for this due date) stops the ladder.
        acknowledged = exists().where(
            and_(
                N.c.deadline_id == D.c.id,
                N.c.due_on == D.c.due_on,
                N.c.category == "escalation",
                N.c.acknowledged_at.is_not(None),
            )
        )
        conditions.append(~acknowledged)
    return conn.execute(
        select(
            D.c.id,
            D.c.journey_id,
            D.c.child_id,
            D.c.kind,
            D.c.due_on,
            D.c.owner_id,
            D.c.owner_role,
            C.c.reference,
            C.c.team,
        )
        .select_from(D.join(C, C.c.id == D.c.child_id))
        .where(and_(*conditions))
    )


def plan(
    conn: Connection, policies: Policies, as_of: date, staff: Staff | None = None
) -> tuple[list[PlannedNotice], int]:
    """Every notice due by ``as_of`` and not yet recorded, plus the count with no recipient."""
    staff = staff or load_staff(conn)
    planned: list[PlannedNotice] = []
    unaddressed = 0
    for step, kinds, inclusive in policies.step_groups():
        for row in _candidates(conn, step, kinds, inclusive, as_of):
            fire_on = step.fire_on(row.due_on)
            if fire_on > as_of:  # cannot happen (latest_due_on is exact); belt and braces
                continue
            people = staff.recipients(step, row.owner_id, row.owner_role, row.team)
            if not people:
                unaddressed += 1
            for person in people:
                planned.append(
                    PlannedNotice(
                        deadline_id=row.id,
                        journey_id=row.journey_id,
                        child_id=row.child_id,
                        child_reference=row.reference,
                        deadline_kind=row.kind,
                        due_on=row.due_on,
                        step=step.name,
                        category=step.category,
                        fire_on=fire_on,
                        recipient_id=person,
                        recipient=staff.usernames[person],
                    )
                )
    planned.sort(key=_ORDER)
    return planned, unaddressed


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for this dialect."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lock(conn: Connection, *, wait: bool) -> bool:
    """Take the sweep lock for this transaction (PostgreSQL); False if another holds it."""
    if conn.dialect.name != "postgresql":
        return True
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY})
        return True
    return bool(
        conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY}).scalar()
    )


def sweep(
    engine: Engine,
    policies: Policies,
    as_of: date,
    *,
    channels: Channels = Channels(),
    dry_run: bool = False,
    wait: bool = True,
) -> SweepResult:
    """Record every reminder and escalation due by ``as_of`` (a London date), once each.

    ``dry_run`` only reports what would be recorded. ``wait=False`` returns at once
    (``locked_out``) if another process is sweeping on PostgreSQL.
    """
    result = SweepResult(as_of=as_of, dry_run=dry_run)
    if dry_run:
        with read_connection(engine) as conn:
            result.notices, result.unaddressed = plan(conn, policies, as_of)
        return result
    with write_connection(engine) as conn:
        if not _lock(conn, wait=wait):
            result.locked_out = True
            log.info("sweep_locked_out", as_of=as_of.isoformat())
            return result
        staff = load_staff(conn)
        planned, result.unaddressed = plan(conn, policies, as_of, staff)
        result.notices, result.outbox = _record(conn, planned, as_of, channels, staff.emails)
    log.info("sweep", as_of=as_of.isoformat(), count=len(result.notices), sent=result.outbox)
    return result


def _record(
    conn: Connection,
    planned: list[PlannedNotice],
    as_of: date,
    channels: Channels,
    staff_emails: dict[int, str],
) -> tuple[list[PlannedNotice], int]:
    """Insert the planned notices (skipping any another writer got to first) and their outbox."""
    stamp = now_utc()
    recorded: list[PlannedNotice] = []
    outbox_rows: list[dict[str, Any]] = []
    by_key = {(p.deadline_id, p.step, p.recipient_id): p for p in planned}
    statement = _insert(conn, N).returning(N.c.id, N.c.deadline_id, N.c.step, N.c.recipient_id)
    for chunk in _chunks(planned, _BATCH):
        rows = [
            {
                "deadline_id": p.deadline_id,
                "journey_id": p.journey_id,
                "child_id": p.child_id,
                "recipient_id": p.recipient_id,
                "category": p.category,
                "step": p.step,
                "deadline_kind": p.deadline_kind,
                "due_on": p.due_on,
                "fire_on": p.fire_on,
                "swept_on": as_of,
                "created_at": stamp,
            }
            for p in chunk
        ]
        for inserted in conn.execute(statement, rows):
            notice = by_key[(inserted.deadline_id, inserted.step, inserted.recipient_id)]
            recorded.append(notice)
            if channels.email and notice.recipient_id in staff_emails:
                outbox_rows.append(_outbox_row("email", inserted.id, notice, stamp))
            if channels.webhook:
                outbox_rows.append(_outbox_row("webhook", inserted.id, notice, stamp))
    for chunk in _chunks(outbox_rows, _BATCH):
        conn.execute(_insert(conn, O), list(chunk))
    recorded.sort(key=_ORDER)
    return recorded, len(outbox_rows)


def _outbox_row(channel: str, notice_id: int, notice: PlannedNotice, stamp: Any) -> dict[str, Any]:
    # One webhook message per step of a deadline (a channel, not a person): its key leaves
    # the recipient out, so the second recipient's row is dropped by ON CONFLICT.
    key = (
        f"email:{notice_id}"
        if channel == "email"
        else f"webhook:{notice.deadline_id}:{notice.step}:{notice.due_on.isoformat()}"
    )
    return {
        "notice_id": notice_id,
        "recipient_id": notice.recipient_id if channel == "email" else None,
        "channel": channel,
        "dedupe_key": key,
        "payload": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": stamp,
        "created_at": stamp,
    }
