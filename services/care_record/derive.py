"""Facts derived from a child's care record, as of a date: pure functions the cohorts build on.

Conventions
-----------
* An episode covers ``DECOM <= day < DEC``: DEC is the day it ceased, which is the next
  episode's DECOM, so on that day the child is in the next episode (or has left care).
* Episodes starting after the ``as_of`` date are ignored, and an episode ending after it is
  treated as still open on it, so every function answers "as it stood on that day".
* A record that passed the rules has no overlapping episodes, so at most one episode is open
  on any day.

Placements, the DfE's way
-------------------------
The DfE's placement stability measure counts children looked after at 31 March "with 3 or more
placements during the year". Its placements are built from episodes as follows, and
:func:`placements` follows it:

* a new placement starts with an episode whose reason for new episode (RNE) is S (started to be
  looked after), P (change of placement and carer), B (change of legal status and placement),
  T (change of placement, same carer) or U (change of legal status and placement, same carer);
* an episode with RNE L (change of legal status only) continues the placement it follows;
* temporary placements (PLACE T0 to T4: hospital, holidays, respite of seven days or less) are
  not placements, and returning from one to the placement the child was in before it (same
  placement type, same placement postcode and URN) continues that placement;
* episodes of short breaks (LS V3 or V4) are not placements: the DfE leaves children on short
  breaks out of its stability measures.

:func:`placements_in_last_12_months` counts the placements the child was in on any day of the
12 months ending on the ``as_of`` date (for 31 March that is the DfE's collection year); the
placement held at the start of the window counts as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from services.care_record.records import ChildRecord, Episode
from states.ssda903 import NEW_PLACEMENT, SHORT_BREAKS, STARTED_CARE, TEMPORARY
from workflow.calendar import add_months

STABILITY_THRESHOLD = 3
"""The DfE measure: 3 or more placements during the year."""


@dataclass(frozen=True)
class PeriodOfCare:
    """A continuous spell of being looked after: consecutive episodes with no gap."""

    start: date
    end: date | None
    episodes: tuple[Episode, ...]


@dataclass(frozen=True)
class Placement:
    """One placement in the DfE's sense: the episodes spent with one carer in one place.

    ``temporary`` placements (T0 to T4) are listed so that nothing is lost, but never counted.
    """

    start: date
    end: date | None
    placement: str
    temporary: bool
    episodes: tuple[EpisodeFacts, ...]


def _as_of(record: ChildRecord, as_of: date) -> list[Episode]:
    """The episodes that had started by ``as_of``, any end after it removed."""
    seen: list[Episode] = []
    for episode in record.episodes:
        if episode.start > as_of:
            break
        if episode.end is not None and episode.end > as_of:
            episode = _reopened(episode)
        seen.append(episode)
    return seen


def _reopened(episode: Episode) -> Episode:
    return Episode(
        start=episode.start,
        end=None,
        reason_new=episode.reason_new,
        legal_status=episode.legal_status,
        placement=episode.placement,
        category_of_need=episode.category_of_need,
        provider=episode.provider,
        reason_ceased=None,
        reason_place_change=None,
        urn=episode.urn,
        home_postcode=episode.home_postcode,
        placement_postcode=episode.placement_postcode,
        source=episode.source,
    )


def open_episode(record: ChildRecord, on: date) -> Episode | None:
    """The episode the child was in on ``on``, or None if not looked after that day."""
    for episode in reversed(record.episodes):
        if episode.is_open_on(on):
            return episode
    return None


def current_legal_status(record: ChildRecord, as_of: date) -> str | None:
    """The legal status (LS code) of the episode open on ``as_of``."""
    episode = open_episode(record, as_of)
    return None if episode is None else episode.legal_status


def current_placement(record: ChildRecord, as_of: date) -> str | None:
    """The placement type (PLACE code) of the episode open on ``as_of``."""
    episode = open_episode(record, as_of)
    return None if episode is None else episode.placement


def is_looked_after(record: ChildRecord, on: date, *, include_short_breaks: bool = False) -> bool:
    """True if an episode was open on ``on``.

    A child on an agreed series of short breaks (LS V3 or V4) is looked after only during each
    break, and the DfE counts such children apart: they are not looked after here unless
    ``include_short_breaks``.
    """
    episode = open_episode(record, on)
    if episode is None:
        return False
    return include_short_breaks or episode.legal_status not in SHORT_BREAKS


def _starts_period(previous: Episode | None, episode: Episode) -> bool:
    if previous is None or episode.reason_new in STARTED_CARE:
        return True
    # A gap between episodes means the child left care and came back, even when the return's
    # RNE does not say S (an extract can start mid-period, or be miscoded).
    return previous.end is None or episode.start > previous.end


def _periods(episodes: list[Episode]) -> tuple[PeriodOfCare, ...]:
    groups: list[list[Episode]] = []
    previous: Episode | None = None
    for episode in episodes:
        if _starts_period(previous, episode):
            groups.append([])
        groups[-1].append(episode)
        previous = episode
    return tuple(PeriodOfCare(g[0].start, g[-1].end, tuple(g)) for g in groups)


def periods_of_care(record: ChildRecord) -> tuple[PeriodOfCare, ...]:
    """The child's periods of care: an episode with RNE S, or after a gap, starts a new one."""
    return _periods(list(record.episodes))


def current_period_of_care(record: ChildRecord, as_of: date) -> PeriodOfCare | None:
    """The period of care the child was in on ``as_of``, as it stood that day (so open)."""
    periods = _periods(_as_of(record, as_of))
    if periods and periods[-1].end is None:
        return periods[-1]
    return None


def latest_period_of_care(record: ChildRecord, as_of: date) -> PeriodOfCare | None:
    """The child's latest period of care as it stood on ``as_of``: the current one, or the
    one the child last left care from (None before the first episode)."""
    periods = _periods(_as_of(record, as_of))
    return periods[-1] if periods else None


def placement_start_of(record: ChildRecord, episode: Episode) -> date:
    """When the placement ``episode`` belongs to began (an episode of a legal status change
    only continues the placement before it), open or ended."""
    for placement in _placements(list(record.episodes)):
        if episode in placement.episodes:
            return placement.start
    return episode.start


def days_in_current_period(record: ChildRecord, as_of: date) -> int | None:
    """How many days the current period of care has lasted on ``as_of`` (0 on its first day)."""
    period = current_period_of_care(record, as_of)
    return None if period is None else (as_of - period.start).days


class EpisodeFacts(Protocol):
    """What the placement rules read of an episode: an :class:`Episode`, or a row of the
    cohorts' scan of every episode (``services.cohorts``), judged without building one."""

    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date | None: ...
    @property
    def reason_new(self) -> str: ...
    @property
    def legal_status(self) -> str: ...
    @property
    def placement(self) -> str: ...
    @property
    def placement_postcode(self) -> str | None: ...
    @property
    def urn(self) -> str | None: ...


def _same_place(a: EpisodeFacts, b: EpisodeFacts) -> bool:
    if a.placement != b.placement or a.placement_postcode != b.placement_postcode:
        return False
    return a.urn is None or b.urn is None or a.urn == b.urn


@dataclass
class _Building:
    start: date
    end: date | None
    placement: str
    temporary: bool
    episodes: list[EpisodeFacts]

    def freeze(self) -> Placement:
        return Placement(self.start, self.end, self.placement, self.temporary, tuple(self.episodes))


def _placements(episodes: Iterable[EpisodeFacts], as_of: date | None = None) -> list[_Building]:
    """The placements the episodes (in start order) make; with ``as_of``, as they stood that
    day: episodes starting after it left out, an end after it read as still open (what
    :func:`_as_of` does, here without copying an episode)."""
    built: list[_Building] = []
    current: _Building | None = None  # the last placement that was not temporary
    previous: EpisodeFacts | None = None
    previous_end: date | None = None
    for episode in episodes:
        start, end = episode.start, episode.end
        if as_of is not None:
            if start > as_of:
                break
            if end is not None and end > as_of:
                end = None
        if episode.legal_status in SHORT_BREAKS:
            previous, previous_end, current = episode, end, None
            continue
        # A new period of care (as _starts_period): nothing of an earlier one continues.
        if (
            previous is None
            or episode.reason_new in STARTED_CARE
            or previous_end is None
            or start > previous_end
        ):
            current = None
        if episode.placement in TEMPORARY:
            built.append(_Building(start, end, episode.placement, True, [episode]))
        elif current is not None and episode.reason_new not in NEW_PLACEMENT:
            current.episodes.append(episode)
            current.end, current.placement = end, episode.placement
        elif (
            current is not None
            and previous is not None
            and previous.placement in TEMPORARY
            and _same_place(current.episodes[-1], episode)
        ):
            current.episodes.append(episode)  # back from a temporary placement
            current.end = end
        else:
            current = _Building(start, end, episode.placement, False, [episode])
            built.append(current)
        previous, previous_end = episode, end
    return built


def placements(record: ChildRecord) -> tuple[Placement, ...]:
    """The child's placements in the DfE's sense (see the module's docstring), in start order."""
    return tuple(b.freeze() for b in _placements(record.episodes))


def _count_in_12_months(built: list[_Building], as_of: date) -> int:
    window_start = add_months(as_of, -12) + timedelta(days=1)
    return sum(1 for p in built if not p.temporary and (p.end is None or p.end > window_start))


def placements_in_last_12_months(record: ChildRecord, as_of: date) -> int:
    """How many placements the child was in on any day of the 12 months ending on ``as_of``."""
    return _count_in_12_months(_placements(record.episodes, as_of), as_of)


def three_or_more_placements(record: ChildRecord, as_of: date) -> bool:
    """The DfE's placement stability measure for the 12 months ending on ``as_of``."""
    return placements_in_last_12_months(record, as_of) >= STABILITY_THRESHOLD


def _placement_start(built: list[_Building], as_of: date) -> date | None:
    for i in range(len(built) - 1, -1, -1):
        placement = built[i]
        if placement.end is not None and placement.end <= as_of:
            continue
        if not placement.temporary:
            return placement.start
        run_start = placement.start
        for earlier in reversed(built[:i]):
            if earlier.temporary and earlier.end == run_start:
                run_start = earlier.start
                continue
            if not earlier.temporary and earlier.end == run_start:
                return earlier.start
            break
        return run_start
    return None


def current_placement_start(record: ChildRecord, as_of: date) -> date | None:
    """When the placement the child was in on ``as_of`` began.

    During a temporary placement the child is still counted in the placement they were in just
    before it (a temporary placement is an absence from it); a temporary placement that opens a
    period of care is its own start.
    """
    return _placement_start(_placements(record.episodes, as_of), as_of)


def placement_facts(episodes: Sequence[EpisodeFacts], as_of: date) -> tuple[date | None, int]:
    """:func:`current_placement_start` and :func:`placements_in_last_12_months` of a child's
    episodes (in start order) in one pass: what the cohorts ask of every child placed with
    parents, a connected person or semi-independently, or moved often (at national scale,
    tens of thousands of children, whose episodes need not be :class:`Episode` records)."""
    built = _placements(episodes, as_of)
    return _placement_start(built, as_of), _count_in_12_months(built, as_of)


def whole_months(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (31 Jan to 28 Feb is one month)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def months_in_current_placement(record: ChildRecord, as_of: date) -> int | None:
    """Whole months the child had been in their current placement on ``as_of``."""
    start = current_placement_start(record, as_of)
    return None if start is None else whole_months(start, as_of)
