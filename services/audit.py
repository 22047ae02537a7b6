"""The append-only, tamper-evident audit trail: writes that are not journey events, sign-ins,
and every read of a child's record.

Details name what changed: field names, ids, references and the values before and after
(:func:`changes`), names and dates of birth included. The audit table lives in the database
that holds those values anyway; the details are never logged (the log allow-list keeps them
out), and a read row names children by id only.

Each row carries ``row_hash``, a SHA-256 over its content and ``prev_hash`` (the previous
row's ``row_hash``): altering, deleting or inserting a row anywhere but at the end breaks the
chain, and :func:`verify` names the first row where it breaks. Appends are serialised so two
writers cannot both chain onto the same row: on PostgreSQL by a transaction-scoped advisory
lock, on SQLite by its single writer (every write transaction begins IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from services.access import Principal
from services.clock import now_utc
from services.db import write_connection
from services.models import AUDIT_LOG as A

_CHAIN_LOCK = 726_100_010  # PostgreSQL advisory lock key: one chain append at a time


def _canonical_at(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_digest(
    *,
    prev_hash: str | None,
    at: datetime,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any],
) -> str:
    """The hash a row must carry: SHA-256 over canonical JSON of its content and prev_hash."""
    body = json.dumps(
        [prev_hash or "", _canonical_at(at), actor_id, action, entity, entity_id, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def _last_hash(conn: Connection) -> str | None:
    if conn.dialect.name == "postgresql":
        # Per schema: each schema holds its own chain.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
            {"k": _CHAIN_LOCK},
        )
    return conn.execute(
        select(A.c.row_hash).where(A.c.row_hash.is_not(None)).order_by(A.c.id.desc()).limit(1)
    ).scalar_one_or_none()


def record(
    conn: Connection,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the chain, inside the caller's transaction."""
    # JSON round trip now, so the hash covers exactly what the database will hand back.
    content = json.loads(json.dumps(details or {}, default=str))
    at = now_utc()
    prev = _last_hash(conn)
    digest = row_digest(
        prev_hash=prev,
        at=at,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=content,
    )
    conn.execute(
        insert(A).values(
            at=at,
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=content,
            prev_hash=prev,
            row_hash=digest,
        )
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": old, "after": new}}`` for every field whose value differs."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record_read(
    conn: Connection,
    *,
    actor_id: int,
    what: str,
    child_ids: Iterable[int],
    allowed_by: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> None:
    """Audit that ``actor_id`` read ``what`` (e.g. "child", "journeys", "history", "search",
    "tracker_export", "minutes_export", "care_record") of the given children, and why it was
    allowed (``allowed_by``: the team and roles or panel role that granted it).

    The single place every read of a child's record is recorded; one row per read, naming the
    children by id only."""
    ids = sorted(set(child_ids))
    record(
        conn,
        actor_id=actor_id,
        action=f"read.{what}"[:50],
        entity="child",
        entity_id=ids[0] if len(ids) == 1 else None,
        details={"child_ids": ids, "allowed_by": allowed_by, **(details or {})},
    )


def allowed_by(principal: Principal, rule: str | None = None) -> dict[str, Any]:
    """Why ``principal`` was let read a child's record: their roles, their team and whether
    those roles reach the authority's children or only the team's, and for a panel read the
    panel rule (``panels.permissions``) that allowed it."""
    why: dict[str, Any] = {
        "roles": sorted(principal.roles),
        "team": principal.team,
        "scope": "authority" if principal.sees_all_children else "team",
    }
    if rule:
        why["panel_rule"] = rule
    return why


@dataclass
class _ReadScope:
    what: str
    parts: set[str] = field(default_factory=set)
    child_ids: set[int] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    details: dict[str, Any] = field(default_factory=dict)


# Set by :func:`one_read` while a page gathers several reads of one child's record.
_scope: ContextVar[_ReadScope | None] = ContextVar("audit_read_scope", default=None)


def audit_read(
    engine: Engine,
    principal: Principal,
    what: str,
    child_ids: Iterable[int],
    *,
    rule: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a read the service has just allowed: one row in its own short transaction,
    naming the children by id (a list's ids in that one row). A read that returned no
    child writes nothing. Inside :func:`one_read` the read joins that scope's single row.

    The service calls this after its access check and before it hands the data back, so a
    read whose audit row cannot be written fails rather than going unrecorded."""
    ids = {int(i) for i in child_ids}
    scope = _scope.get()
    if scope is not None:
        scope.parts.add(what)
        scope.child_ids |= ids
        if rule:
            scope.rules.add(rule)
        for key, value in (details or {}).items():
            if isinstance(value, list):
                scope.details[key] = sorted(set(scope.details.get(key, [])) | set(value))
            else:
                scope.details[key] = value
        return
    if not ids:
        return
    with write_connection(engine) as conn:
        record_read(
            conn,
            actor_id=principal.user_id,
            what=what,
            child_ids=ids,
            allowed_by=allowed_by(principal, rule),
            details=details,
        )


@contextmanager
def one_read(engine: Engine, principal: Principal, what: str) -> Iterator[None]:
    """Gather the service reads made inside the block (a child's page reads the child, its
    journeys and each journey's history) into one audit row ``read.<what>`` naming the parts
    read, written when the block ends without error."""
    scope = _ReadScope(what)
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)
    if not scope.child_ids:
        return
    with write_connection(engine) as conn:
        record_read(
            conn,
            actor_id=principal.user_id,
            what=what,
            child_ids=scope.child_ids,
            allowed_by=allowed_by(principal, ",".join(sorted(scope.rules)) or None),
            details={"parts": sorted(scope.parts), **scope.details},
        )


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: rows checked, legacy rows without a hash, the first break."""

    checked: int
    unchained: int
    broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        """True when the whole chain holds."""
        return self.broken_id is None


def verify(engine: Engine) -> Verification:
    """Walk the trail in id order and return the first row whose hash or link is wrong.

    Rows from before the chain existed (no hash) may only come first; a hashless row after
    the chain began is itself a break (someone inserted it bypassing the service)."""
    checked = unchained = 0
    prev: str | None = None
    started = False
    with engine.connect() as conn:
        rows = conn.execute(select(A).order_by(A.c.id)).mappings()
        for row in rows:
            if row["row_hash"] is None and not started:
                unchained += 1
                continue
            started = True
            checked += 1
            if row["row_hash"] is None:
                return Verification(checked, unchained, row["id"], "row has no hash")
            if row["prev_hash"] != prev:
                return Verification(
                    checked, unchained, row["id"], "does not link to the row before it"
                )
            expected = row_digest(
                prev_hash=row["prev_hash"],
                at=row["at"],
                actor_id=row["actor_id"],
                action=row["action"],
                entity=row["entity"],
                entity_id=row["entity_id"],
                details=row["details"],
            )
            if expected != row["row_hash"]:
                return Verification(
                    checked, unchained, row["id"], "content does not match its hash"
                )
            prev = row["row_hash"]
    return Verification(checked, unchained, None, None)
