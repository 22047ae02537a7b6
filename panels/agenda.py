"""Building an agenda: each candidate placed in its part within the part's capacity.

Pure and in memory (the service loads candidates in a few set-based queries), so building
agendas for a whole forward planner of hundreds of children takes milliseconds.
Order within a part: the chair's pinned items (in the chair's order), then items rolled from
an earlier meeting (oldest roll first), then the most urgent (earliest next deadline), then
first referred. What does not fit is rolled to the next meeting with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from panels.config import Part


@dataclass
class Candidate:
    """Something that could be discussed: a referral, or a child in a tracked cohort."""

    part: str
    source: str  # "referral" or the cohort key
    child_id: int
    journey_id: int | None
    referral_id: int | None = None
    minutes: int | None = None  # None: the part's time per item
    pinned_position: int | None = None
    rolled_since: date | None = None  # first meeting it was rolled from
    next_due: date | None = None  # the child's earliest open deadline
    order: int = 0
    cohorts: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int, int]:
        """One item per referral, and one per child and part for cohort items."""
        if self.referral_id is not None:
            return (self.part, 0, self.referral_id)
        return (self.part, 1, self.child_id)


@dataclass(frozen=True)
class Placed:
    """A candidate on the agenda."""

    candidate: Candidate
    position: int
    minutes: int


@dataclass(frozen=True)
class Rolled:
    """A candidate that did not fit, and why."""

    candidate: Candidate
    minutes: int
    reason: str


@dataclass
class PartAgenda:
    """One part's items and how much of its time they use."""

    key: str
    title: str
    capacity_minutes: int
    used_minutes: int = 0
    items: list[Placed] = field(default_factory=list)


@dataclass
class Agenda:
    """A meeting's agenda, part by part, and what rolls to the next meeting."""

    parts: list[PartAgenda]
    rolled: list[Rolled]


_FAR = date.max


def _sort_key(c: Candidate) -> tuple[int, int, date, date, int]:
    pinned = c.pinned_position if c.pinned_position is not None else 1_000_000
    return (
        pinned,
        0 if c.referral_id is not None else 1,
        c.rolled_since or _FAR,
        c.next_due or _FAR,
        c.order,
    )


def _merge(candidates: Iterable[Candidate]) -> dict[str, list[Candidate]]:
    """Group by part; a child in several cohorts of one part is one item naming them all."""
    by_key: dict[tuple[str, int, int], Candidate] = {}
    for c in candidates:
        seen = by_key.get(c.key)
        if seen is None:
            if not c.cohorts and c.referral_id is None:
                c.cohorts = [c.source]
            by_key[c.key] = c
            continue
        for cohort in c.cohorts or [c.source]:
            if cohort not in seen.cohorts:
                seen.cohorts.append(cohort)
        if c.next_due and (seen.next_due is None or c.next_due < seen.next_due):
            seen.next_due = c.next_due
        if c.pinned_position is not None and seen.pinned_position is None:
            seen.pinned_position = c.pinned_position
    grouped: dict[str, list[Candidate]] = {}
    for c in by_key.values():
        grouped.setdefault(c.part, []).append(c)
    return grouped


def _item_minutes(part: Part, c: Candidate) -> int:
    unit = part.capacity.unit_minutes
    wanted = c.minutes or unit
    if part.capacity.slots is not None:
        # A slot part gives whole slots: a 25-minute item in 15-minute slots takes two.
        return -(-wanted // unit) * unit
    return wanted


def build_agenda(parts: Sequence[Part], candidates: Iterable[Candidate]) -> Agenda:
    """Place candidates part by part within capacity; roll the rest with the reason."""
    grouped = _merge(candidates)
    agenda = Agenda(parts=[], rolled=[])
    for part in parts:
        capacity = part.capacity.total_minutes
        pa = PartAgenda(part.key, part.title, capacity)
        for c in sorted(grouped.get(part.key, ()), key=_sort_key):
            minutes = _item_minutes(part, c)
            # The chair's pins always go on (the chair decides to run over); others must fit.
            if c.pinned_position is not None or pa.used_minutes + minutes <= capacity:
                pa.items.append(Placed(c, len(pa.items) + 1, minutes))
                pa.used_minutes += minutes
            else:
                agenda.rolled.append(
                    Rolled(
                        c,
                        minutes,
                        f"{part.title} is full ({part.capacity.describe()}: "
                        f"{pa.used_minutes} of {capacity} minutes taken); "
                        "rolled to the next meeting.",
                    )
                )
        agenda.parts.append(pa)
    return agenda
