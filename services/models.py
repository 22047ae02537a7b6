"""The tables. Alembic migrations in ``migrations/`` create them; this module describes them.

Table instances do not validate on construction, so input is validated by the API schemas
(:mod:`services.schemas`) before it reaches a table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Column, Index, Integer, Table, UniqueConstraint, false, text
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


class Team(SQLModel, table=True):
    """A team of the authority: the managed list every user's and child's team comes from.

    ``name`` is what records hold (``north``); ``title`` is how people read it (``North``).
    """

    __tablename__: ClassVar[Any] = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    title: str = Field(max_length=200)
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
    # The journey's own chain (services.history_chain): this event's hash covers its content
    # and ``prev_hash``, the hash of the journey's event before it. Empty on events older
    # than revision 0024 and on bulk clones.
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


# The predicate of the partial index on deadlines met late (migration 0019); the query
# (services.deadlines.met_late) writes its constants inline so the planner can match it.
MET_LATE_PREDICATE = "status = 'met' AND met_on > due_on AND kind <> 'panel_escalation'"


class Deadline(SQLModel, table=True):
    """A dated obligation of a journey, computed from the dates recorded in its events."""

    __tablename__: ClassVar[Any] = "deadline"
    __table_args__ = (
        Index("ix_deadline_journey_status", "journey_id", "status"),
        Index("ix_deadline_status_due", "status", "due_on"),
        # Migration 0019 (national scale): open deadlines by child, and the met-late half
        # of the breach rule (services.deadlines.met_late).
        Index("ix_deadline_child_status_due", "child_id", "status", "due_on"),
        Index(
            "ix_deadline_met_late",
            "due_on",
            postgresql_where=text(MET_LATE_PREDICATE),
            sqlite_where=text(MET_LATE_PREDICATE),
        ),
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
    # Fell due before the child's record entered the service (migration 0028): an imported
    # journey's back-dated deadline, which nobody here could have met. While it is open it
    # is not judged (services.deadlines.judged) until someone records what happened.
    before_service: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=false()),
    )
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
    # The tamper-evident chain (services.audit): this row's hash covers its content and
    # ``prev_hash``, the hash of the row before it. Empty on rows older than revision 0008.
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted per account and per client address (services.sign_in).

    In the database, not in memory, so every instance of the service sees the same counts.
    ``subject`` is the SHA-256 of the typed username for an account (known or not, so an
    unknown name behaves like a known one and nothing typed is stored), or the address.
    """

    __tablename__: ClassVar[Any] = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)
    subject: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    locked_at: datetime | None = None


def core_table(model: type[SQLModel]) -> Table:
    """The Core table behind a table model: the hot paths and set-based sweeps query with
    SQLAlchemy Core, and SQLModel does not declare ``__table__`` for type checkers."""
    table = getattr(model, "__table__")  # noqa: B009 (the attribute is untyped)
    assert isinstance(table, Table)
    return table


USERS = core_table(User)
TEAMS = core_table(Team)
CHILDREN = core_table(Child)
JOURNEYS = core_table(Journey)
JOURNEY_EVENTS = core_table(JourneyEvent)
DEADLINES = core_table(Deadline)
AUDIT_LOG = core_table(AuditLog)
SIGN_IN_THROTTLE = core_table(SignInThrottle)
