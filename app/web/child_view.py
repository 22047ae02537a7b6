"""What the child page shows of each journey: its stage (on its diagram and in words), the
actions open now and why others are not, its deadlines and its history in people's words.

The access rules are the services' (``get_child``, ``JourneyService.list_for_child``);
this module only arranges what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup

from app.web.templating import govuk_date, humanise
from services.access import WRITE_ROLES, Principal
from services.journeys import JourneyView
from services.rag import rag_status
from states import deadline_kinds
from states.checklists import COMPLETE_IN_WORDS
from workflow import diagram
from workflow.calendar import LONDON, working_days_between
from workflow.definition import Event, JourneyDefinition
from workflow.fields import CHECKLIST_COMPLETE
from workflow.machines import Registry


def event_label(ev: Event | None, name: str) -> str:
    """An event as a button or a history line names it: 'Record a looked-after review'."""
    words = (ev.label if ev is not None else "") or name.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Action:
    """An event of the journey's current stage, and why it cannot be recorded now."""

    event: str
    label: str
    allowed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class DeadlineLine:
    """A deadline of the journey."""

    label: str
    ref: str
    due_on: date
    status: str  # open | met | cancelled
    met_on: date | None
    rag: str | None  # only for an open deadline
    owner: str
    kind: str = ""

    @property
    def working_days_late(self) -> int | None:
        """How late a met deadline was met, in working days (None: on time, or not met).
        Met on a weekend day after a Friday due date is late by 0 working days."""
        if self.status != "met" or self.met_on is None or self.met_on <= self.due_on:
            return None
        return working_days_between(self.due_on, self.met_on)


@dataclass(frozen=True)
class HistoryLine:
    """One recorded event."""

    event: str
    from_stage: str | None
    to_stage: str
    occurred_on: date
    recorded_at: datetime
    actor_id: int
    actor: str
    details: list[str]


@dataclass(frozen=True)
class JourneyPanel:
    """A journey as the child page shows it."""

    id: int
    type: str
    title: str
    version: int
    state: str
    stage: str
    closed: bool
    started_on: date
    closed_on: date | None
    outcome: str | None
    diagram: Markup
    next_stages: list[str]
    actions: list[Action]
    blocked: list[Action]
    deadlines: list[DeadlineLine]
    history: list[HistoryLine]
    suggested_next: str | None

    @property
    def open_deadlines(self) -> list[DeadlineLine]:
        """The deadlines still to meet, soonest first."""
        return [d for d in self.deadlines if d.status == "open"]


def london_time(stamp: datetime) -> datetime:
    """A stored UTC timestamp as the clock in England showed it (SQLite gives it back
    without its zone; it was written in UTC)."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(LONDON)


def next_stages(definition: JourneyDefinition, state: str) -> list[str]:
    """The stages the journey can move on to from ``state`` (internal events left out)."""
    labels = {s.name: s.label for s in definition.states}
    seen: dict[str, None] = {}
    for ev in definition.events_from(state):
        if ev.dest is None:
            continue
        for dest in ev.destinations_from(state):
            if dest != state:
                seen.setdefault(labels.get(dest, dest))
    return list(seen)


def _value(value: Any, spec_type: str | None) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        answered = sum(1 for v in value.values() if v in CHECKLIST_COMPLETE)
        return f"{answered} of {len(value)} items answered {COMPLETE_IN_WORDS}"
    if spec_type == "date" and isinstance(value, str):
        try:
            return govuk_date(value)
        except ValueError:
            return value
    if spec_type == "choice" and isinstance(value, str):
        return humanise(value)
    return str(value)


def deadline_words(kind: str, ref: str, journey_data: Mapping[str, Any], meeting: str = "") -> str:
    """A deadline as the child page names it: its kind's label and, where a journey has
    several of the kind, which one in words ("Court direction (Parenting assessment)"); a
    panel pack by its meeting (``meeting``, from :func:`notifications.meetings.pack_meetings`)."""
    return deadline_kinds.deadline_name(kind, ref, meeting, journey_data)


def _deadline_change(change: Mapping[str, Any], journey_data: Mapping[str, Any]) -> str:
    label = deadline_words(str(change.get("kind", "")), str(change.get("ref") or ""), journey_data)
    due = govuk_date(change.get("due_on")) if change.get("due_on") else ""
    before = govuk_date(change.get("previous_due_on")) if change.get("previous_due_on") else ""
    action = change.get("action")
    if action == "open":
        return f"{label}: due {due}"
    if action == "move":
        return f"{label}: moved from {before} to {due}" if before else f"{label}: now due {due}"
    if action == "meet":
        return f"{label}: met"
    return f"{label}: no longer applies"


def _details(
    data: Mapping[str, Any], ev: Event | None, journey_data: Mapping[str, Any]
) -> list[str]:
    specs = {f.name: f for f in ev.fields} if ev is not None else {}
    out = []
    for key, value in data.items():
        if key == "deadlines" or value is None or value == "":
            continue
        spec = specs.get(key)
        label = (spec.label if spec and spec.label else "") or humanise(key)
        out.append(f"{label}: {_value(value, spec.type if spec else None)}")
    out.extend(
        _deadline_change(c, journey_data)
        for c in data.get("deadlines") or []
        if isinstance(c, dict)
    )
    return out


def journey_panel(
    view: JourneyView,
    history: list[dict[str, Any]],
    registry: Registry,
    names: Mapping[int, str],
    principal: Principal,
    today: date,
    meetings: Mapping[int, str] | None = None,
) -> JourneyPanel:
    """Everything the child page shows about one journey; ``meetings``: the meeting each
    panel pack deadline (by id) is for, in words."""
    definition = registry.get(view.type, view.definition_version).definition
    labels = {s.name: s.label for s in definition.states}
    closed = view.status == "closed"
    may_write = not principal.roles.isdisjoint(WRITE_ROLES)
    actions = [
        Action(o.event, event_label(definition.event(o.event), o.event), o.allowed, o.reasons)
        for o in view.available_events
    ]
    # Someone who may only read is shown no actions at all (the reason would be the same
    # for every one of them, and they are not theirs to take).
    if not may_write:
        actions = []
    deadlines = [
        DeadlineLine(
            label=deadline_words(d.kind, d.ref, view.data, (meetings or {}).get(d.id, "")),
            ref=d.ref,
            due_on=d.due_on,
            status=d.status,
            met_on=d.met_on,
            rag=rag_status(d.due_on, today) if d.status == "open" else None,
            owner=names.get(d.owner_id, "") if d.owner_id else humanise(d.owner_role),
            kind=d.kind,
        )
        for d in view.deadlines
    ]
    lines = [
        HistoryLine(
            event=event_label(definition.event(h["event"]), h["event"]),
            from_stage=labels.get(h["from_state"], h["from_state"]) if h["from_state"] else None,
            to_stage=labels.get(h["to_state"], h["to_state"]),
            occurred_on=h["occurred_on"],
            recorded_at=london_time(h["recorded_at"]),
            actor_id=h["actor_id"],
            actor=names.get(h["actor_id"], ""),
            details=_details(h["data"] or {}, definition.event(h["event"]), view.data),
        )
        for h in history
    ]
    suggested = None
    if view.suggested_next:
        current = registry.current(view.suggested_next)
        suggested = current.definition.title if current else humanise(view.suggested_next)
    return JourneyPanel(
        id=view.id,
        type=view.type,
        title=view.title,
        version=view.version,
        state=view.state,
        stage=labels.get(view.state, view.state),
        closed=closed,
        started_on=view.started_on,
        closed_on=view.closed_on,
        outcome=humanise(view.outcome) if view.outcome else None,
        # The SVG escapes its own text (workflow.diagram); nothing typed by a user is in it.
        diagram=Markup(diagram.svg(definition, current=view.state)),
        next_stages=[] if closed else next_stages(definition, view.state),
        actions=[a for a in actions if a.allowed],
        blocked=[a for a in actions if not a.allowed],
        deadlines=deadlines,
        history=lines,
        suggested_next=suggested,
    )


@dataclass(frozen=True)
class Recorded:
    """What the success banner says after an event: which, on which journey, the new stage."""

    event: str
    journey_title: str
    stage: str
    journey_id: int


def last_recorded_by(panels: Iterable[JourneyPanel], user_id: int) -> Recorded | None:
    """The latest event the user ``user_id`` recorded on any of the child's journeys."""
    best: tuple[datetime, Recorded] | None = None
    for panel in panels:
        for line in panel.history:
            if line.actor_id == user_id and (best is None or line.recorded_at >= best[0]):
                done = Recorded(line.event, panel.title, line.to_stage, panel.id)
                best = (line.recorded_at, done)
    return best[1] if best else None
