"""The child's record: the panel's entries written when minutes are approved (issue 14,
item 3), read back, and the message the case management system receives for each.

The entries are written by ``panels.service.record`` in the approval's transaction; this
module reads them (for the child's page, the API and the exports) with no panel
configuration needed, so a child's page shows every panel's entries. Every read checks the
child's team and the reader's roles (``services.access``) and is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from panels.models import RECORD_ENTRIES as RE
from panels.results import RecordAction, RecordDecision, RecordEntry
from services import audit
from services.access import Principal, child_refusal
from services.db import read_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C

# What the outbox's record webhook message is (``payload["type"]``).
WEBHOOK_TYPE = "panel_record_entry"


def _check_child(conn: Connection, principal: Principal, child_id: int) -> None:
    team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one_or_none()
    if team is None:
        raise NotFound(f"There is no child {child_id}.")
    refusal = child_refusal(principal, team, write=False)
    if refusal:
        raise AccessDenied(refusal)


def _latest_versions(conn: Connection, item_ids: set[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = conn.execute(
        select(RE.c.item_id, func.max(RE.c.minutes_version))
        .where(RE.c.item_id.in_(sorted(item_ids)))
        .group_by(RE.c.item_id)
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}


def entry_of(row: Any, latest: int) -> RecordEntry:
    """A ``panel_record_entry`` row (joined with the child's reference) as a result;
    ``latest`` is the newest minutes version written for the row's item."""
    e = row.entry
    return RecordEntry(
        id=row.id,
        child_id=row.child_id,
        child_reference=row.reference,
        panel=row.panel,
        panel_name=e.get("panel_name") or row.panel,
        meeting_id=row.meeting_id,
        held_on=row.held_on,
        part=row.part,
        part_title=e.get("part_title") or row.part,
        journey_id=row.journey_id,
        journey_type=e.get("journey_type"),
        journey_title=e.get("journey_title"),
        minutes_version=row.minutes_version,
        current=row.minutes_version >= latest,
        decisions=[RecordDecision(**d) for d in e.get("decisions", [])],
        actions=[
            RecordAction(**{**a, "due_on": date.fromisoformat(a["due_on"])})
            for a in e.get("actions", [])
        ],
        review_weeks=e.get("review_weeks"),
        next_review_on=row.next_review_on,
        approved_on=row.approved_on,
        recorded_at=row.created_at,
    )


def _select() -> Any:
    return select(RE, C.c.reference).select_from(RE.join(C, C.c.id == RE.c.child_id))


def child_record(
    engine: Engine, child_id: int, principal: Principal, *, current_only: bool = False
) -> list[RecordEntry]:
    """The panel's entries on a child's record, oldest meeting first (a corrected entry
    after the version it replaces); ``current_only`` leaves out replaced versions. 404 for an
    unknown child, 403 for one the principal may not see; the read is audited."""
    with read_connection(engine) as conn:
        _check_child(conn, principal, child_id)
        rows = conn.execute(
            _select()
            .where(RE.c.child_id == child_id)
            .order_by(RE.c.held_on, RE.c.meeting_id, RE.c.item_id, RE.c.minutes_version)
        ).all()
        latest = _latest_versions(conn, {r.item_id for r in rows})
    entries = [entry_of(r, latest[r.item_id]) for r in rows]
    if current_only:
        entries = [e for e in entries if e.current]
    audit.audit_read(engine, principal, "panel_record", [child_id])
    return entries


def record_entry(
    engine: Engine, entry_id: int, principal: Principal, *, export: str | None = None
) -> RecordEntry:
    """One entry of a child's record: 404 unknown, 403 for a child the principal may not
    see. Audited as a read, or as an export when ``export`` names its format."""
    with read_connection(engine) as conn:
        row = conn.execute(_select().where(RE.c.id == entry_id)).one_or_none()
        if row is None:
            raise NotFound(f"There is no record entry {entry_id}.")
        _check_child(conn, principal, row.child_id)
        latest = _latest_versions(conn, {row.item_id})
    audit.audit_read(
        engine,
        principal,
        "panel_record_export" if export else "panel_record_entry",
        [row.child_id],
        details={"entry_id": entry_id, "format": export or "json"},
    )
    return entry_of(row, latest[row.item_id])
