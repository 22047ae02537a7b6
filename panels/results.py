"""What the panel service answers: one frozen dataclass per shape, read by attribute.

Dates are ``date`` objects here. The JSON API answers a result as ``to_json`` makes it (the
one conversion: dataclasses to objects field by field in field order, dates as ISO
strings), so a field's name and order are the API body's; the same conversion stores the
minutes in their JSON column and writes a child's panel record.

What the service stores as JSON of its own (a referral's checklist answers, funding form
and history; a decision's funding check) stays a JSON value inside a result: it is
returned as it was stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

# -- meetings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting on the forward planner, with its pack and minutes due dates."""

    id: int
    panel: str
    scheduled_for: date  # where the schedule put it (a moved meeting keeps it)
    meeting_date: date
    start_time: str
    length_minutes: int
    status: str  # scheduled, held or cancelled
    reason: str | None  # why it was moved or cancelled
    pack_due_on: date
    minutes_due_on: date
    minutes_status: str  # none, draft or approved
    version: int
    agenda_published_at: datetime | None  # None: the agenda is not published (yet)


@dataclass(frozen=True, slots=True)
class MeetingCounts:
    """A meeting on the forward planner, counted: items on its agenda (not rolled) and
    referrals still waiting for it (awaiting a pack, or accepted)."""

    items: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Attendance:
    """What was recorded for one seat at a meeting."""

    member_key: str
    person: str
    status: str  # present, apologies or absent
    representative: str | None
    user_id: int | None
    note: str | None = None  # what the member sent with apologies


@dataclass(frozen=True, slots=True)
class Seat:
    """A seat of the panel at a meeting: who is expected for which parts, and what was
    recorded (``not_recorded``; ``not_invited`` for a seat needed only when required)."""

    key: str
    title: str
    role: str | None
    parts: list[str]
    expected: bool
    status: str
    representative: str | None


@dataclass(frozen=True, slots=True)
class MeetingDeadline:
    """A deadline hanging off a meeting (packs, actions, the minutes)."""

    id: int
    kind: str
    ref: str
    due_on: date
    status: str
    journey_id: int | None


# -- agenda -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """A child on a meeting's agenda: listed, decided or rolled to the next meeting."""

    id: int
    part: str
    position: int
    source: str  # "referral" or the tracked cohort
    cohorts: list[str]
    child_id: int
    child_reference: str
    journey_id: int | None
    journey_type: str | None
    journey_state: str | None
    referral_id: int | None
    minutes: int
    pinned: bool
    status: str  # listed, decided or rolled
    reason: str | None  # why it was rolled
    review_weeks: int | None


@dataclass(frozen=True, slots=True)
class AgendaPart:
    """A part of the meeting with its capacity and the items listed in it."""

    key: str
    title: str
    capacity: str  # in the Terms of Reference's words
    capacity_minutes: int
    used_minutes: int
    items: list[AgendaItem]


@dataclass(frozen=True, slots=True)
class NotListed:
    """A referral for this meeting that cannot be listed for decision, and why."""

    referral_id: int
    child_reference: str
    decision_type: str
    reason: str
    offered_meeting_id: int | None  # the meeting offered instead (None: pack awaited)


@dataclass(frozen=True, slots=True)
class Agenda:
    """A meeting's agenda: its parts, what rolled forward and what was not listed."""

    meeting_id: int
    meeting_date: date
    parts: list[AgendaPart]
    rolled: list[AgendaItem]
    not_listed: list[NotListed]
    # Rolled items not in ``rolled`` (a page's cap on a list that can run to thousands).
    rolled_more: int = 0

    def item(self, item_id: int) -> AgendaItem | None:
        """An item of the agenda (listed, decided or rolled) by id."""
        for i in self.all_items():
            if i.id == item_id:
                return i
        return None

    def all_items(self) -> list[AgendaItem]:
        """Every item: the parts' in order, then the rolled ones."""
        return [*(i for p in self.parts for i in p.items), *self.rolled]


@dataclass(frozen=True, slots=True)
class MeetingDetail(Meeting):
    """A meeting with its attendance, seats, agenda and deadlines."""

    attendance: list[Attendance]
    members: list[Seat]
    agenda: Agenda
    deadlines: list[MeetingDeadline]
    # Quorum (issue 14 item 4): by the attendance recorded, and earlier meetings' decisions
    # below quorum still to ratify.
    quorate: bool = True
    quorum: str = ""  # the panel's quorum in words ("" when it has none)
    quorum_missing: list[str] = field(default_factory=list)  # seats the quorum still needs
    to_ratify: list[ToRatify] = field(default_factory=list)


# -- referrals ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecklistQuestion:
    """An item of the pack's checklist, as the social worker reads it."""

    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Referral:
    """A journey referred to a meeting for a decision, with its pack and why it is (not)
    listable."""

    id: int
    meeting_id: int
    meeting_date: date
    journey_id: int
    child_id: int
    decision_type: str
    status: str  # awaiting_pack, accepted, listed, decided, deferred or withdrawn
    listable: bool
    referred_on: date
    pack_due_on: date
    pack_submitted_on: date | None
    checklist: dict[str, str]  # item key: answer
    checklist_items: list[ChecklistQuestion]
    documents: list[str]
    documents_expected: list[str]
    funding: dict[str, Any]  # the Additional Funding Request as stored
    reason: str | None  # why it was offered another meeting, or withdrawn
    history: list[dict[str, Any]]  # what happened to it, as stored: on, meeting_id, note...


@dataclass(frozen=True, slots=True)
class WaitingReferral:
    """A referral waiting for a meeting (its pack awaited, or accepted and not yet listed),
    as the meeting page lists it and the planner counts it."""

    id: int
    child_id: int
    child_reference: str
    decision_type: str
    status: str  # awaiting_pack or accepted
    pack_due_on: date
    pack_submitted_on: date | None


@dataclass(frozen=True, slots=True)
class ReferableJourney:
    """An active journey some decision type of the panel takes in its current state."""

    id: int
    reference: str
    type: str
    state: str


# -- decisions and actions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    """An action agreed at a meeting; its deadline is its owner's."""

    id: int
    description: str
    owner_id: int | None
    owner_role: str
    due_on: date
    status: str  # open or done
    done_on: date | None
    child_id: int
    journey_id: int
    meeting_id: int


@dataclass(frozen=True, slots=True)
class ListedAction(Action):
    """An action as the list of actions shows it, with the child's reference and team."""

    child_reference: str
    team: str


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision or recommendation recorded on an agenda item, with the item's actions."""

    id: int
    item_id: int
    meeting_id: int
    child_id: int
    journey_id: int | None
    outcome: str
    event: str | None  # the journey event it fired
    journey_version: int | None  # the journey's version after it
    meets_needs: str | None
    resources_child: str
    resources_carers: str
    notes: str
    funding: dict[str, Any]  # the funding check under the scheme of delegation, as stored
    actions: list[Action]
    # Quorum (issue 14 item 4): recorded below quorum, its event waits for ratifying.
    quorate: bool = True
    ratification: str | None = None  # pending | ratified | not_ratified
    ratified_meeting_id: int | None = None
    ratification_reason: str | None = None
    quorum_status: str = ""  # the quorum in words ("" when quorate)


@dataclass(frozen=True, slots=True)
class ToRatify:
    """A not-quorate decision of an earlier meeting, for the chair to ratify (or not)."""

    decision_id: int
    meeting_id: int
    held_on: date
    child_id: int
    child_reference: str
    journey_id: int | None
    outcome: str
    outcome_label: str
    event: str | None  # the journey event ratifying fires
    notes: str


@dataclass(frozen=True, slots=True)
class DriftEscalation:
    """The panel's escalation of a child's drift to the service director (a decision
    ``escalate``, or the chair's "escalate drift"): open until it is acknowledged."""

    id: int
    deadline_id: int  # the ``panel_escalation`` deadline its escalation notices hang off
    child_id: int
    journey_id: int | None
    meeting_id: int | None
    item_id: int | None
    reason: str
    raised_on: date
    created: bool  # False: it had been escalated already, and nothing new was sent
    open: bool  # not yet acknowledged
    notified: list[int]  # who was told now (user ids; empty when not new)


# -- minutes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Present:
    """A member present at the meeting."""

    seat: str
    person: str


@dataclass(frozen=True, slots=True)
class Apology:
    """A member who sent apologies, and who represented them."""

    seat: str
    person: str
    representative: str | None


@dataclass(frozen=True, slots=True)
class MinutesDecision:
    """A decision as the minutes record it."""

    outcome: str
    event: str | None
    meets_needs: str | None
    resources_child: str
    resources_carers: str
    notes: str
    funding: dict[str, Any]
    quorum_status: str = ""  # "" when quorate; else "Not quorate: ..." (panels.quorum)


@dataclass(frozen=True, slots=True)
class MinutesEntry:
    """A child discussed, as the Panel Decisions template records it (it names the child:
    the minutes are read by panel members only, and never logged)."""

    item_id: int
    child_id: int
    child_reference: str
    child_name: str
    age: int
    journey_type: str | None
    journey_state: str | None
    source: str
    cohorts: list[str]
    review_weeks: int | None
    decisions: list[MinutesDecision]
    actions: list[Action]


@dataclass(frozen=True, slots=True)
class MinutesPart:
    """A part of the meeting in the minutes."""

    key: str
    title: str
    items: list[MinutesEntry]


@dataclass(frozen=True, slots=True)
class MinutesRolled:
    """A child rolled to the next meeting, as the minutes note it."""

    child_reference: str
    part: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Minutes:
    """A meeting's minutes as drafted from what was recorded."""

    panel: str
    meeting_id: int
    held_on: date
    start_time: str
    present: list[Present]
    apologies: list[Apology]
    note_taker: str
    parts: list[MinutesPart]
    rolled: list[MinutesRolled]
    minutes_due_on: date

    def children(self) -> list[int]:
        """The children discussed, once per entry (a child may have several)."""
        return [e.child_id for part in self.parts for e in part.items]


@dataclass(frozen=True, slots=True)
class MinutesRecord(Minutes):
    """The minutes as stored, with their status (draft or approved)."""

    status: str


@dataclass(frozen=True, slots=True)
class NotifiedOnApproval:
    """Who was told on approval: of the tracker's circulation, and that the minutes of a
    child's decision are approved."""

    tracker_circulated: list[int]
    minutes_approved: list[int]


@dataclass(frozen=True, slots=True)
class MinutesApproval:
    """The minutes approved: entries recorded to children, the tracker circulated."""

    meeting_id: int
    minutes_status: str
    children_recorded: int
    circulated_to: list[int]
    notified: NotifiedOnApproval


@dataclass(frozen=True, slots=True)
class ChildRecordEntry:
    """A panel entry written to a child's record when the minutes were approved (the
    minutes entry without the child's name and age)."""

    at: datetime
    panel: str
    meeting_id: int
    held_on: date
    part: str
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordDecision:
    """A decision as the child's record keeps it: the outcome in words and its reasons."""

    outcome: str
    outcome_label: str
    event: str | None
    reasons: str  # the decision's notes, as the chair gave them
    meets_needs: str | None
    resources_child: str
    resources_carers: str
    quorum_status: str = ""  # "" when quorate; else "Not quorate: ..." (panels.quorum)


@dataclass(frozen=True, slots=True)
class RecordAction:
    """An action as the child's record keeps it: what, whose and by when."""

    description: str
    owner_id: int | None
    owner_role: str
    owner_name: str | None  # the owner's display name when the minutes were approved
    due_on: date
    status: str


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One child's entry on their record from a meeting's approved minutes (issue 14,
    item 3). ``minutes_version`` counts the approvals of those minutes: a correction
    approves version 2, whose entry replaces (``current``) but never rewrites version 1."""

    id: int
    child_id: int
    child_reference: str
    panel: str
    panel_name: str
    meeting_id: int
    held_on: date
    part: str
    part_title: str
    journey_id: int | None
    journey_type: str | None
    journey_title: str | None
    minutes_version: int
    current: bool
    decisions: list[RecordDecision]
    actions: list[RecordAction]
    review_weeks: int | None
    next_review_on: date | None  # when the chair wants the case back at panel
    approved_on: date
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class MinutesReopened:
    """Approved minutes reopened for a correction: a draft again, to be approved as the
    next version."""

    meeting_id: int
    minutes_status: str
    next_version: int
    reason: str


# -- tracker ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Circulation:
    """A circulation of the tracker: who was told now, and who had been told that day."""

    meeting_id: int
    circulated_on: date
    notified: list[int]
    already_notified: list[int]


@dataclass(frozen=True, slots=True)
class TrackerRow:
    """A child the panel follows: journey, state, next deadline, last decision, open
    actions, when the case comes back, and red / amber / green."""

    child_id: int
    child_reference: str
    team: str
    journey_id: int | None
    journey_type: str | None
    state: str | None
    next_deadline: str | None  # its kind
    next_deadline_due: date | None
    overdue_deadlines: int
    last_decision: str | None  # its outcome
    last_decision_on: date | None
    open_actions: int
    next_action_due: date | None
    next_review_on: date | None
    review_weeks: int | None
    rag: str
    last_decision_quorum: str = ""  # "" when quorate; else "Not quorate: ..." (panels.quorum)
    # When the members of the cohorts the panel's parts take were computed (the snapshot,
    # services.cohort_snapshot); None when its parts take no cohort.
    cohorts_computed_at: datetime | None = None


# The tracker's "last decision" filter for a child with no decision yet.
NO_DECISION = "none"
# The tracker's RAG statuses, in the order the page offers them (the rule that sets them:
# PanelService's tracker, TrackerMixin._rag).
RAGS = ("red", "amber", "green")


@dataclass(frozen=True, slots=True)
class TrackerFilters:
    """What the tracker's page filters on ('' = any): applied in SQL by
    ``PanelService.tracker_page`` and ``PanelService.tracker`` (one implementation)."""

    team: str = ""
    journey_type: str = ""
    rag: str = ""  # "red", "amber", "green"
    outcome: str = ""  # a last decision's outcome, or NO_DECISION
    overdue: bool = False  # only children with an overdue open deadline
    q: str = ""  # the child's reference contains it (any case)


@dataclass(frozen=True, slots=True)
class TrackerChoices:
    """What the unfiltered tracker holds, for the filters' choices: teams, journey types
    and last decisions' outcomes, and when the cohorts' members were computed."""

    teams: list[str]
    journey_types: list[str]
    outcomes: list[str]
    cohorts_computed_at: datetime | None = None
    # How many children each (team, journey type) holds: the unfiltered count, and the
    # count under the team and journey filters, without another pass over the tracker.
    counts: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def known(self, filters: TrackerFilters) -> tuple[TrackerFilters, tuple[str, ...]]:
        """``filters`` without the values the tracker does not hold (a team, journey,
        status or decision not among its choices), and the names of those dropped."""
        unknown = tuple(
            name
            for name, value, held in (
                ("team", filters.team, self.teams),
                ("journey_type", filters.journey_type, self.journey_types),
                ("rag", filters.rag, RAGS),
                ("outcome", filters.outcome, [NO_DECISION, *self.outcomes]),
            )
            if value and value not in held
        )
        return replace(filters, **{name: "" for name in unknown}), unknown  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TrackerPage:
    """One page of the filtered tracker: its rows, how many rows the filters keep, the
    page (clamped to the last one) and whether another follows."""

    rows: list[TrackerRow]
    total: int
    page: int
    more: bool
    choices: TrackerChoices
    # The filters naming a value the tracker does not hold, dropped (the page says so).
    dropped: tuple[str, ...] = ()


# -- reports ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deferral:
    """A deferred decision and its reason."""

    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class Themes:
    """Decisions, deferrals and their reasons, packs not listed and why, items rolled and
    deadlines breached, over a period."""

    panel: str
    start: date = field(metadata={"json": "from"})  # "from" and "to" in the API body
    end: date = field(metadata={"json": "to"})
    meetings: int
    cancelled: int
    decisions: dict[str, int]  # outcome: how many
    deferrals: list[Deferral]
    not_listed: dict[str, int]  # why (late pack, incomplete pack...): how many
    rolled_by_part: dict[str, int]
    breaches_by_kind: dict[str, int]


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Per cent done on time (None: nothing to measure)."""

    minutes_on_time_pct: float | None
    packs_on_time_pct: float | None
    actions_done_on_time_pct: float | None


@dataclass(frozen=True, slots=True)
class AnnualReport(Themes):
    """The panel's year for the senior management team: the year's themes, activity and
    timeliness."""

    year: int
    meetings_held: int
    children_discussed: int
    referrals: int
    timeliness: Timeliness


# -- the conversion -----------------------------------------------------------------------


_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}


def _names(cls: type) -> tuple[tuple[str, str], ...]:
    # (attribute, JSON key) per field, read once per class: fields() is slow for a
    # tracker's rows.
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple((f.name, f.metadata.get("json", f.name)) for f in fields(cls))
    return names


def fields_of(result: Any) -> dict[str, Any]:
    """A result's fields by name, not converted (to build a larger result from it)."""
    return {name: getattr(result, name) for name, _ in _names(type(result))}


# -- invitations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    """A calendar invitation a published agenda sent: to whom, for which slot, its uid and
    the sequence its last .ics carried (references only: no child's name)."""

    id: int
    meeting_id: int
    kind: str  # item (a child's slot) or member (the whole meeting)
    role: str  # social_worker, team_manager, iro, supervising_social_worker or member
    recipient_id: int
    member_key: str | None
    child_id: int | None
    child_reference: str | None
    part: str | None
    slot_date: date
    slot_time: str
    slot_minutes: int
    uid: str
    sequence: int
    status: str  # active or cancelled


@dataclass(frozen=True, slots=True)
class Publication:
    """What publishing (or republishing) an agenda sent: the invitation ids new, changed
    (a moved slot: same uid, higher sequence) and cancelled, and how many were unchanged."""

    meeting_id: int
    published_at: datetime
    invited: list[int]
    updated: list[int]
    cancelled: list[int]
    unchanged: int


@dataclass(frozen=True, slots=True)
class InvitationDetail:
    """A member's invitation as its page shows it: the meeting, the seat, and what the
    attendance records for the seat (apologies, the note, the representative)."""

    invitation: Invitation
    panel_name: str
    meeting_date: date
    start_time: str
    meeting_status: str
    seat_title: str | None
    attendance_status: str | None
    note: str | None
    representative: str | None


def to_json(value: Any) -> Any:
    """A result as JSON-ready data: dataclasses as dicts (field order, JSON names), lists
    and dicts element by element, dates and times as ISO strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return {key: to_json(getattr(value, name)) for name, key in _names(type(value))}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


_STORED_MINUTES = TypeAdapter(MinutesRecord)


def stored_minutes(data: dict[str, Any], status: str) -> MinutesRecord:
    """Minutes from their JSON column (as ``to_json`` wrote them), with their status."""
    return _STORED_MINUTES.validate_python({**data, "status": status})
