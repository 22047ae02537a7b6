"""The notifications' tables: the notices sent (reminders, escalations, event notices) and
the outbox of deliveries (migrations 0002 and 0004 create them), and the escalations people
raise (0011)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, Insert, UniqueConstraint, insert, text
from sqlmodel import Field, SQLModel

from services.models import core_table


class Notice(SQLModel, table=True):
    """One reminder or escalation sent to one person about one deadline (issue 3), or one
    event notice (category ``notification``: ``notifications.notify``, no deadline).

    The unique key (deadline, step, due_on, recipient) is what makes a second send
    impossible. ``due_on`` is the deadline's due date the step was computed against: when a
    deadline moves, its steps are computed afresh against the new date (the old ones simply
    no longer come due), and a notice already sent for the old date stays as history. An
    event notice is once per (event_key, recipient) instead (partial unique index).
    """

    __tablename__: ClassVar[Any] = "notice"
    __table_args__ = (
        UniqueConstraint(
            "deadline_id", "step", "due_on", "recipient_id", name="uq_notice_once_per_recipient"
        ),
        Index("ix_notice_recipient_created", "recipient_id", "created_at"),
        Index("ix_notice_category_ack", "category", "acknowledged_at"),
        # The director's open escalations in the page's order (due date, deadline): a page
        # of groups is an index walk that stops after its 25, however many are open
        # (migration 0033; notifications.service.open_escalation_keys). With the step, the
        # level filter finds each group's highest rung from the index alone (migration 0035).
        Index(
            "ix_notice_open_escalation",
            "due_on",
            "deadline_id",
            "step",
            sqlite_where=text("category = 'escalation' AND acknowledged_at IS NULL"),
            postgresql_where=text("category = 'escalation' AND acknowledged_at IS NULL"),
        ),
        Index(
            "uq_notice_event_recipient",
            "event_key",
            "recipient_id",
            unique=True,
            sqlite_where=text("event_key IS NOT NULL"),
            postgresql_where=text("event_key IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # None for a notice raised by an event (``notifications.notify``), not by a deadline.
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id")
    # Copies of the deadline's (no foreign keys since migration 0004: the deadline's own
    # keys already hold them, and re-checking cost the sweep); None for a meeting's deadline.
    journey_id: int | None = None
    child_id: int | None = None
    recipient_id: int = Field(foreign_key="app_user.id")
    category: str = Field(max_length=12)  # reminder | escalation | notification
    step: str = Field(max_length=40)  # the sweep's step, or the event's type
    deadline_kind: str | None = Field(default=None, max_length=50)
    due_on: date | None = None
    fire_on: date  # the London day it fell due (an event notice: the day it happened)
    swept_on: date
    created_at: datetime
    read_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    ack_comment: str | None = Field(default=None, max_length=2000)
    # An event notice: once per (event_key, recipient), by the partial unique index below.
    event_key: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=300)  # references only, no names
    link: str | None = Field(default=None, max_length=300)  # a path under the base URL


class Outbox(SQLModel, table=True):
    """A message waiting for (or done with) delivery on a channel: email or webhook.

    Written in the transaction that records its notice, so a notice never exists without
    its deliveries queued; ``dedupe_key`` is unique so a digest or webhook is queued once.
    """

    __tablename__: ClassVar[Any] = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int | None = Field(default=None, foreign_key="notice.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="app_user.id")
    channel: str = Field(max_length=20)  # email | webhook
    dedupe_key: str = Field(max_length=200, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime
    sent_at: datetime | None = None


class RaisedEscalation(SQLModel, table=True):
    """An escalation a person raised (the panel's drift escalation), not one a missed
    deadline's ladder reached: why, by whom and about what (migration 0011).

    It opens a deadline of kind ``panel_escalation`` (``deadline_id``) whose escalation
    notices are those of the ladder, so the director's list, the breach register and the
    acknowledgement treat it as any other. ``source_key`` names what raised it (a panel
    item, or a child on a day) and is unique, so raising it again adds nothing.
    """

    __tablename__: ClassVar[Any] = "raised_escalation"

    id: int | None = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=200, unique=True)
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id", unique=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    journey_id: int | None = None
    # The panel's own records (no keys: the panel floor's tables are above this one).
    panel: str = Field(max_length=50)
    meeting_id: int | None = None
    item_id: int | None = None
    decision_id: int | None = None
    reason: str = Field(max_length=2000)
    raised_by_id: int = Field(foreign_key="app_user.id")
    raised_on: date
    created_at: datetime


NOTICES = core_table(Notice)
OUTBOX = core_table(Outbox)
RAISED = core_table(RaisedEscalation)


# -- outbox keys: one message per key, so a retried queuing writes nothing twice --------------


def email_key(notice_id: int) -> str:
    """The outbox key of a notice's email (one per notice)."""
    return f"email:{notice_id}"


def pending_email(
    notice_id: int, recipient_id: int, at: datetime, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The outbox row that sends a notice's email: queued ``at``, not tried yet; ``payload``
    carries what the email adds to the notice (an invitation's ``calendar``)."""
    return {
        "notice_id": notice_id,
        "recipient_id": recipient_id,
        "channel": "email",
        "dedupe_key": email_key(notice_id),
        "payload": dict(payload or {}),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


# The outbox channel of the child's record entries sent to the case management system
# (PERMANENCE_RECORD_WEBHOOK_URL): not the notices' "webhook", which posts to its own URL.
RECORD_WEBHOOK = "record_webhook"


def record_key(entry_id: int) -> str:
    """The outbox key of a child's record entry's message (one per entry version: each
    version of an entry is a row of its own)."""
    return f"record:{entry_id}"


def pending_record_webhook(entry_id: int, payload: dict[str, Any], at: datetime) -> Insert:
    """The outbox insert that sends a record entry to the case management system, with its
    message fixed now (no recipient: the case system is not a user)."""
    return insert(OUTBOX).values(
        notice_id=None,
        recipient_id=None,
        channel=RECORD_WEBHOOK,
        dedupe_key=record_key(entry_id),
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )


def webhook_key(deadline_id: int, step: str, due_on: date | str) -> str:
    """The outbox key of a reminder step's webhook post: one per deadline, step and due date,
    whoever the step's recipients are (``due_on`` as a date or its ISO text)."""
    return f"webhook:{deadline_id}:{step}:{due_on}"


def digest_key(user_id: int, on: date) -> str:
    """The outbox key of a person's morning digest (one per person and day)."""
    return f"digest:{user_id}:{on.isoformat()}"


# The same keys in PostgreSQL, for the sweep that queues a whole day's outbox in one
# statement from the notices it has just recorded (columns id, deadline_id, step, due_on);
# tests/notifications check them against the functions above.
EMAIL_KEY_SQL = "'email:' || id"
WEBHOOK_KEY_SQL = "'webhook:' || deadline_id || ':' || step || ':' || to_char(due_on, 'YYYY-MM-DD')"
