"""The vocabulary journey definitions are written in: states, events, fields, guards, deadlines.

A definition is plain data plus small functions. It never touches the database; the engine
(:mod:`workflow.engine`) reads it, and :mod:`workflow.machines` turns it into one shared
``transitions`` machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

FieldType = Literal[
    "date", "string", "text", "integer", "decimal", "boolean", "choice", "checklist"
]

ANY_OPEN_STATE = "*"


@dataclass(frozen=True)
class Field:
    """One piece of data an event takes."""

    name: str
    type: FieldType = "string"
    required: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ChildFacts:
    """What rules may know about the child: dates and status, never a name."""

    id: int
    looked_after_since: date | None
    legal_status: str | None


Bands = tuple[tuple[float | None, tuple[str, ...]], ...]
"""A scheme of delegation: ascending (upper limit, roles that may approve up to it); a limit
of None means any amount."""


@dataclass(frozen=True)
class Policy:
    """Local settings a rule may depend on: schemes of delegation by name (which roles may
    approve how much), and the pack lead time. The values come from configuration; the
    engine only carries them to the rules."""

    delegation: Mapping[str, Bands] = field(default_factory=dict)
    pack_lead_days: int = 14

    def approvers(self, scheme: str, amount: float) -> tuple[str, ...]:
        """The roles that may approve ``amount`` under ``scheme`` (none if it has no band)."""
        for limit, roles in self.delegation.get(scheme, ()):
            if limit is None or amount <= limit:
                return roles
        return ()

    def roles_of(self, event: Event) -> tuple[str, ...]:
        """Who may fire ``event``: its own roles or, for an event whose roles follow a scheme
        of delegation (``roles_scheme``) this policy holds, every role of the scheme's bands
        (the guard then checks the band for the amount). A preset's scheme thus decides who
        signs off, without changing the journey's shared default."""
        bands = self.delegation.get(event.roles_scheme or "")
        if not bands:
            return event.roles
        out: list[str] = []
        for _limit, roles in bands:
            out.extend(r for r in roles if r not in out)
        return tuple(out)

    def with_scheme(self, scheme: str, bands: Bands) -> Policy:
        """The same policy with ``scheme`` replaced by ``bands``."""
        return replace(self, delegation={**self.delegation, scheme: bands})


@dataclass(frozen=True)
class Context:
    """Everything a guard or a deadline rule can see when an event is considered.

    ``event_data`` is empty when the engine only previews which events are allowed; guards
    must then judge only what is already known (and say nothing about missing input).
    """

    state: str
    started_on: date
    occurred_on: date
    today: date
    journey_data: Mapping[str, Any]
    event_data: Mapping[str, Any]
    actor_roles: frozenset[str]
    child: ChildFacts
    policy: Policy
    preview: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        """The event's value for ``name`` if given, else the journey's recorded one."""
        if name in self.event_data:
            return self.event_data[name]
        return self.journey_data.get(name, default)

    def date_of(self, name: str) -> date | None:
        """A recorded or given date (journey data keeps dates as ISO strings)."""
        value = self.get(name)
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(str(value))


Guard = Callable[[Context], str | None]
"""A guard returns a human-readable reason when the event must not happen, else ``None``."""

DateRule = Callable[[Context], date | None]


@dataclass(frozen=True)
class OpenDeadline:
    """Open (or move, if already open) a deadline of ``kind`` due on ``due(ctx)``."""

    kind: str
    due: DateRule
    owner_role: str
    ref: Callable[[Context], str] | None = None


@dataclass(frozen=True)
class MeetDeadline:
    """Mark the open deadline of ``kind`` met on the event's date."""

    kind: str
    ref: Callable[[Context], str] | None = None


@dataclass(frozen=True)
class CancelDeadline:
    """Cancel the open deadline of ``kind`` (it no longer applies)."""

    kind: str
    ref: Callable[[Context], str] | None = None


DeadlineRule = OpenDeadline | MeetDeadline | CancelDeadline


@dataclass(frozen=True)
class Branch:
    """One possible destination of an event, taken when ``when`` holds (first match wins)."""

    dest: str
    when: Callable[[Context], bool] | None = None
    source: str | None = None  # the branch applies only from this state

    def applies_from(self, state: str) -> bool:
        """Whether this branch is a way out of ``state``."""
        return self.source is None or self.source == state


@dataclass(frozen=True)
class Event:
    """An event of a journey: where it may start, where it leads, who may fire it, and its rules.

    ``dest=None`` is an internal event: the state stays, but data and deadlines change.
    ``facts`` computes what the event adds to the journey's recorded data; by default the
    event's own data is merged in.
    """

    name: str
    sources: tuple[str, ...]
    dest: str | tuple[Branch, ...] | None
    roles: tuple[str, ...]
    label: str = ""
    fields: tuple[Field, ...] = ()
    guards: tuple[Guard, ...] = ()
    deadlines: tuple[DeadlineRule, ...] = ()
    record_date_as: str | None = None
    facts: Callable[[Context], dict[str, Any]] | None = None
    # A scheme of delegation (``Policy.delegation``) whose band roles replace ``roles``
    # when the policy holds it (``Policy.roles_of``); ``roles`` is the default.
    roles_scheme: str | None = None

    @property
    def branches(self) -> tuple[Branch, ...]:
        """The destinations as branches (an internal event has none)."""
        if self.dest is None:
            return ()
        if isinstance(self.dest, str):
            return (Branch(self.dest),)
        return self.dest

    @property
    def destinations(self) -> tuple[str, ...]:
        """Every state this event can lead to."""
        return tuple(b.dest for b in self.branches)

    def destinations_from(self, state: str) -> tuple[str, ...]:
        """The states this event can lead to from ``state`` (``state`` itself if internal)."""
        if self.dest is None:
            return (state,)
        return tuple(b.dest for b in self.branches if b.applies_from(state))


@dataclass(frozen=True)
class State:
    """A state with the words a social worker would use for it."""

    name: str
    label: str
    final: bool = False
    secured: bool = False  # a final state in which permanence is achieved


@dataclass(frozen=True)
class JourneyDefinition:
    """A journey type at one version. Running journeys keep the version they started with."""

    type: str
    version: int
    title: str
    states: tuple[State, ...]
    start: Event
    events: tuple[Event, ...]
    description: str = ""
    suggest_next: Callable[[Mapping[str, Any]], str | None] | None = None
    # (recorded facts, child, as-of date: today, or the day the journey closed) -> figures
    measures: Callable[[Mapping[str, Any], ChildFacts, date], dict[str, Any]] | None = None
    _by_name: dict[str, Event] = field(default_factory=dict, init=False, repr=False)
    # Worked out once from the states and events, which a frozen definition never changes:
    # every transition plans with them and lists the events of the journey's state.
    _tables: _Tables = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.states]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.type}: duplicate state names")
        for ev in (self.start, *self.events):
            for src in ev.sources:
                if src != ANY_OPEN_STATE and src not in names:
                    raise ValueError(f"{self.type}.{ev.name}: unknown source state {src!r}")
            for dest in ev.destinations:
                if dest not in names:
                    raise ValueError(f"{self.type}.{ev.name}: unknown destination {dest!r}")
            if ev.name in self._by_name:
                raise ValueError(f"{self.type}: duplicate event {ev.name!r}")
            self._by_name[ev.name] = ev
        open_states = tuple(s.name for s in self.states if not s.final)
        sources = {
            ev.name: open_states if ANY_OPEN_STATE in ev.sources else ev.sources
            for ev in (self.start, *self.events)
        }
        object.__setattr__(
            self,
            "_tables",
            _Tables(
                state_names=tuple(names),
                open_states=open_states,
                final_states=frozenset(s.name for s in self.states if s.final),
                sources=sources,
                events_from={
                    state: tuple(e for e in self.events if state in sources[e.name])
                    for state in names
                },
            ),
        )

    @property
    def initial(self) -> str:
        """The state a new journey starts in."""
        return self.start.destinations[0]

    @property
    def state_names(self) -> tuple[str, ...]:
        """All state names in definition order."""
        return self._tables.state_names

    @property
    def final_states(self) -> frozenset[str]:
        """States that close the journey."""
        return self._tables.final_states

    @property
    def open_states(self) -> tuple[str, ...]:
        """States in which the journey is still running."""
        return self._tables.open_states

    def event(self, name: str) -> Event | None:
        """The event called ``name`` (``start`` included), or None."""
        return self._by_name.get(name)

    def sources_of(self, ev: Event) -> tuple[str, ...]:
        """The event's source states with ``*`` expanded to every open state."""
        if self._by_name.get(ev.name) is ev:
            return self._tables.sources[ev.name]
        # An event from elsewhere (not one of this definition's): worked out as it stands.
        if ANY_OPEN_STATE in ev.sources:
            return self.open_states
        return ev.sources

    def events_from(self, state: str) -> tuple[Event, ...]:
        """The events that may start from ``state``."""
        return self._tables.events_from.get(state, ())


@dataclass(frozen=True)
class _Tables:
    """What a :class:`JourneyDefinition` works out once from its states and events."""

    state_names: tuple[str, ...]
    open_states: tuple[str, ...]
    final_states: frozenset[str]
    sources: Mapping[str, tuple[str, ...]]  # by event name, ``*`` expanded
    events_from: Mapping[str, tuple[Event, ...]]  # by state name, in definition order
