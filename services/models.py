"""The tables. Alembic migrations in ``migrations/`` create them; this module describes them.

Table instances do not validate on construction, so input is validated by the API schemas
(:mod:`services.schemas`) before it reaches a table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, Integer, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    """Someone who signs in. ``user`` is reserved in PostgreSQL, hence the table name."""

    __tablename__: ClassVar[Any] = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=100)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    team: str | None = Field(default=None, index=True, max_length=100)
    active: bool = True
    created_at: datetime


class Child(SQLModel, table=True):
    """A child in the local authority's care. Names and date of birth stay out of logs."""

    __tablename__: ClassVar[Any] = "child"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, index=True, max_length=50)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date
    looked_after_since: date | None = None
    legal_status: str | None = Field(default=None, max_length=50)
    team: str = Field(index=True, max_length=100)
    allocated_social_worker_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_at: datetime
    updated_at: datetime


class Journey(SQLModel, table=True):
    """One permanence journey of a child: a state machine instance."""

    __tablename__: ClassVar[Any] = "journey"
    __table_args__ = (Index("ix_journey_child_type_status", "child_id", "type", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    type: str = Field(max_length=50)
    state: str = Field(max_length=50)
    status: str = Field(default="active", max_length=10)
    version: int = Field(sa_column=Column(Integer, nullable=False))
    definition_version: int
    started_on: date
    closed_on: date | None = None
    outcome: str | None = Field(default=None, max_length=50)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime


class JourneyEvent(SQLModel, table=True):
    """Append-only history of a journey: who did what, when it happened, when it was entered."""

    __tablename__: ClassVar[Any] = "journey_event"
    __table_args__ = (UniqueConstraint("journey_id", "journey_version"),)

    id: int | None = Field(default=None, primary_key=True)
    journey_id: int = Field(foreign_key="journey.id", index=True)
    journey_version: int
    event: str = Field(max_length=50)
    from_state: str | None = Field(default=None, max_length=50)
    to_state: str = Field(max_length=50)
    occurred_on: date
    recorded_at: datetime
    actor_id: int = Field(foreign_key="app_user.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Deadline(SQLModel, table=True):
    """A dated obligation of a journey, computed from the dates recorded in its events."""

    __tablename__: ClassVar[Any] = "deadline"
    __table_args__ = (
        Index("ix_deadline_journey_status", "journey_id", "status"),
        Index("ix_deadline_status_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A panel meeting's own deadline (minutes due) belongs to no journey and no child; every
    # other deadline has both (migration 0003).
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True)
    # The panel meeting a deadline hangs off (pack due before it, minutes due after it), so
    # moving the meeting finds and moves them.
    meeting_id: int | None = Field(default=None, foreign_key="panel_meeting.id", index=True)
    kind: str = Field(max_length=50)
    ref: str = Field(default="", max_length=50)
    due_on: date
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    owner_role: str = Field(max_length=50)
    status: str = Field(default="open", max_length=10)
    met_on: date | None = None
    created_at: datetime
    updated_at: datetime


class AuditLog(SQLModel, table=True):
    """Append-only record of every write outside journey events (and of sign-ins)."""

    __tablename__: ClassVar[Any] = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=50)
    entity: str = Field(max_length=50)
    entity_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


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


class WebSession(SQLModel, table=True):
    """A signed-in browser (issue 5). The cookie holds a random token; only its SHA-256 is
    stored, so a copy of the database cannot be replayed as a session. Signing out deletes
    the row, which ends the session at once (a signed, stateless cookie could not be)."""

    __tablename__: ClassVar[Any] = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    # The synchronizer token every form of this session must echo back.
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def core_table(model: type[SQLModel]) -> Table:
    """The Core table behind a table model: the hot paths and set-based sweeps query with
    SQLAlchemy Core, and SQLModel does not declare ``__table__`` for type checkers."""
    table = getattr(model, "__table__")  # noqa: B009 (the attribute is untyped)
    assert isinstance(table, Table)
    return table


USERS = core_table(User)
CHILDREN = core_table(Child)
JOURNEYS = core_table(Journey)
JOURNEY_EVENTS = core_table(JourneyEvent)
DEADLINES = core_table(Deadline)
AUDIT_LOG = core_table(AuditLog)
NOTICES = core_table(Notice)
OUTBOX = core_table(Outbox)
WEB_SESSIONS = core_table(WebSession)
