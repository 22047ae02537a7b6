"""The panel's tables (migration 0003 creates them). Staff names may appear; children's never:
a child is always referred to by id (and reference where shown)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models import core_table


class PanelMeeting(SQLModel, table=True):
    """One meeting of a panel. ``scheduled_for`` is the planner's date for it (its identity:
    regenerating the planner never duplicates a moved meeting); ``meeting_date`` is when it
    is actually held."""

    __tablename__: ClassVar[Any] = "panel_meeting"
    __table_args__ = (
        UniqueConstraint("panel", "scheduled_for", name="uq_panel_meeting_slot"),
        Index("ix_panel_meeting_panel_date", "panel", "meeting_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    panel: str = Field(max_length=50)
    scheduled_for: date
    meeting_date: date
    start_time: str = Field(max_length=5)
    length_minutes: int
    status: str = Field(default="scheduled", max_length=12)  # scheduled | held | cancelled
    reason: str | None = Field(default=None, max_length=500)
    minutes_status: str = Field(default="none", max_length=10)  # none | draft | approved
    minutes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    minutes_approved_at: datetime | None = None
    minutes_approved_by: int | None = Field(default=None, foreign_key="app_user.id")
    # The agenda's publishing step (migration 0015): once published, every change to the
    # agenda or the meeting re-sends the invitations whose slot it changed.
    agenda_published_at: datetime | None = None
    agenda_published_by: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_at: datetime
    updated_at: datetime


class PanelAttendance(SQLModel, table=True):
    """A seat at one meeting: present, apologies (with a named representative) or absent."""

    __tablename__: ClassVar[Any] = "panel_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_key", name="uq_panel_attendance"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    member_key: str = Field(max_length=50)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    person: str = Field(default="", max_length=200)
    status: str = Field(max_length=15)  # present | apologies | absent
    representative: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)  # sent with apologies (0015)
    recorded_at: datetime


class PanelReferral(SQLModel, table=True):
    """A journey referred to a meeting for a decision, with its pack."""

    __tablename__: ClassVar[Any] = "panel_referral"
    __table_args__ = (Index("ix_panel_referral_meeting_status", "meeting_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    panel: str = Field(max_length=50)
    meeting_id: int = Field(foreign_key="panel_meeting.id")
    journey_id: int = Field(foreign_key="journey.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    decision_type: str = Field(max_length=50)
    # awaiting_pack | accepted | not_listable | listed | decided | deferred | withdrawn
    status: str = Field(default="awaiting_pack", max_length=15)
    referred_by: int = Field(foreign_key="app_user.id")
    referred_on: date
    pack_due_on: date
    pack_submitted_on: date | None = None
    checklist: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    funding: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = Field(default=None, max_length=500)
    history: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime


class PanelItem(SQLModel, table=True):
    """One child on one meeting's agenda (or rolled from it, with the reason)."""

    __tablename__: ClassVar[Any] = "panel_item"
    __table_args__ = (
        Index("ix_panel_item_meeting_part", "meeting_id", "part", "position"),
        # A meeting's items rolled forward and the rest, each in agenda order: an agenda
        # built from every cohort of a national-size authority rolls 150,000 items, and
        # the meeting page lists its items and the first 100 rolled, and counts the rest
        # (migration 0035; panels.service.common.item_rows and rolled_count).
        Index(
            "ix_panel_item_meeting_rolled",
            "meeting_id",
            "part",
            "position",
            sqlite_where=text("status = 'rolled'"),
            postgresql_where=text("status = 'rolled'"),
        ),
        Index(
            "ix_panel_item_meeting_not_rolled",
            "meeting_id",
            "part",
            "position",
            sqlite_where=text("status <> 'rolled'"),
            postgresql_where=text("status <> 'rolled'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id")
    part: str = Field(max_length=50)
    position: int
    source: str = Field(max_length=30)  # referral | a cohort key
    cohorts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    child_id: int = Field(foreign_key="child.id", index=True)
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    referral_id: int | None = Field(default=None, foreign_key="panel_referral.id")
    minutes: int
    pinned: bool = False
    status: str = Field(default="listed", max_length=10)  # listed | rolled | decided
    reason: str | None = Field(default=None, max_length=500)
    # For a rolled item: the meeting it was first rolled from, so it goes first next time.
    rolled_since: date | None = None
    review_weeks: int | None = None
    created_at: datetime
    updated_at: datetime


class PanelDecision(SQLModel, table=True):
    """A decision or recommendation on an item (Leicestershire's Panel Decisions template)."""

    __tablename__: ClassVar[Any] = "panel_decision"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="panel_item.id", index=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    child_id: int = Field(foreign_key="child.id")
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    outcome: str = Field(max_length=50)
    event: str | None = Field(default=None, max_length=50)
    journey_version: int | None = None
    meets_needs: str | None = Field(default=None, max_length=10)  # will | will_not
    resources_child: str = Field(default="", max_length=2000)
    resources_carers: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)
    funding: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_by: int = Field(foreign_key="app_user.id")
    recorded_at: datetime
    # Quorum (migration 0020): a decision recorded at a meeting below the panel's quorum is
    # not quorate; its journey event (``event``, with ``event_data``) waits for the chair to
    # ratify it at a later quorate meeting (ratification pending | ratified | not_ratified).
    quorate: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    event_data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    ratification: str | None = Field(default=None, max_length=12)
    ratified_meeting_id: int | None = Field(default=None, foreign_key="panel_meeting.id")
    ratified_by: int | None = Field(default=None, foreign_key="app_user.id")
    ratified_at: datetime | None = None
    ratification_reason: str | None = Field(default=None, max_length=500)


class PanelAction(SQLModel, table=True):
    """An action agreed at panel: an owner and a due date (a ``panel_action`` deadline)."""

    __tablename__: ClassVar[Any] = "panel_action"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    item_id: int = Field(foreign_key="panel_item.id")
    child_id: int = Field(foreign_key="child.id", index=True)
    journey_id: int = Field(foreign_key="journey.id")
    description: str = Field(max_length=1000)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    owner_role: str = Field(max_length=50)
    due_on: date
    status: str = Field(default="open", max_length=10)  # open | done | cancelled
    done_on: date | None = None
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime
    updated_at: datetime


class PanelCase(SQLModel, table=True):
    """A child the panel follows: when the chair wants the case back, and the last word."""

    __tablename__: ClassVar[Any] = "panel_case"
    __table_args__ = (UniqueConstraint("panel", "child_id", name="uq_panel_case"),)

    id: int | None = Field(default=None, primary_key=True)
    panel: str = Field(max_length=50)
    child_id: int = Field(foreign_key="child.id")
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    review_weeks: int | None = None
    next_review_on: date | None = None
    last_meeting_id: int | None = Field(default=None, foreign_key="panel_meeting.id")
    last_outcome: str | None = Field(default=None, max_length=50)
    # Who the panel invites for the child beside the social worker and team managers (0015).
    iro_id: int | None = Field(default=None, foreign_key="app_user.id")
    supervising_social_worker_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime


class PanelInvitation(SQLModel, table=True):
    """A calendar invitation sent for a published agenda (migration 0015): one per person
    and agenda item (``kind`` item: the child's social worker, team manager, IRO,
    supervising social worker) or per member and meeting (``kind`` member).

    ``item_key`` names the item across rebuilds (a rebuild replaces the item rows): the
    referral, or the child and part. ``uid`` stays the same for the invitation's life and
    ``sequence`` rises with each update or cancellation its .ics carries; the slot columns
    are what it last announced, so a republish tells only those whose slot changed.
    """

    __tablename__: ClassVar[Any] = "panel_invitation"
    __table_args__ = (
        UniqueConstraint("meeting_id", "item_key", "recipient_id", name="uq_panel_invitation"),
        Index("ix_panel_invitation_recipient", "recipient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    panel: str = Field(max_length=50)
    meeting_id: int = Field(foreign_key="panel_meeting.id")
    kind: str = Field(max_length=10)  # item | member
    item_key: str = Field(max_length=80)
    member_key: str | None = Field(default=None, max_length=50)
    child_id: int | None = Field(default=None, foreign_key="child.id")
    recipient_id: int = Field(foreign_key="app_user.id")
    role: str = Field(max_length=40)  # why invited: social_worker, iro, ..., member
    uid: str = Field(max_length=200, unique=True)
    sequence: int
    part: str | None = Field(default=None, max_length=50)
    slot_date: date
    slot_time: str = Field(max_length=5)
    slot_minutes: int
    status: str = Field(max_length=10)  # active | cancelled
    created_at: datetime
    updated_at: datetime


class PanelSeat(SQLModel, table=True):
    """Who holds a seat of the panel (migration 0015): the member told of each meeting."""

    __tablename__: ClassVar[Any] = "panel_seat"
    __table_args__ = (UniqueConstraint("panel", "member_key", name="uq_panel_seat"),)

    id: int | None = Field(default=None, primary_key=True)
    panel: str = Field(max_length=50)
    member_key: str = Field(max_length=50)
    user_id: int = Field(foreign_key="app_user.id")
    updated_at: datetime


MEETINGS = core_table(PanelMeeting)
ATTENDANCE = core_table(PanelAttendance)
REFERRALS = core_table(PanelReferral)
ITEMS = core_table(PanelItem)
DECISIONS = core_table(PanelDecision)
ACTIONS = core_table(PanelAction)
CASES = core_table(PanelCase)
INVITATIONS = core_table(PanelInvitation)
SEATS = core_table(PanelSeat)


class PanelRecordEntry(SQLModel, table=True):
    """One child's entry on their record, written when a meeting's minutes are approved
    (migration 0016): the decisions and their reasons, the actions with owners and due
    dates, and the next review date the chair set.

    A correction re-approves the minutes as a new version, which writes a new row per
    child (``minutes_version`` 2, 3...): an entry is never changed once written, so what was
    sent to the case system stays on record; the latest version of an item's entry is the
    one in force. ``uq_record_entry_version`` makes a second write of one version
    impossible. The child is named by id and reference only.
    """

    __tablename__: ClassVar[Any] = "panel_record_entry"
    __table_args__ = (
        UniqueConstraint("item_id", "minutes_version", name="uq_record_entry_version"),
        Index("ix_record_entry_child", "child_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    panel: str = Field(max_length=50)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    item_id: int = Field(foreign_key="panel_item.id")
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    minutes_version: int
    held_on: date
    part: str = Field(max_length=50)
    # The entry as the record keeps it (``panels.results.RecordEntry``'s decisions, actions
    # and the words they were written in), fixed at approval.
    entry: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    next_review_on: date | None = None
    approved_on: date
    approved_by: int = Field(foreign_key="app_user.id")
    created_at: datetime


RECORD_ENTRIES = core_table(PanelRecordEntry)
