"""Escalations people raise: the panel escalates a child's drift to the service director.

A missed deadline climbs the ladder by the sweep; a raised escalation is the panel saying the
case drifts, so it reaches the top rungs at once, through the same machinery:

* it opens a deadline of kind ``panel_escalation`` for the child, due the day it is raised
  and owned by the service director (no journey: closing a journey must not answer it);
* it records an escalation notice for every active service manager (rung
  ``escalate_service_manager``) and service director (``escalate_service_director``) on that
  deadline, and queues their emails in the outbox, in the caller's transaction: the inbox,
  the director's list, the breach register, the digest and the acknowledgement read them as
  any other escalation, and acknowledging one meets the deadline;
* the reason, who raised it and what about are kept in ``raised_escalation``, whose unique
  ``source_key`` makes raising the same thing twice add nothing.

The reason is free text and may name a child, so it stays in the service (the inbox, the
director's pages, the API); emails carry the reference and a link, as every email does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import structlog
from sqlalchemy import Connection, and_, insert, select, update

from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.models import RAISED as R
from notifications.models import pending_email
from services import audit
from services.clock import now_utc
from services.db import insert_id, insert_or_skip
from services.models import DEADLINES as D
from services.models import USERS as U
from states.deadline_kinds import PANEL_ESCALATION
from states.roles import SERVICE_DIRECTOR, SERVICE_MANAGER

log = structlog.get_logger("permanence.raised")

REASON_CHARS = 2000  # raised_escalation.reason
# The rungs a raised escalation reaches at once, lowest first (policy.LADDER's top two).
RUNGS: tuple[str, ...] = (SERVICE_MANAGER, SERVICE_DIRECTOR)


@dataclass(frozen=True)
class Raised:
    """A raised escalation: its record, its deadline, and (when new) who was told."""

    id: int
    deadline_id: int
    child_id: int
    journey_id: int | None
    meeting_id: int | None
    item_id: int | None
    reason: str
    raised_on: date
    created: bool  # False: it had been raised already, and nothing was written
    open: bool  # not yet acknowledged
    notified: list[int] = field(default_factory=list)
    emails: int = 0


def _answer(
    conn: Connection, row: Any, *, created: bool, notified: list[int], emails: int
) -> Raised:
    status = conn.execute(select(D.c.status).where(D.c.id == row.deadline_id)).scalar_one()
    return Raised(
        id=row.id,
        deadline_id=row.deadline_id,
        child_id=row.child_id,
        journey_id=row.journey_id,
        meeting_id=row.meeting_id,
        item_id=row.item_id,
        reason=row.reason,
        raised_on=row.raised_on,
        created=created,
        open=status == "open",
        notified=notified,
        emails=emails,
    )


def open_for_child(conn: Connection, child_id: int) -> Raised | None:
    """The child's raised escalation still waiting for an answer, if any (the oldest)."""
    row = conn.execute(
        select(R)
        .join(D, D.c.id == R.c.deadline_id)
        .where(and_(R.c.child_id == child_id, D.c.status == "open"))
        .order_by(R.c.id)
        .limit(1)
    ).one_or_none()
    return None if row is None else _answer(conn, row, created=False, notified=[], emails=0)


def raise_escalation(
    conn: Connection,
    *,
    source_key: str,
    child_id: int,
    journey_id: int | None,
    panel: str,
    meeting_id: int | None,
    item_id: int | None,
    decision_id: int | None,
    reason: str,
    raised_by: int,
    on: date,
    email: bool,
) -> Raised:
    """Raise an escalation of a child's drift to the service managers and the service
    director, in the caller's transaction; once per ``source_key`` (a second call answers
    the first escalation with ``created=False`` and writes nothing)."""
    reason = reason.strip()[:REASON_CHARS]
    if not reason:
        raise ValueError("an escalation needs a reason")
    stamp = now_utc()
    # The record first, keyed: a concurrent second raise waits on the key and skips here,
    # before it has opened a deadline of its own.
    taken = conn.execute(
        insert_or_skip(conn, R)
        .values(
            source_key=source_key,
            deadline_id=None,
            child_id=child_id,
            journey_id=journey_id,
            panel=panel,
            meeting_id=meeting_id,
            item_id=item_id,
            decision_id=decision_id,
            reason=reason,
            raised_by_id=raised_by,
            raised_on=on,
            created_at=stamp,
        )
        .returning(R.c.id)
    ).scalar_one_or_none()
    if taken is None:
        row = conn.execute(select(R).where(R.c.source_key == source_key)).one()
        return _answer(conn, row, created=False, notified=[], emails=0)
    deadline_id = insert_id(
        conn.execute(
            insert(D).values(
                journey_id=None,
                child_id=child_id,
                meeting_id=meeting_id,
                kind=PANEL_ESCALATION.key,
                ref=str(taken),
                due_on=on,
                owner_id=None,
                owner_role=PANEL_ESCALATION.owner_role,
                status="open",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    )
    conn.execute(update(R).where(R.c.id == taken).values(deadline_id=deadline_id))
    notified, emails = _notify(
        conn, deadline_id, child_id, journey_id, raised_by, on, stamp, email=email
    )
    audit.record(
        conn,
        actor_id=raised_by,
        action="escalation_raised",
        entity="raised_escalation",
        entity_id=taken,
        details={
            "deadline_id": deadline_id,
            "child_id": child_id,
            "journey_id": journey_id,
            "panel": panel,
            "meeting_id": meeting_id,
            "item_id": item_id,
            "decision_id": decision_id,
            "recipients": notified,
            # The reason stays on the record: free text may name a child, and the audit
            # trail never does.
            "reason_chars": len(reason),
        },
    )
    log.info("escalation_raised", deadline_id=deadline_id, recorded=len(notified), emails=emails)
    row = conn.execute(select(R).where(R.c.id == taken)).one()
    return _answer(conn, row, created=True, notified=notified, emails=emails)


def _notify(
    conn: Connection,
    deadline_id: int,
    child_id: int,
    journey_id: int | None,
    raised_by: int,
    on: date,
    stamp: Any,
    *,
    email: bool,
) -> tuple[list[int], int]:
    """The escalation notices (one per rung and holder) and their emails; who and how many."""
    people = conn.execute(
        select(U.c.id, U.c.email, U.c.roles).where(U.c.active.is_(True)).order_by(U.c.id)
    ).all()
    rows = []
    addresses: dict[int, str | None] = {}
    for rung in RUNGS:
        for person in people:
            # Whoever raised it knows already; the director hears it whoever raised it.
            if rung not in (person.roles or ()) or (
                person.id == raised_by and rung != SERVICE_DIRECTOR
            ):
                continue
            addresses[person.id] = person.email
            rows.append(
                {
                    "deadline_id": deadline_id,
                    "journey_id": journey_id,
                    "child_id": child_id,
                    "recipient_id": person.id,
                    "category": "escalation",
                    "step": f"escalate_{rung}",
                    "deadline_kind": PANEL_ESCALATION.key,
                    "due_on": on,
                    "fire_on": on,
                    "swept_on": on,
                    "created_at": stamp,
                }
            )
    if not rows:
        log.warning("escalation_unaddressed", deadline_id=deadline_id)
        return [], 0
    recorded = conn.execute(insert(N).returning(N.c.id, N.c.recipient_id), rows).all()
    mails = [
        pending_email(r.id, r.recipient_id, stamp)
        for r in recorded
        if email and addresses.get(r.recipient_id)
    ]
    if mails:
        conn.execute(insert_or_skip(conn, O), mails)
    return sorted({r.recipient_id for r in recorded}), len(mails)
