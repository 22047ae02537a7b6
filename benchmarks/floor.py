"""The floor: the benchmark's transaction in raw SQL through the driver, with no service.

The transaction is the one ``hold_review`` makes on a ``placed_with_parents`` journey: read
the journey (with its child) and its deadlines, refuse a stale version, then
``UPDATE journey ... WHERE id AND version``, insert the history entry, meet the open review
deadline, open the next one, commit. Values are computed the simplest way (the next review
91 days on), not by the journey's rules: the floor is what the driver and the database cost.

* SQLite (``sqlite3``): statement by statement inside ``BEGIN IMMEDIATE ... COMMIT``, WAL and
  ``synchronous=NORMAL`` as the service sets them.
* PostgreSQL (psycopg): the fewest round trips the transaction needs, as the service's hot
  path does: the two reads pipelined, then one statement of data-modifying CTEs (the writes
  hang off the version-checked UPDATE) in autocommit; server-side prepared statements.

Used by ``bench_transitions.py --floor`` (one thread, like the engine phase) and by
``bare_app.py`` (the same transaction behind a bare FastAPI endpoint).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

KIND = "pwp_review"
EVENT = "hold_review"

_READ_JOURNEY = (
    "SELECT j.id, j.child_id, j.state, j.version, j.data, c.team,"
    " c.allocated_social_worker_id FROM journey j JOIN child c ON c.id = j.child_id"
    " WHERE j.id = {p}"
)
_READ_DEADLINES = (
    "SELECT id, kind, ref, due_on, status, met_on, owner_id, owner_role FROM deadline"
    " WHERE journey_id = {p} ORDER BY due_on, id"
)

_PG_WRITE = """
WITH advanced AS (
    UPDATE journey SET version = %(new_version)s, data = %(data)s, updated_at = %(now)s
    WHERE id = %(journey_id)s AND version = %(version)s
    RETURNING id
), recorded AS (
    INSERT INTO journey_event (journey_id, journey_version, event, from_state, to_state,
        occurred_on, recorded_at, actor_id, data)
    SELECT id, %(new_version)s, %(event)s, %(state)s, %(state)s, %(on)s, %(now)s,
        %(actor_id)s, %(event_data)s
    FROM advanced
), met AS (
    UPDATE deadline SET status = 'met', met_on = %(on)s, updated_at = %(now)s
    FROM advanced
    WHERE deadline.journey_id = advanced.id AND deadline.kind = %(kind)s
        AND deadline.ref = '' AND deadline.status = 'open'
), opened AS (
    INSERT INTO deadline (journey_id, child_id, kind, ref, due_on, owner_id, owner_role,
        status, created_at, updated_at)
    SELECT id, %(child_id)s, %(kind)s, '', %(due_on)s, %(owner_id)s, 'social_worker', 'open',
        %(now)s, %(now)s
    FROM advanced
    RETURNING id
)
SELECT (SELECT count(*) FROM advanced), (SELECT id FROM opened)
"""


class Stale(Exception):
    """The journey's version is not the one sent (or moved under the write)."""


@dataclass(frozen=True)
class Planned:
    """What the floor writes for one event: computed from the rows read, nothing else."""

    params: dict[str, Any]
    deadlines: list[dict[str, Any]]  # the answer: the deadlines after the change

    @classmethod
    def from_rows(
        cls, journey: Any, deadlines: list[Any], expected: int, on: date, actor_id: int
    ) -> Planned:
        if journey is None:
            raise LookupError("no such journey")
        journey_id, child_id, state, version, data, _team, social_worker = journey
        if version != expected:
            raise Stale(version)
        if isinstance(data, str):
            data = json.loads(data)
        now = datetime.now(UTC)
        due = on + timedelta(days=91)
        answer = [
            {
                "id": d[0],
                "kind": d[1],
                "ref": d[2],
                "due_on": str(d[3]),
                "status": "met" if (d[1] == KIND and d[4] == "open") else d[4],
                "met_on": on.isoformat() if (d[1] == KIND and d[4] == "open") else d[5],
                "owner_id": d[6],
                "owner_role": d[7],
            }
            for d in deadlines
        ]
        answer.append({"kind": KIND, "due_on": due.isoformat(), "status": "open"})
        params = {
            "journey_id": journey_id,
            "child_id": child_id,
            "version": version,
            "new_version": version + 1,
            "state": state,
            "data": {**data, "last_review_on": on.isoformat()},
            "event_data": {"notes": "floor", "deadlines": [{"action": "meet", "kind": KIND}]},
            "event": EVENT,
            "on": on,
            "now": now,
            "kind": KIND,
            "due_on": due,
            "owner_id": social_worker,
            "actor_id": actor_id,
        }
        return cls(params, answer)


# -- SQLite ------------------------------------------------------------------------------------


def sqlite_connect(path: str) -> sqlite3.Connection:
    """A connection set up as the service sets its own (WAL, NORMAL, foreign keys)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def sqlite_fire(
    conn: sqlite3.Connection, journey_id: int, expected: int, on: date, actor_id: int
) -> Planned:
    """The transaction on SQLite, statement by statement."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        journey = conn.execute(_READ_JOURNEY.format(p="?"), (journey_id,)).fetchone()
        deadlines = conn.execute(_READ_DEADLINES.format(p="?"), (journey_id,)).fetchall()
        planned = Planned.from_rows(journey, deadlines, expected, on, actor_id)
        p = planned.params
        now = p["now"].isoformat(sep=" ")
        moved = conn.execute(
            "UPDATE journey SET version = ?, data = ?, updated_at = ? WHERE id = ? AND version = ?",
            (p["new_version"], json.dumps(p["data"]), now, journey_id, p["version"]),
        ).rowcount
        if moved != 1:
            raise Stale(p["version"])
        conn.execute(
            "INSERT INTO journey_event (journey_id, journey_version, event, from_state, to_state,"
            " occurred_on, recorded_at, actor_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                journey_id,
                p["new_version"],
                EVENT,
                p["state"],
                p["state"],
                on.isoformat(),
                now,
                actor_id,
                json.dumps(p["event_data"]),
            ),
        )
        conn.execute(
            "UPDATE deadline SET status = 'met', met_on = ?, updated_at = ? WHERE journey_id = ?"
            " AND kind = ? AND ref = '' AND status = 'open'",
            (on.isoformat(), now, journey_id, KIND),
        )
        conn.execute(
            "INSERT INTO deadline (journey_id, child_id, kind, ref, due_on, owner_id, owner_role,"
            " status, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, 'social_worker',"
            " 'open', ?, ?) RETURNING id",
            (journey_id, p["child_id"], KIND, p["due_on"].isoformat(), p["owner_id"], now, now),
        ).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return planned


# -- PostgreSQL --------------------------------------------------------------------------------


def pg_params(planned: Planned) -> dict[str, Any]:
    """The write's parameters with the JSON values wrapped for psycopg."""
    from psycopg.types.json import Json

    p = dict(planned.params)
    p["data"] = Json(p["data"])
    p["event_data"] = Json(p["event_data"])
    return p


def pg_fire(conn: Any, journey_id: int, expected: int, on: date, actor_id: int) -> Planned:
    """The transaction on a psycopg connection in autocommit: two round trips."""
    with conn.pipeline():
        journey = conn.execute(_READ_JOURNEY.format(p="%s"), (journey_id,), prepare=True)
        deadlines = conn.execute(_READ_DEADLINES.format(p="%s"), (journey_id,), prepare=True)
    planned = Planned.from_rows(journey.fetchone(), deadlines.fetchall(), expected, on, actor_id)
    advanced, _opened = conn.execute(_PG_WRITE, pg_params(planned), prepare=True).fetchone()
    if advanced != 1:
        raise Stale(expected)
    return planned


async def pg_fire_async(
    conn: Any, journey_id: int, expected: int, on: date, actor_id: int
) -> Planned:
    """:func:`pg_fire` on a psycopg ``AsyncConnection``."""
    async with conn.pipeline():
        journey = await conn.execute(_READ_JOURNEY.format(p="%s"), (journey_id,), prepare=True)
        deadlines = await conn.execute(_READ_DEADLINES.format(p="%s"), (journey_id,), prepare=True)
    planned = Planned.from_rows(
        await journey.fetchone(), await deadlines.fetchall(), expected, on, actor_id
    )
    cursor = await conn.execute(_PG_WRITE, pg_params(planned), prepare=True)
    advanced, _opened = await cursor.fetchone()
    if advanced != 1:
        raise Stale(expected)
    return planned


def pg_conninfo(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (``postgresql+psycopg://...``)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = {
        "host": u.host,
        "port": u.port,
        "user": u.username,
        "password": u.password,
        "dbname": u.database,
    }
    text = " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)
    options = u.query.get("options")
    if options:
        text += f" options='{options}'"
    return text
