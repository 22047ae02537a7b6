"""Panel configuration: one TOML file per local authority, validated on load.

A file describes the meeting schedule, the agenda parts and their capacity, the pack lead
time, when minutes are due, the membership by role, the decision types with their
checklists and outcomes, and the scheme of delegation for funding. Anything wrong is
reported as :class:`PanelConfigError` naming the file, the setting and what is wrong, so an
administrator can fix a preset without reading code.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import states
from services import cohorts
from states import checklists as builtin_checklists
from states.roles import ALL_ROLES

PRESETS_DIR = Path(__file__).resolve().parent / "presets"

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")

# What an agenda part can take: referrals for decision, or a cohort the panel tracks. Each
# cohort is defined once, with its rule, in services.cohorts (from the care record, else from
# journeys); here only its title, as the presets and pages name it.
COHORTS: dict[str, str] = {c.name: c.title for c in cohorts.COHORTS}
SOURCES: frozenset[str] = frozenset({"referrals", *COHORTS})


class PanelConfigError(ValueError):
    """A panel configuration that cannot be used, with every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Model(BaseModel):
    # Unknown keys are errors: a misspelt setting must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PanelInfo(_Model):
    """Who the panel belongs to and where its rules come from."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    authority: str
    source: str = ""
    # Settings the Terms of Reference do not state, chosen locally; shown to users so
    # nobody mistakes a local choice for the ToR's text.
    assumptions: list[str] = []


class Schedule(_Model):
    """When the panel meets."""

    frequency: Literal["weekly", "fortnightly", "monthly"]
    weekday: Weekday
    # monthly: which occurrence of the weekday (1..4, or -1 for the last one).
    week_of_month: int | None = None
    # weekly/fortnightly: a date of one meeting, fixing which weeks are panel weeks.
    anchor: date | None = None
    # A local (London) time of day without an offset: RFC 3339's "partial-time", not the
    # "time" pydantic would document (which requires an offset).
    start_time: time = Field(json_schema_extra={"format": "partial-time"})
    length_minutes: int = Field(gt=0, le=12 * 60)
    # A meeting falling on a bank holiday moves to the next working day.
    avoid_bank_holidays: bool = True
    planner_months: int = Field(default=6, ge=1, le=24)

    @model_validator(mode="after")
    def _rule_complete(self) -> Schedule:
        if self.frequency == "monthly":
            if self.week_of_month is None or self.week_of_month not in (1, 2, 3, 4, -1):
                raise ValueError("a monthly schedule needs week_of_month: 1, 2, 3, 4 or -1 (last)")
        else:
            if self.anchor is None:
                raise ValueError(f"a {self.frequency} schedule needs an anchor date")
            if self.anchor.weekday() != WEEKDAYS.index(self.weekday):
                raise ValueError(f"the anchor {self.anchor.isoformat()} is not a {self.weekday}")
        return self


class LeadTime(_Model):
    """How long before the meeting the pack (or referral) is due."""

    days: int = Field(ge=0, le=90)
    unit: Literal["calendar", "working"] = "calendar"


class MinutesRule(_Model):
    """When minutes are due and what happens once they are approved."""

    due_working_days: int = Field(ge=0, le=30)
    owner_role: str = "panel_admin"
    record_to_child: bool = True
    circulate_to: list[str] = ["team_manager", "social_worker"]


class Member(_Model):
    """A seat on the panel, held by a role (the person is recorded per meeting)."""

    key: str
    title: str
    role: str | None = None
    chair: bool = False
    vice_chair: bool = False
    administrator: bool = False
    # Parts the member is needed for (empty = every part); "when required" members are
    # invited rather than expected, so their absence is not an apology.
    parts: list[str] = []
    when_required: bool = False


class Capacity(_Model):
    """A part's time: minutes with a length per item, or slots of a length."""

    minutes: int | None = Field(default=None, gt=0)
    item_minutes: int | None = Field(default=None, gt=0)
    slots: int | None = Field(default=None, gt=0)
    slot_minutes: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> Capacity:
        by_minutes = self.minutes is not None
        by_slots = self.slots is not None
        if by_minutes == by_slots:
            raise ValueError("give either minutes (with item_minutes) or slots (with slot_minutes)")
        if by_minutes and self.item_minutes is None:
            raise ValueError("a capacity in minutes needs item_minutes (the time per child)")
        if by_slots and self.slot_minutes is None:
            raise ValueError("a capacity in slots needs slot_minutes (the length of a slot)")
        return self

    @property
    def total_minutes(self) -> int:
        """The part's length in minutes."""
        if self.minutes is not None:
            return self.minutes
        return (self.slots or 0) * (self.slot_minutes or 0)

    @property
    def unit_minutes(self) -> int:
        """The time one item takes by default."""
        return self.item_minutes or self.slot_minutes or 1

    def describe(self) -> str:
        """The capacity in the ToR's words."""
        if self.slots is not None:
            return f"{self.slots} x {self.slot_minutes}-minute slots"
        return f"{self.minutes} minutes ({self.item_minutes} minutes per child)"


class Part(_Model):
    """A part of the meeting: what it takes and how much of it fits."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    takes: list[str] = Field(min_length=1)
    capacity: Capacity
    # Cohort items come back only when the chair's review date has come (or never set).
    review_weeks: int | None = Field(default=None, gt=0)


class ChecklistItem(_Model):
    """One item of a pack checklist (answered Yes / No / Not applicable)."""

    key: str
    text: str


class Checklist(_Model):
    """A pack checklist; the Leicestershire ones (A to D) are built in."""

    key: str
    title: str
    items: list[ChecklistItem] = Field(min_length=1)

    def missing(self, answers: dict[str, str] | None) -> list[str]:
        """Items not answered Yes or Not applicable (a No means something is missing)."""
        return builtin_checklists.missing((i.key for i in self.items), answers)


class Outcome(_Model):
    """A decision or recommendation the panel can record for a decision type."""

    key: str
    label: str
    # The journey event it fires (through the journey engine, with its roles and guards).
    event: str | None = None
    # Referral is not concluded: it comes back (e.g. deferred for more information).
    defers: bool = False


class DecisionType(_Model):
    """Something a social worker refers to panel for a decision."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    part: str
    journey_type: str
    # States of the journey in which it may be referred (empty = any open state).
    states: list[str] = []
    checklist: str | None = None
    documents: list[str] = []
    # Event fired when the pack is submitted in time and complete (e.g. submit_pack).
    on_pack_event: str | None = None
    funding_scheme: str | None = None
    minutes: int | None = Field(default=None, gt=0)
    outcomes: list[Outcome] = Field(min_length=1)

    def in_state(self, state: str) -> bool:
        """Whether a journey may be referred for it in ``state`` (no states listed: any)."""
        return not self.states or state in self.states

    def takes(self, journey_type: str, state: str) -> bool:
        """Whether a journey of ``journey_type`` in ``state`` may be referred for it."""
        return self.journey_type == journey_type and self.in_state(state)


class Band(_Model):
    """Up to an amount (pounds a year; None = any amount), these roles may agree it."""

    up_to: float | None = None
    roles: list[str] = Field(min_length=1)
    by_exception: bool = False


class FundingScheme(_Model):
    """A scheme of delegation for additional funding, with the three-quotes rule."""

    key: str
    title: str
    bands: list[Band] = Field(min_length=1)
    quotes_required: int = Field(default=3, ge=0)
    # Support inside a commissioned placement is negotiated by brokerage: no quotes needed.
    commissioned_exempt: bool = True

    @model_validator(mode="after")
    def _ascending(self) -> FundingScheme:
        limits = [b.up_to for b in self.bands]
        if limits[-1] is not None:
            raise ValueError("the last band must have up_to = none (any amount); omit up_to")
        finite = [x for x in limits[:-1] if x is not None]
        if len(finite) != len(limits) - 1 or finite != sorted(finite):
            raise ValueError("bands must be in ascending order of up_to, only the last open")
        return self

    def band_for(self, amount: float) -> Band:
        """The band an amount falls in."""
        for band in self.bands:
            if band.up_to is None or amount <= band.up_to:
                return band
        return self.bands[-1]


class Tracker(_Model):
    """How the tracker rates each child (RAG)."""

    amber_within_days: int = Field(default=10, ge=0)


ItemAttendee = Literal["social_worker", "team_manager", "iro", "supervising_social_worker"]


class Invitations(_Model):
    """Who a published agenda invites to each child's slot (Wirral, Sefton and Torbay invite
    the social worker, IRO and supervising social worker), and whether the seats' holders are
    told of each meeting."""

    item_attendees: list[ItemAttendee] = [
        "social_worker",
        "team_manager",
        "iro",
        "supervising_social_worker",
    ]
    members: bool = True


class Quorum(_Model):
    """Who must be present or represented for the meeting's decisions to stand (issue 14
    item 4): the seats named, and at least so many seats in all. A meeting below it can be
    held; its decisions are marked "not quorate" and wait for ratifying (``panels.quorum``).
    No ``[quorum]``: the ToR sets none, and every meeting is quorate."""

    seats: list[str] = []
    at_least: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _something(self) -> Quorum:
        if not self.seats and self.at_least is None:
            raise ValueError("a quorum names seats, or at_least a number of seats, or both")
        return self


class PanelConfig(_Model):
    """A whole panel, as one local authority's Terms of Reference describe it."""

    panel: PanelInfo
    schedule: Schedule
    pack_lead: LeadTime
    minutes: MinutesRule
    members: list[Member] = Field(min_length=1)
    parts: list[Part] = Field(min_length=1)
    checklists: list[Checklist] = []
    decision_types: list[DecisionType] = Field(min_length=1)
    funding: list[FundingScheme] = []
    review_weeks_choices: list[int] = [2, 4, 6, 8, 12, 13, 26]
    invitations: Invitations = Invitations()
    tracker: Tracker = Tracker()
    quorum: Quorum | None = None

    @model_validator(mode="after")
    def _references(self) -> PanelConfig:
        problems: list[str] = []
        part_keys = [p.key for p in self.parts]
        _duplicates("parts", part_keys, problems)
        _duplicates("members", [m.key for m in self.members], problems)
        _duplicates("decision_types", [d.key for d in self.decision_types], problems)
        _duplicates("checklists", [c.key for c in self.checklists], problems)
        for member in self.members:
            if member.role is not None and member.role not in ALL_ROLES:
                problems.append(
                    f"members.{member.key}.role: unknown role {member.role!r} "
                    f"(one of {', '.join(ALL_ROLES)})"
                )
            for part_key in member.parts:
                if part_key not in part_keys:
                    problems.append(f"members.{member.key}.parts: no part {part_key!r}")
        if self.quorum is not None:
            self._check_quorum(self.quorum, problems)
        if not any(m.chair for m in self.members):
            problems.append("members: no member is marked chair = true")
        for part in self.parts:
            for source in part.takes:
                if source not in SOURCES:
                    problems.append(
                        f"parts.{part.key}.takes: unknown source {source!r} "
                        f"(one of {', '.join(sorted(SOURCES))})"
                    )
            if part.capacity.total_minutes > self.schedule.length_minutes:
                problems.append(
                    f"parts.{part.key}.capacity: {part.capacity.total_minutes} minutes is longer "
                    f"than the meeting ({self.schedule.length_minutes} minutes)"
                )
        total = sum(p.capacity.total_minutes for p in self.parts)
        if total > self.schedule.length_minutes:
            problems.append(
                f"parts: together {total} minutes, longer than the meeting "
                f"({self.schedule.length_minutes} minutes)"
            )
        definitions = {d.type: d for d in states.DEFINITIONS}
        scheme_keys = {f.key for f in self.funding}
        referral_parts = {p.key for p in self.parts if "referrals" in p.takes}
        for dt in self.decision_types:
            where = f"decision_types.{dt.key}"
            if dt.part not in part_keys:
                problems.append(f"{where}.part: no part {dt.part!r}")
            elif dt.part not in referral_parts:
                problems.append(f"{where}.part: part {dt.part!r} does not take referrals")
            if dt.checklist is not None and self.checklist(dt.checklist) is None:
                problems.append(f"{where}.checklist: no checklist {dt.checklist!r}")
            if dt.funding_scheme is not None and dt.funding_scheme not in scheme_keys:
                problems.append(f"{where}.funding_scheme: no funding scheme {dt.funding_scheme!r}")
            definition = definitions.get(dt.journey_type)
            if definition is None:
                problems.append(
                    f"{where}.journey_type: unknown journey type {dt.journey_type!r} "
                    f"(one of {', '.join(sorted(definitions))})"
                )
                continue
            for state in dt.states:
                if state not in definition.state_names:
                    problems.append(f"{where}.states: {dt.journey_type} has no state {state!r}")
            events = [*(o.event for o in dt.outcomes), dt.on_pack_event]
            for event in events:
                if event is not None and definition.event(event) is None:
                    problems.append(f"{where}: {dt.journey_type} has no event {event!r}")
        if self.minutes.owner_role not in ALL_ROLES:
            problems.append(f"minutes.owner_role: unknown role {self.minutes.owner_role!r}")
        for scheme in self.funding:
            for band in scheme.bands:
                for role in band.roles:
                    if role not in ALL_ROLES:
                        problems.append(f"funding.{scheme.key}: unknown role {role!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_quorum(self, quorum: Quorum, problems: list[str]) -> None:
        seats = {m.key: m for m in self.members}
        _duplicates("quorum.seats", quorum.seats, problems)
        for key in quorum.seats:
            seat = seats.get(key)
            if seat is None:
                problems.append(f"quorum.seats: no member {key!r} (one of {', '.join(seats)})")
            elif seat.when_required:
                problems.append(
                    f"quorum.seats: {key!r} is needed only when required, so it cannot be "
                    "part of the quorum"
                )
        if quorum.at_least is not None:
            if quorum.at_least > len(seats):
                problems.append(
                    f"quorum.at_least: {quorum.at_least} is more than the panel's "
                    f"{len(seats)} seats"
                )
            elif quorum.at_least < len(set(quorum.seats)):
                problems.append(
                    f"quorum.at_least: {quorum.at_least} is fewer than the "
                    f"{len(set(quorum.seats))} seats it names"
                )

    # -- look-ups ----------------------------------------------------------------------

    def checklist(self, key: str) -> Checklist | None:
        """A checklist of this panel, or one of the built-in Leicestershire ones (A-D)."""
        for c in self.checklists:
            if c.key == key:
                return c
        builtin = builtin_checklists.ALL.get(key)
        if builtin is None:
            return None
        return Checklist(
            key=builtin.key,
            title=builtin.title,
            items=[ChecklistItem(key=k, text=t) for k, t in builtin.items],
        )

    def decision_type(self, key: str) -> DecisionType | None:
        """The decision type called ``key``."""
        return next((d for d in self.decision_types if d.key == key), None)

    def decision_types_for(self, journey_type: str, state: str | None = None) -> list[DecisionType]:
        """The decision types a journey of ``journey_type`` may be referred for in ``state``
        (``None``: in any state), in the file's order."""
        if state is None:
            return [d for d in self.decision_types if d.journey_type == journey_type]
        return [d for d in self.decision_types if d.takes(journey_type, state)]

    @property
    def referable_types(self) -> frozenset[str]:
        """The journey types some decision type takes."""
        return frozenset(d.journey_type for d in self.decision_types)

    def part(self, key: str) -> Part | None:
        """The part called ``key``."""
        return next((p for p in self.parts if p.key == key), None)

    def funding_scheme(self, key: str) -> FundingScheme | None:
        """The funding scheme called ``key``."""
        return next((f for f in self.funding if f.key == key), None)

    def chair(self) -> Member:
        """The chair's seat."""
        return next(m for m in self.members if m.chair)


def _duplicates(where: str, keys: list[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            problems.append(f"{where}: key {key!r} appears twice")
        seen.add(key)


def _format(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return out


def parse_panel(data: dict[str, Any], source: str = "<panel>") -> PanelConfig:
    """Validate a parsed configuration, or raise :class:`PanelConfigError` with every problem."""
    try:
        return PanelConfig.model_validate(data)
    except ValidationError as exc:
        raise PanelConfigError(source, _format(exc)) from None


def load_panel_file(path: Path | str) -> PanelConfig:
    """Read and validate a panel TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PanelConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PanelConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_panel(data, str(path))


def preset_names() -> list[str]:
    """The presets shipped with the package (one per Terms of Reference in the seeds)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


@lru_cache(maxsize=32)
def load_panel(name_or_path: str) -> PanelConfig:
    """A shipped preset by name (``wirral``...) or a TOML file by path; validated once."""
    candidate = PRESETS_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return load_panel_file(candidate)
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return load_panel_file(path)
    raise PanelConfigError(
        name_or_path,
        [f"no such panel preset or file (presets: {', '.join(preset_names())})"],
    )
