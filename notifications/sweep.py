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
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import structlog
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql

from notifications.models import (
    EMAIL_KEY_SQL,
    WEBHOOK_KEY_SQL,
    email_key,
    webhook_key,
)
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.policy import Policies, Step
from services.clock import now_utc
from services.db import read_connection, write_connection
from services.deadlines import judged
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import USERS as U
from states.roles import SERVICE_DIRECTOR, SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER

SWEEP_LOCK_KEY = 726_100_003  # PostgreSQL advisory lock: one sweep at a time
# Keyed by the schema as well: two deployments (or test runs) in one database's schemas each
# sweep their own tables, so neither may lock the other out.
_KEYS = ":k, hashtext(current_schema())"
_TEAM_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER})

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
    journey_id: int | None  # None (with child_id): a panel meeting's own deadline
    child_id: int | None
    child_reference: str | None
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

    def recipients(
        self, step: Step, owner_id: int | None, owner_role: str, team: str | None
    ) -> list[int]:
        """The people a step of a deadline goes to (may be empty).

        ``team`` is None for a deadline with no child (a panel meeting's minutes): the owner
        step then reaches the owner or every active holder of the owner role, and the team
        manager rung has nobody (the ladder goes on to the service managers and director).
        """
        if step.audience == "owner":
            if owner_id is not None and owner_id in self.usernames:
                return [owner_id]
            # No (active) owner: the role that owns it, within the team for team roles;
            # failing that the team's managers, so an unallocated deadline still reaches someone.
            if team is None:
                return self.by_role.get(owner_role, [])
            holders = (
                self.by_role_team.get((owner_role, team), [])
                if owner_role in _TEAM_ROLES
                else self.by_role.get(owner_role, [])
            )
            return holders or self.by_role_team.get((TEAM_MANAGER, team), [])
        if step.audience == TEAM_MANAGER:
            return [] if team is None else self.by_role_team.get((TEAM_MANAGER, team), [])
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
    # A deadline still to confirm from the record gets no notice at all (services.deadlines).
    conditions = [
        D.c.status == "open",
        D.c.due_on <= step.latest_due_on(as_of),
        ~sent,
        judged(),
    ]
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
    if step.ahead_only:
        # The day this deadline (for its current due date) was first swept with a notice
        # recorded: the earliest notice's sweep day. None means this sweep is its first.
        first_swept: ColumnElement[Any] = (
            select(func.min(N.c.swept_on))
            .where(and_(N.c.deadline_id == D.c.id, N.c.due_on == D.c.due_on))
            .scalar_subquery()
        )
    else:
        first_swept = literal(None, type_=N.c.swept_on.type)
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
            first_swept,
        )
        # Outer: a panel meeting's own deadline has no child (reference and team are NULL).
        .select_from(D.outerjoin(C, C.c.id == D.c.child_id))
        .where(and_(*conditions))
    )


def plan(
    conn: Connection, policies: Policies, as_of: date, staff: Staff | None = None
) -> tuple[list[PlannedNotice], int]:
    """Every notice due by ``as_of`` and not yet recorded, plus the count with no recipient."""
    if conn.dialect.name == "postgresql":
        # For this transaction only. The planner takes a step's candidates (open, due by a
        # date) for ten times what they are, open deadlines being mostly ahead and closed
        # ones behind, and prices them past the JIT thresholds: at national size it spent
        # 1.3 s compiling each of the larger steps' queries that then ran in 1 s (the daily
        # sweep 5-7 s with, 2.7-3.4 s without; issue 12, item 4).
        conn.execute(text("SET LOCAL jit = off"))
    staff = staff or load_staff(conn)
    planned: list[PlannedNotice] = []
    append = planned.append
    unaddressed = 0
    for step, kinds, inclusive in policies.step_groups():
        name, category = step.name, step.category
        # Per step, many rows share a due date and an (owner, role, team): look each up once.
        fire_dates: dict[date, date] = {}
        audiences: dict[tuple[int | None, str, str | None], list[tuple[int, str]]] = {}
        # Rows unpack like tuples; Result.tuples() is deprecated (and only a typing cast).
        rows = _candidates(conn, step, kinds, inclusive, as_of)
        # A team-manager rung has nobody to reach on a deadline with no team: that is the
        # ladder skipping a rung, not a missing user, so it is not counted as unaddressed.
        skips_rung = step.audience == TEAM_MANAGER
        ahead_only = step.ahead_only
        for row in rows:
            deadline_id, journey_id, child_id, kind, due_on, owner_id, role, ref, team = row[:9]
            fire_on = fire_dates.get(due_on)
            if fire_on is None:
                fire_on = fire_dates[due_on] = step.fire_on(due_on)
            if fire_on > as_of:  # cannot happen (latest_due_on is exact); belt and braces
                continue
            # A step already behind the deadline's first sweep is never sent (item 9 of
            # issue 13): a back-dated or late-swept deadline gets only the steps ahead.
            # Once swept, a missed day is still caught up (its step is after that day).
            if ahead_only and fire_on < (row[9] or as_of):
                continue
            people = audiences.get((owner_id, role, team))
            if people is None:
                people = audiences[(owner_id, role, team)] = [
                    (person, staff.usernames[person])
                    for person in staff.recipients(step, owner_id, role, team)
                ]
            if not people and not (skips_rung and team is None):
                unaddressed += 1
            for person, username in people:
                append(
                    PlannedNotice(
                        deadline_id,
                        journey_id,
                        child_id,
                        ref,
                        kind,
                        due_on,
                        name,
                        category,
                        fire_on,
                        person,
                        username,
                    )
                )
    planned.sort(key=_ORDER)
    return planned, unaddressed


def _lock(conn: Connection, *, wait: bool) -> bool:
    """Take the sweep lock for this transaction (PostgreSQL); False if another holds it."""
    if conn.dialect.name != "postgresql":
        return True
    if wait:
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_KEYS})"), {"k": SWEEP_LOCK_KEY})
        return True
    return bool(
        conn.execute(
            text(f"SELECT pg_try_advisory_xact_lock({_KEYS})"), {"k": SWEEP_LOCK_KEY}
        ).scalar()
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
    """Insert the planned notices (skipping any another writer got to first) and their outbox.

    Set-based: the plan is staged in a temporary table (binary COPY on PostgreSQL) and the
    notices are written by one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which tells
    the sweep exactly which notices *it* recorded (SQLite: RETURNING their keys; PostgreSQL:
    the same statement queues their outbox rows and returns only the staged rows it did not
    record). Returns the recorded notices and the number of outbox rows queued for them (as
    before: a webhook row per notice, before ON CONFLICT drops a step's second recipient).
    """
    if not planned:
        return [], 0
    stamp = now_utc()
    email_ids = sorted(staff_emails) if channels.email else []
    # One row per key (a person holding a role twice would otherwise be planned twice; the
    # unique key records them once), so each staged row stands for exactly one notice.
    unique = list({(p.deadline_id, p.step, p.recipient_id): p for p in planned}.values())
    if conn.dialect.name == "postgresql":
        recorded = _record_postgresql(conn, unique, as_of, stamp, channels, email_ids)
    else:
        recorded = _record_sqlite(conn, unique, as_of, stamp, channels, email_ids)
    with_email = set(email_ids)
    queued = sum(1 for p in recorded if p.recipient_id in with_email)
    if channels.webhook:
        queued += len(recorded)
    return recorded, queued


_STAGE_COLUMNS = (
    "ord, deadline_id, journey_id, child_id, recipient_id, category, step, deadline_kind,"
    " due_on, fire_on"
)
# Binary COPY is several times faster than text for 50,000 rows (no text formatting).
_STAGE_TYPES = ("int4",) * 5 + ("text",) * 3 + ("date",) * 2
_NOTICE_COLUMNS = (
    "deadline_id, journey_id, child_id, recipient_id, category, step, deadline_kind,"
    " due_on, fire_on, swept_on, created_at"
)
_OUTBOX_COLUMNS = (
    "notice_id, recipient_id, channel, dedupe_key, payload, status, attempts,"
    " next_attempt_at, created_at"
)
# Planned notices in sort order (``ord``) into the notice table; WHERE true keeps SQLite's
# parser from reading ON CONFLICT as a join constraint.
_INSERT_NOTICES = (
    f"INSERT INTO notice ({_NOTICE_COLUMNS})"
    " SELECT deadline_id, journey_id, child_id, recipient_id, category, step, deadline_kind,"
    " due_on, fire_on, :swept_on, :stamp FROM sweep_plan WHERE true ORDER BY ord"
    " ON CONFLICT DO NOTHING"
)


def _stamped(sql: str, as_of: date, stamp: datetime) -> Any:
    """``sql`` with the sweep's day and timestamp bound as the notice columns bind them."""
    return text(sql).bindparams(
        bindparam("swept_on", as_of, type_=N.c.swept_on.type),
        bindparam("stamp", stamp, type_=N.c.created_at.type),
    )


def _record_postgresql(
    conn: Connection,
    planned: list[PlannedNotice],
    as_of: date,
    stamp: datetime,
    channels: Channels,
    email_ids: list[int],
) -> list[PlannedNotice]:
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE sweep_plan (ord integer, deadline_id integer,"
        " journey_id integer, child_id integer, recipient_id integer, category text,"
        " step text, deadline_kind text, due_on date, fire_on date) ON COMMIT DROP"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY sweep_plan ({_STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_STAGE_TYPES)
            for i, p in enumerate(planned):
                copy.write_row(
                    (
                        i,
                        p.deadline_id,
                        p.journey_id,
                        p.child_id,
                        p.recipient_id,
                        p.category,
                        p.step,
                        p.deadline_kind,
                        p.due_on,
                        p.fire_on,
                    )
                )
    finally:
        cursor.close()
    # The outbox rows are queued by the same statement, from what its INSERT returned (a
    # data-modifying CTE): one round trip for notices and outbox together.
    queues = []
    if email_ids:
        queues.append(
            "SELECT id AS notice_id, recipient_id, 'email' AS channel,"
            f" {EMAIL_KEY_SQL} AS dedupe_key, 0 AS seq FROM recorded"
            " WHERE recipient_id = ANY(:email_ids)"
        )
    if channels.webhook:
        queues.append(
            "SELECT id AS notice_id, NULL::integer AS recipient_id, 'webhook' AS channel,"
            f" {WEBHOOK_KEY_SQL} AS dedupe_key, 1 AS seq FROM recorded"
        )
    sql = (
        f"WITH recorded AS ({_INSERT_NOTICES}"
        " RETURNING id, deadline_id, step, recipient_id, due_on)"
    )
    if queues:
        sql += (
            f", queued AS (INSERT INTO outbox ({_OUTBOX_COLUMNS})"
            " SELECT notice_id, recipient_id, channel, dedupe_key, '{}'::json, 'pending', 0,"
            f" :stamp, :stamp FROM ({' UNION ALL '.join(queues)}) AS q"
            " ORDER BY notice_id, seq ON CONFLICT DO NOTHING)"
        )
    # What comes back is the staged rows that were *not* recorded (a concurrent writer got
    # there first: none while the sweep lock is held), not 50,000 recorded keys.
    sql += (
        " SELECT p.ord FROM sweep_plan AS p WHERE NOT EXISTS (SELECT FROM recorded AS r"
        " WHERE r.deadline_id = p.deadline_id AND r.step = p.step AND r.due_on = p.due_on"
        " AND r.recipient_id = p.recipient_id)"
    )
    statement = _stamped(sql, as_of, stamp)
    if email_ids:
        statement = statement.bindparams(
            bindparam("email_ids", email_ids, type_=postgresql.ARRAY(Integer))
        )
    skipped = set(conn.execute(statement).scalars())
    return [p for i, p in enumerate(planned) if i not in skipped] if skipped else planned


def _record_sqlite(
    conn: Connection,
    planned: list[PlannedNotice],
    as_of: date,
    stamp: datetime,
    channels: Channels,
    email_ids: list[int],
) -> list[PlannedNotice]:
    conn.exec_driver_sql(
        "CREATE TEMP TABLE sweep_plan (ord INTEGER PRIMARY KEY, deadline_id INTEGER,"
        " journey_id INTEGER, child_id INTEGER, recipient_id INTEGER, category TEXT,"
        " step TEXT, deadline_kind TEXT, due_on TEXT, fire_on TEXT)"
    )
    conn.exec_driver_sql(
        f"INSERT INTO sweep_plan ({_STAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                p.deadline_id,
                p.journey_id,
                p.child_id,
                p.recipient_id,
                p.category,
                p.step,
                p.deadline_kind,
                p.due_on.isoformat(),  # how the Date type stores a date on SQLite
                p.fire_on.isoformat(),
            )
            for i, p in enumerate(planned)
        ],
    )
    inserted = conn.execute(
        _stamped(
            f"{_INSERT_NOTICES} RETURNING id, deadline_id, step, recipient_id, due_on",
            as_of,
            stamp,
        )
    ).all()
    conn.exec_driver_sql("DROP TABLE temp.sweep_plan")
    inserted = sorted(inserted, key=itemgetter(0))
    with_email = set(email_ids)
    stored = O.c.created_at.type.bind_processor(conn.dialect)
    at = stored(stamp) if stored else stamp
    rows: list[tuple[Any, ...]] = []
    for notice_id, deadline_id, step, recipient_id, due_on in inserted:
        if recipient_id in with_email:
            rows.append((notice_id, recipient_id, "email", email_key(notice_id), at, at))
        if channels.webhook:
            rows.append(
                (notice_id, None, "webhook", webhook_key(deadline_id, step, due_on), at, at)
            )
    if rows:
        conn.exec_driver_sql(
            f"INSERT INTO outbox ({_OUTBOX_COLUMNS})"
            " VALUES (?, ?, ?, ?, '{}', 'pending', 0, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
    by_key = {(p.deadline_id, p.step, p.recipient_id): p for p in planned}
    return sorted((by_key[(row[1], row[2], row[3])] for row in inserted), key=_ORDER)
