"""The child's care record as the SSDA903 return gives it: frozen, typed, database-free.

A :class:`ChildRecord` is built only from rows that all passed the rules (``rules.py``): it is
the clean form of one child's header, episodes, reviews, should-be-placed-for-adoption
decisions, adoption matching, UASC status, previous permanence and allocation.

Personal data (date of birth, UPN, the mother's child's date of birth, postcodes, names) is
held because the service needs it, but is left out of every ``repr`` so that logging a record
by accident does not write it to a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a fact came from: the file as given and its row (the column titles are row 1)."""

    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file} row {self.row}"


@dataclass(frozen=True, kw_only=True)
class Episode:
    """One episode of care: a period with one legal status and one placement."""

    start: date
    end: date | None
    reason_new: str
    legal_status: str
    placement: str
    category_of_need: str | None
    provider: str | None
    reason_ceased: str | None
    reason_place_change: str | None
    urn: str | None
    home_postcode: str | None = field(repr=False)
    placement_postcode: str | None = field(repr=False)
    source: Source

    def is_open_on(self, day: date) -> bool:
        """True if the child was in this episode on ``day``.

        The end date is the day the episode ceased, which is the next episode's start date,
        so an episode covers ``start <= day < end``.
        """
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, kw_only=True)
class Review:
    """A looked-after review and how the child took part (REVIEW_CODE)."""

    held_on: date
    participation: str
    source: Source


@dataclass(frozen=True, kw_only=True)
class AdoptionDecision:
    """A decision that the child should be placed for adoption, and its reversal if any."""

    decided_on: date
    ceased_on: date | None
    reason_ceased: str | None
    source: Source


@dataclass(frozen=True, kw_only=True)
class AdoptionMatch:
    """Adoption matching (AD1): the should-be-placed decision date and the matching date."""

    decided_on: date
    matched_on: date
    foster_carers: str | None
    number_of_adopters: str | None
    adopters_sex: str | None
    adopters_legal_status: str | None
    source: Source


@dataclass(frozen=True, kw_only=True)
class Uasc:
    """The child was an unaccompanied asylum-seeking child; the date that status ceased."""

    ceased_on: date | None
    source: Source


@dataclass(frozen=True, kw_only=True)
class PartialDate:
    """A date whose parts may be unknown (the return writes ZZ for an unknown part)."""

    year: int | None
    month: int | None
    day: int | None

    def as_date(self) -> date | None:
        """The full date when every part is known."""
        if self.year is None or self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)


@dataclass(frozen=True, kw_only=True)
class PreviousPermanence:
    """A permanence order the child had before this period of care (PREV_PERM)."""

    kind: str | None
    local_authority: str | None
    ordered_on: PartialDate | None
    source: Source


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """Who the child is in the case management system: reference, name, team, worker."""

    reference: str
    given_name: str | None = field(repr=False)
    family_name: str | None = field(repr=False)
    team: str | None
    social_worker: str | None
    source: Source


@dataclass(frozen=True, kw_only=True)
class ChildRecord:
    """One child's clean care record. Episodes are in start order, reviews by date."""

    child_id: str
    sex: str
    ethnicity: str
    date_of_birth: date = field(repr=False)
    upn: str | None = field(repr=False)
    mother: str | None
    mothers_child_born_on: date | None = field(repr=False)
    episodes: tuple[Episode, ...]
    reviews: tuple[Review, ...]
    adoption_decisions: tuple[AdoptionDecision, ...]
    adoption_matches: tuple[AdoptionMatch, ...]
    uasc: Uasc | None
    previous_permanence: PreviousPermanence | None
    allocation: Allocation | None
    header_source: Source
