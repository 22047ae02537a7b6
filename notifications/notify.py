"""Event notices: tell people that something happened (not that a deadline comes due).

``notify`` records one in-app notice per recipient in the caller's transaction, and, when
email is on, queues its email in the outbox in the same transaction, exactly as the sweep
does for reminders: the event and its notices commit together or not at all.

Uniqueness: an event notice has no deadline, so the sweep's key (deadline, step, due_on,
recipient) cannot hold it. It carries an ``event_key`` instead, chosen by the caller to
name the event (e.g. ``panel:torbay:minutes_approved:12:child:40``), and the partial unique
index ``uq_notice_event_recipient`` on (event_key, recipient_id) makes it once per event
and recipient: a retried request inserts nothing (``ON CONFLICT DO NOTHING``) and queues no
second email. Whether "the same event" is once ever or once a day is the caller's choice,
made by what it puts in the key.

The subject comes from a template file and is stored on the notice (a notice says what
happened when it happened). Callers pass references and dates only, never a child's name
or date of birth: the subject goes by email.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import structlog
from sqlalchemy import Connection, and_, select

from notifications.dispatcher import NOTIFICATION
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.models import pending_email
from notifications.render import render
from services.clock import now_utc
from services.db import insert_or_skip
from services.models import USERS as U

log = structlog.get_logger("permanence.notify")

_SUBJECT_CHARS = 300  # notice.subject
_KEY_CHARS = 200  # notice.event_key


@dataclass
class Notified:
    """What one ``notify`` call recorded: the new notices' recipients, and how many were
    already notified of this event (a retry) and so were left alone."""

    recipients: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    emails: int = 0


def notify(
    conn: Connection,
    *,
    event_key: str,
    event: str,
    recipients: Iterable[int],
    template: str,
    values: Mapping[str, Any],
    link: str,
    on: date,
    email: bool = False,
    email_payload: Mapping[str, Any] | None = None,
) -> Notified:
    """Record an in-app notice of ``event`` for each active recipient, once per
    (``event_key``, recipient), in the caller's transaction; queue an email for those with
    an address when ``email`` is on.

    ``template`` names a one-line file in ``notifications/templates`` filled from
    ``values`` (references and dates only); ``link`` is a path under the base URL (e.g.
    ``/panel/meetings/12``); ``on`` is the London date of the event; ``email_payload``
    goes on each email's outbox row (a calendar invitation: ``{"calendar": ...}``, see
    ``notifications.calendar``).
    """
    if len(event_key) > _KEY_CHARS:
        raise ValueError(f"event key longer than {_KEY_CHARS} characters: {event_key[:40]}...")
    wanted = sorted(set(recipients))
    result = Notified()
    if not wanted:
        return result
    # Only active users: a deactivated account has nobody to read it.
    people = {
        r.id: r.email
        for r in conn.execute(
            select(U.c.id, U.c.email).where(and_(U.c.id.in_(wanted), U.c.active.is_(True)))
        )
    }
    subject = render(template, dict(values)).strip()[:_SUBJECT_CHARS]
    stamp = now_utc()
    rows = [
        {
            "deadline_id": None,
            "journey_id": None,
            "child_id": None,
            "recipient_id": person,
            "category": NOTIFICATION,
            "step": event,
            "deadline_kind": None,
            "due_on": None,
            "fire_on": on,
            "swept_on": on,
            "created_at": stamp,
            "event_key": event_key,
            "subject": subject,
            "link": link,
        }
        for person in wanted
        if person in people
    ]
    if not rows:
        return result
    recorded = conn.execute(insert_or_skip(conn, N).returning(N.c.id, N.c.recipient_id), rows).all()
    result.recipients = sorted(r.recipient_id for r in recorded)
    result.already = sorted(set(people) - set(result.recipients))
    if email:
        mails = [
            pending_email(r.id, r.recipient_id, stamp, dict(email_payload or {}))
            for r in recorded
            if people.get(r.recipient_id)
        ]
        if mails:
            conn.execute(insert_or_skip(conn, O), mails)
        result.emails = len(mails)
    log.info(
        "notify",
        kind=event,
        recorded=len(result.recipients),
        already=len(result.already),
        emails=result.emails,
    )
    return result
