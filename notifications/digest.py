"""The morning digest: one email per person listing what needs them today.

A digest is queued in the outbox under the key ``digest:<user>:<date>``, unique, so however
many processes or restarts run the digest job, each person gets one digest a day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import structlog
from sqlalchemy import Engine, and_, select

from notifications.meetings import meeting_dates, row_names
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.models import digest_key
from notifications.render import journey_title, long_date, meeting_link
from services.clock import now_utc
from services.db import insert_or_skip, write_connection
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from states.deadline_kinds import PANEL_ESCALATION
from states.deadline_kinds import label as deadline_label
from workflow.calendar import add_working_days, working_days_between

log = structlog.get_logger("permanence.digest")


def _status(due_on: date, on: date) -> str:
    if due_on > on:
        days = working_days_between(on, due_on)
        return f"due in {days} working day{'s' if days != 1 else ''}"
    if due_on == on:
        return "due today"
    days = working_days_between(due_on, on)
    return f"overdue by {days} working day{'s' if days != 1 else ''}"


def queue_digests(engine: Engine, on: date, *, base_url: str, horizon: int = 5) -> int:
    """Queue today's digest for every active user with an email and something to look at."""
    until = add_working_days(on, horizon)
    base = base_url.rstrip("/")
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with write_connection(engine) as conn:
        people = {
            r.id
            for r in conn.execute(
                select(U.c.id).where(and_(U.c.active.is_(True), U.c.email.is_not(None)))
            )
        }
        # Outer joins throughout: a panel meeting's own deadline has no journey or child.
        owned = conn.execute(
            select(
                D.c.owner_id,
                D.c.journey_id,
                D.c.kind,
                D.c.ref,
                D.c.due_on,
                D.c.meeting_id,
                J.c.type,
                C.c.reference,
            )
            .select_from(
                D.outerjoin(J, J.c.id == D.c.journey_id).outerjoin(C, C.c.id == D.c.child_id)
            )
            .where(and_(D.c.status == "open", D.c.due_on <= until, D.c.owner_id.is_not(None)))
            .order_by(D.c.due_on, D.c.id)
        ).all()
        waiting = conn.execute(
            select(
                N.c.recipient_id,
                N.c.journey_id,
                N.c.deadline_kind.label("kind"),
                D.c.ref,
                N.c.due_on,
                D.c.meeting_id,
                J.c.type,
                C.c.reference,
            )
            .select_from(
                N.join(D, D.c.id == N.c.deadline_id)
                .outerjoin(J, J.c.id == N.c.journey_id)
                .outerjoin(C, C.c.id == N.c.child_id)
            )
            .where(
                and_(
                    N.c.category == "escalation",
                    N.c.acknowledged_at.is_(None),
                    D.c.status == "open",
                    D.c.due_on == N.c.due_on,
                    N.c.fire_on <= on,
                )
            )
            .order_by(N.c.due_on, N.c.id)
        ).all()
        held = meeting_dates(
            conn, (r.meeting_id for r in (*owned, *waiting) if r.reference is None)
        )
        # A panel pack is named by its meeting, as in every notice.
        owned_labels = row_names(conn, ((r.kind, r.ref, r.meeting_id) for r in owned))
        waiting_labels = row_names(conn, ((r.kind, r.ref, r.meeting_id) for r in waiting))
        for r, label in zip(owned, owned_labels, strict=True):
            if r.owner_id in people:
                item = _item(r, label, held.get(r.meeting_id), base, _status(r.due_on, on))
                items[r.owner_id].append(item)
        for r, label in zip(waiting, waiting_labels, strict=True):
            if r.recipient_id in people:
                status = f"escalated to you, {_status(r.due_on, on)}: acknowledge it"
                item = _item(r, label, held.get(r.meeting_id), base, status)
                items[r.recipient_id].append(item)
        stamp = now_utc()
        rows = [
            {
                "notice_id": None,
                "recipient_id": user_id,
                "channel": "email",
                "dedupe_key": digest_key(user_id, on),
                "payload": {"digest_on": on.isoformat(), "horizon": horizon, "items": found},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": stamp,
                "created_at": stamp,
            }
            for user_id, found in sorted(items.items())
        ]
        queued = 0
        if rows:
            queued = len(conn.execute(insert_or_skip(conn, O).returning(O.c.id), rows).all())
    log.info("digest", as_of=on.isoformat(), count=queued)
    return queued


def _item(r: Any, label: str, meeting_date: date | None, base: str, status: str) -> dict[str, Any]:
    # Reference, journey, deadline, date and link: what the digest template may show. A
    # deadline with no child is named by its panel meeting and links to the meeting.
    due_on = r.due_on
    if r.reference is None:
        held = long_date(meeting_date) if meeting_date else "(date not recorded)"
        return {
            "child_reference": None,
            "journey_title": None,
            "subject": f"Panel meeting {held}",
            "deadline_label": label,
            "due_on": due_on.isoformat(),
            "due_on_long": long_date(due_on),
            "status": status,
            "link": meeting_link(base, r.meeting_id),
        }
    # The panel's escalation of a child may name no journey; it is answered on the
    # director's page.
    title = journey_title(r.type) if r.type else deadline_label(r.kind)
    raised = r.kind == PANEL_ESCALATION.key
    link = f"{base}/director#open-escalations" if raised else f"{base}/journeys/{r.journey_id}"
    return {
        "child_reference": r.reference,
        "journey_title": title,
        "subject": f"{r.reference} | {title}",
        "deadline_label": label,
        "due_on": due_on.isoformat(),
        "due_on_long": long_date(due_on),
        "status": status,
        "link": link,
    }
