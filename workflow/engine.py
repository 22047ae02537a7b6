"""Decide what an event does to a journey, without touching storage.

``plan_event`` checks state, role, dates, data and guards, fires the shared machine and
works out the new recorded facts and every deadline change. The persistence layer writes
the plan in one transaction (or nothing), so the transaction is the unit of consistency,
not the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from workflow import fields as field_rules
from workflow.definition import (
    ChildFacts,
    Context,
    Event,
    JourneyDefinition,
    MeetDeadline,
    OpenDeadline,
    Policy,
)
from workflow.errors import (
    EventNotAvailable,
    FieldError,
    GuardFailed,
    InvalidData,
    JourneyClosed,
    RoleNotAllowed,
    UnknownEvent,
)
from workflow.machines import JourneyMachine

DeadlineKey = tuple[str, str]  # (kind, ref)

OCCURRED_ON = "occurred_on"
"""The name field errors give the date an event happened (or a journey started)."""


@dataclass(frozen=True)
class Actor:
    """Who fires an event."""

    id: int
    roles: frozenset[str]


@dataclass(frozen=True)
class JourneySnapshot:
    """What the engine needs to know about a running journey."""

    state: str
    closed: bool
    started_on: date
    data: Mapping[str, Any]
    child: ChildFacts
    open_deadlines: Mapping[DeadlineKey, date]


@dataclass(frozen=True)
class DeadlineChange:
    """One change to a deadline, recorded in the event's history too."""

    action: Literal["open", "move", "meet", "cancel"]
    kind: str
    ref: str
    due_on: date | None
    previous_due_on: date | None = None
    owner_role: str = ""  # who owns an opened or moved deadline (the rule says)

    def as_json(self) -> dict[str, Any]:
        """The change as stored in the journey's history."""
        out: dict[str, Any] = {"action": self.action, "kind": self.kind}
        if self.ref:
            out["ref"] = self.ref
        if self.due_on:
            out["due_on"] = self.due_on.isoformat()
        if self.previous_due_on:
            out["previous_due_on"] = self.previous_due_on.isoformat()
        return out


@dataclass(frozen=True)
class TransitionPlan:
    """Everything one event changes."""

    event: str
    from_state: str | None
    to_state: str
    occurred_on: date
    event_data: dict[str, Any]
    journey_data: dict[str, Any]
    deadline_changes: tuple[DeadlineChange, ...]
    closes: bool
    outcome: str | None


@dataclass(frozen=True)
class EventOption:
    """An event offered in the current state and whether this actor may fire it now."""

    event: str
    allowed: bool
    reasons: tuple[str, ...]


def _future(occurred_on: date, today: date) -> FieldError | None:
    if occurred_on > today:
        return FieldError(
            OCCURRED_ON,
            "in_the_future",
            f"occurred_on {occurred_on.isoformat()} is after today ({today.isoformat()})",
        )
    return None


def _check_dates(occurred_on: date, today: date, not_before: date | None) -> None:
    future = _future(occurred_on, today)
    if future:
        raise InvalidData("An event cannot be future-dated.", field_errors=[future])
    if not_before is not None and occurred_on < not_before:
        raise InvalidData(
            "An event cannot be dated before the journey started.",
            field_errors=[
                FieldError(
                    OCCURRED_ON,
                    "before_start",
                    f"occurred_on {occurred_on.isoformat()} is before the journey started "
                    f"({not_before.isoformat()})",
                )
            ],
        )


def find_event(definition: JourneyDefinition, name: str) -> Event:
    """The event ``name`` a running journey of ``definition`` may record (not its start)."""
    ev = definition.event(name)
    if ev is None or ev is definition.start:
        raise UnknownEvent(
            f"{definition.type} has no event {name!r}.",
            events=[e.name for e in definition.events],
        )
    return ev


def _roles_reason(ev: Event, actor: Actor, policy: Policy | None = None) -> str | None:
    roles = policy.roles_of(ev) if policy is not None else ev.roles
    if actor.roles.isdisjoint(roles):
        return f"Only {', '.join(roles)} may {ev.label or ev.name.replace('_', ' ')}."
    return None


def check_role(ev: Event, actor: Actor, policy: Policy | None = None) -> None:
    """Refuse an actor who may not fire ``ev`` (:class:`RoleNotAllowed` names who may): its
    roles as ``policy`` gives them (``Policy.roles_of``), else the event's own."""
    reason = _roles_reason(ev, actor, policy)
    if reason:
        roles = policy.roles_of(ev) if policy is not None else ev.roles
        raise RoleNotAllowed(reason, roles=roles)


def input_errors(
    ev: Event, *, occurred_on: date | None, data: Mapping[str, Any] | None, today: date
) -> tuple[FieldError, ...]:
    """Every problem with an event's input taken alone, all at once: a date after ``today``,
    then the data's, field by field (``occurred_on=None``: a date the caller could not read).

    :func:`plan_event` checks the same, one refusal at a time and in its own order; a form
    asks this first so that it can show everything wrong with what was typed together.
    What depends on the journey (a date before it started, its state, guards) is not here.
    """
    errors: list[FieldError] = []
    if occurred_on is not None:
        future = _future(occurred_on, today)
        if future:
            errors.append(future)
    errors.extend(field_rules.validate(ev.fields, data)[1])
    return tuple(errors)


def _deadline_changes(
    ev: Event, ctx: Context, open_deadlines: Mapping[DeadlineKey, date], closes: bool
) -> tuple[DeadlineChange, ...]:
    """Apply the event's deadline rules in order.

    Order matters: ``hold_review`` meets the review that was due, then opens the next one of
    the same kind, which is a new deadline rather than a move of the old one.
    """
    current: dict[DeadlineKey, date] = dict(open_deadlines)
    changes: list[DeadlineChange] = []
    for rule in ev.deadlines:
        ref = rule.ref(ctx) if rule.ref else ""
        key = (rule.kind, ref)
        if isinstance(rule, OpenDeadline):
            due = rule.due(ctx)
            if due is None or current.get(key) == due:
                continue
            action: Literal["open", "move"] = "move" if key in current else "open"
            changes.append(
                DeadlineChange(action, rule.kind, ref, due, current.get(key), rule.owner_role)
            )
            current[key] = due
        elif key in current:
            verb: Literal["meet", "cancel"] = "meet" if isinstance(rule, MeetDeadline) else "cancel"
            changes.append(DeadlineChange(verb, rule.kind, ref, current.pop(key)))
    if closes:
        # A closed journey leaves nothing open behind it.
        changes.extend(DeadlineChange("cancel", k, r, due) for (k, r), due in current.items())
    return tuple(changes)


def _apply(
    jm: JourneyMachine,
    ev: Event,
    ctx: Context,
    from_state: str | None,
    open_deadlines: Mapping[DeadlineKey, date],
) -> TransitionPlan:
    reasons = [r for r in (g(ctx) for g in ev.guards) if r]
    if reasons:
        raise GuardFailed("The event is not allowed: " + " ".join(reasons), reasons=reasons)
    if from_state is None:
        to_state = jm.definition.initial
    else:
        moved = jm.fire(from_state, ev.name, ctx)
        if moved is None:
            raise GuardFailed(
                "No destination applies to this event with the data given.",
                reasons=["no destination applies"],
            )
        to_state = moved
    facts = ev.facts(ctx) if ev.facts else field_rules.to_json(ctx.event_data)
    journey_data = {**ctx.journey_data, **facts}
    if ev.record_date_as:
        journey_data[ev.record_date_as] = ctx.occurred_on.isoformat()
    closes = to_state in jm.definition.final_states
    after = replace(ctx, journey_data=journey_data, state=to_state)
    changes = _deadline_changes(ev, after, open_deadlines, closes)
    outcome = None
    if closes:
        outcome = str(ctx.event_data.get("outcome") or to_state)
    return TransitionPlan(
        event=ev.name,
        from_state=from_state,
        to_state=to_state,
        occurred_on=ctx.occurred_on,
        event_data=field_rules.to_json(ctx.event_data),
        journey_data=journey_data,
        deadline_changes=changes,
        closes=closes,
        outcome=outcome,
    )


def plan_start(
    jm: JourneyMachine,
    *,
    started_on: date,
    data: Mapping[str, Any] | None,
    actor: Actor,
    child: ChildFacts,
    today: date,
    policy: Policy,
) -> TransitionPlan:
    """Plan the start of a new journey (recorded as its ``start`` event)."""
    ev = jm.definition.start
    check_role(ev, actor, policy)
    _check_dates(started_on, today, None)
    clean, errors = field_rules.validate(ev.fields, data)
    if errors:
        raise InvalidData("The journey's data is not valid.", field_errors=errors)
    ctx = Context(
        state="",
        started_on=started_on,
        occurred_on=started_on,
        today=today,
        journey_data={},
        event_data=clean,
        actor_roles=actor.roles,
        child=child,
        policy=policy,
    )
    return _apply(jm, ev, ctx, None, {})


def plan_event(
    jm: JourneyMachine,
    journey: JourneySnapshot,
    *,
    event: str,
    occurred_on: date,
    data: Mapping[str, Any] | None,
    actor: Actor,
    today: date,
    policy: Policy,
) -> TransitionPlan:
    """Plan ``event`` on ``journey``, or raise the reason it cannot happen."""
    definition = jm.definition
    ev = find_event(definition, event)
    if journey.closed:
        raise JourneyClosed(
            f"The journey is closed (state {journey.state}); no event can be recorded.",
            state=journey.state,
            available_events=[],
        )
    if journey.state not in definition.sources_of(ev):
        raise EventNotAvailable(
            f"{event} is not available in state {journey.state}.",
            state=journey.state,
            available_events=[e.name for e in definition.events_from(journey.state)],
        )
    check_role(ev, actor, policy)
    _check_dates(occurred_on, today, journey.started_on)
    clean, errors = field_rules.validate(ev.fields, data)
    if errors:
        raise InvalidData("The event's data is not valid.", field_errors=errors)
    ctx = Context(
        state=journey.state,
        started_on=journey.started_on,
        occurred_on=occurred_on,
        today=today,
        journey_data=journey.data,
        event_data=clean,
        actor_roles=actor.roles,
        child=journey.child,
        policy=policy,
    )
    return _apply(jm, ev, ctx, journey.state, journey.open_deadlines)


def options(
    jm: JourneyMachine,
    journey: JourneySnapshot,
    *,
    actor: Actor,
    today: date,
    policy: Policy,
    refusal: str | None = None,
) -> list[EventOption]:
    """The events offered in the journey's state, each with why this actor may not fire it.

    ``refusal`` is a reason that applies to every event (for example: not your team).
    """
    if journey.closed:
        return []
    ctx = Context(
        state=journey.state,
        started_on=journey.started_on,
        occurred_on=today,
        today=today,
        journey_data=journey.data,
        event_data={},
        actor_roles=actor.roles,
        child=journey.child,
        policy=policy,
        preview=True,
    )
    out = []
    for ev in jm.definition.events_from(journey.state):
        reasons = [refusal] if refusal else []
        role_reason = _roles_reason(ev, actor, policy)
        if role_reason:
            reasons.append(role_reason)
        reasons.extend(r for r in (g(ctx) for g in ev.guards) if r)
        out.append(EventOption(ev.name, not reasons, tuple(reasons)))
    return out
