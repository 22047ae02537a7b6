"""The rules one child's rows must pass: all of them apply, or none.

:func:`check_child` takes every row of one child (``tables.ChildRows``) and gives either the
clean :class:`~services.care_record.records.ChildRecord` (:class:`Accepted`) or every problem
found (:class:`Rejected`). A single rejected row withholds all the child's rows, so a child is
never half-imported.

Rules (issue 13 item 3)
-----------------------
* a missing child id (found by the reader, which cannot group such a row with any child);
* a date that is not a date: ``dd/mm/yyyy`` (day and month may have one digit) or ISO
  ``yyyy-mm-dd`` (an ISO time after it is allowed and dropped); a required date left blank;
* an unknown code for that collection year, or a required code left blank;
* an end before its start: DEC before DECOM, DATE_PLACED_CEASED before DATE_PLACED,
  DATE_MATCH before DATE_INT;
* overlapping episodes of one child;
* a date of birth after an episode's start;
* and, because the record cannot be built without them: a child with no header row, and two
  header rows giving different dates of birth.

Which collection year a row belongs to
--------------------------------------
Decided by its dates, a collection year running from 1 April to 31 March:

* an episode belongs to every year from the one its DECOM falls in to the one its DEC falls in
  (to the year of ``as_of`` while it is open): each year's return lists the episodes open in
  that year, coded by that year's lists, so its codes are accepted if any of those years lists
  them. REC and REASON_PLACE_CHANGE are recorded when the episode ends, so a closed episode's
  are judged by DEC's year alone. A code that stops on a day (P2 after 28 October 2023) is
  refused on an episode still open after that day;
* a review belongs to the year of REVIEW; a should-be-placed decision's reason for ending to
  the year of DATE_PLACED_CEASED (else DATE_PLACED); adoption matching codes to DATE_MATCH's;
* the header and previous permanence carry no date of their own (a date of birth says nothing
  about the year of the return): they belong to every year the child's other rows span, from
  the earliest date to the latest (to ``as_of`` when an episode is open), and to any year when
  the child has no dated row;
* years before 2017/18 are judged by 2017/18's lists and years after the current
  specification by the current one (``states.ssda903.clamp``).

The same fact in several files
------------------------------
Several years' files can be given at once, so the same episode, review or decision can come
twice. Episodes are the same when they start on the same day: a closed copy wins over an open
one (the later extract has closed it), otherwise the copy from the file given later wins. Two
episodes of one child starting on the same day in the same file overlap. Reviews are the same
when held on the same day, decisions when made on the same day (a copy with its reversal wins),
and the later file's header, UASC, previous permanence and allocation win. Give the files
oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from services.care_record.records import (
    AdoptionDecision,
    AdoptionMatch,
    Allocation,
    ChildRecord,
    Episode,
    PartialDate,
    PreviousPermanence,
    Review,
    Source,
    Uasc,
)
from services.care_record.rejections import Rejection
from services.care_record.tables import ChildRows, RawRow, TableKind
from states.ssda903 import (
    CODE_LISTS,
    CURRENT_YEAR,
    FIRST_YEAR,
    VALID_UNTIL,
    CollectionYear,
    clamp,
    is_valid_between,
)


@dataclass(frozen=True)
class Accepted:
    """Every row of the child passed: the clean record."""

    record: ChildRecord

    @property
    def child_id(self) -> str:
        """The return's child id."""
        return self.record.child_id


@dataclass(frozen=True)
class Rejected:
    """Some row of the child failed: every problem found, and how many rows were withheld."""

    child_id: str
    rejections: tuple[Rejection, ...]
    rows: int


ChildOutcome = Accepted | Rejected


_ISO_TIME = re.compile(r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?")


def _digits(*parts: str) -> bool:
    return all(p.isascii() and p.isdigit() for p in parts)


def parse_date(text: str) -> date | None:
    """``dd/mm/yyyy`` (or ``d/m/yyyy``) or ISO ``yyyy-mm-dd``; None when it is not a date."""
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 3:
            return None
        day, month, year = parts
        if not (_digits(day, month, year) and len(day) <= 2 and len(month) <= 2):
            return None
        if len(year) != 4:
            return None
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            return None
    if len(text) >= 10 and text[4:5] == "-" and text[7:8] == "-":
        year, month, day = text[0:4], text[5:7], text[8:10]
        rest = text[10:]
        if not _digits(year, month, day) or (rest and _ISO_TIME.fullmatch(rest) is None):
            return None
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            return None
    return None


def parse_partial_date(text: str) -> PartialDate | None:
    """A ``dd/mm/yyyy`` date where any part may be ``ZZ`` (unknown); None if not a date."""
    parts = text.split("/")
    if len(parts) != 3 or not text.isascii():
        return None
    known: list[int | None] = []
    for part, width in zip(parts, (2, 2, 4), strict=True):
        if part.upper() == "Z" * width:
            known.append(None)
        elif part.isdigit() and 1 <= len(part) <= width and (width != 4 or len(part) == 4):
            known.append(int(part))
        else:
            return None
    day, month, year = known
    if day is not None and month is not None and year is not None:
        return PartialDate(year=year, month=month, day=day) if parse_date(text) else None
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    return PartialDate(year=year, month=month, day=day)


def years_between(first: date, last: date) -> tuple[CollectionYear, ...]:
    """The collection years from ``first``'s to ``last``'s, clamped to the years held."""
    start, end = _span(first, last)
    return tuple(CollectionYear(y) for y in range(start.start, end.start + 1))


_Span = tuple[CollectionYear, CollectionYear]
"""The first and last collection year a row belongs to (clamped to the years held)."""


def _span(first: date, last: date) -> _Span:
    low, high = (first, last) if first <= last else (last, first)
    return clamp(CollectionYear.of(low)), clamp(CollectionYear.of(high))


_ANY_YEAR: _Span = (FIRST_YEAR, CURRENT_YEAR)


def _span_words(span: _Span) -> str:
    first, last = span
    return str(first) if first == last else f"{first} to {last}"


def _validity_words(field_name: str, code: str) -> str:
    entry = CODE_LISTS[field_name].get(code)
    if entry is None:
        return ""
    if entry.last is None:
        return f" (valid from {entry.first})"
    if entry.first == entry.last:
        return f" (valid in {entry.first} only)"
    return f" (valid {entry.first} to {entry.last})"


@dataclass
class _Check:
    """The rejections found so far for one child, and helpers that add to them."""

    child_id: str
    as_of: date
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, row: RawRow, column: str, reason: str) -> None:
        self.rejections.append(
            Rejection.of(
                file=row.file,
                row=row.row,
                column=column,
                raw_value=row.get(column),
                reason=reason,
                child_id=self.child_id,
            )
        )

    def day(self, row: RawRow, column: str, *, required: bool, what: str) -> date | None:
        text = row.get(column)
        if not text:
            if required:
                self.reject(row, column, f"missing {what}")
            return None
        parsed = parse_date(text)
        if parsed is None:
            self.reject(row, column, "not a date")
        return parsed

    def code(self, row: RawRow, column: str, span: _Span | None, *, required: bool) -> str | None:
        """The code in ``column`` if some year of ``span`` (None: any year) lists it."""
        value = row.get(column)
        if not value:
            if required:
                self.reject(row, column, f"missing {column} code")
            return None
        if not is_valid_between(column, value, *(span or _ANY_YEAR)):
            where = _span_words(span) if span else "any year"
            self.reject(
                row, column, f"unknown {column} code for {where}{_validity_words(column, value)}"
            )
        return value

    def text(self, row: RawRow, column: str) -> str | None:
        return row.get(column) or None


@dataclass
class _EpisodeRow:
    """An episode row whose dates are sound, with its episode if the rest of it is too."""

    start: date
    end: date | None
    row: RawRow
    order: int
    episode: Episode | None


def _source(row: RawRow) -> Source:
    return Source(file=row.file, row=row.row)


def _header_dates(check: _Check, rows: Sequence[RawRow]) -> tuple[date | None, date | None]:
    """The child's date of birth (None if unknown) and the last header's mother's child's."""
    born: date | None = None
    first_at: RawRow | None = None
    mothers_child: date | None = None
    for row in rows:
        dob = check.day(row, "DOB", required=True, what="date of birth")
        mothers_child = check.day(row, "MC_DOB", required=False, what="mother's child's birth")
        if dob is None:
            continue
        if born is None:
            born, first_at = dob, row
        elif dob != born and first_at is not None:
            check.reject(row, "DOB", f"date of birth differs from the one at {_source(first_at)}")
    return born, mothers_child


def _episodes(check: _Check, rows: Sequence[RawRow], born: date | None) -> list[_EpisodeRow]:
    """Each episode row checked on its own; those with sound dates go on to the overlap check
    (a row refused for a code still took up its days)."""
    parsed: list[_EpisodeRow] = []
    for order, row in enumerate(rows):
        before = len(check.rejections)
        start = check.day(row, "DECOM", required=True, what="start date")
        end = check.day(row, "DEC", required=False, what="end date")
        if start is not None and end is not None and end < start:
            check.reject(row, "DEC", f"ends before it starts (DECOM {start:%d/%m/%Y})")
        if start is not None and born is not None and start < born:
            check.reject(row, "DECOM", "starts before the child's date of birth")
        anchor = start or end or check.as_of
        span = _span(anchor, end or max(anchor, check.as_of))
        ending = _span(end, end) if end is not None else span
        reason_new = check.code(row, "RNE", span, required=True)
        legal_status = check.code(row, "LS", span, required=True)
        place_checked = len(check.rejections)
        placement = check.code(row, "PLACE", span, required=True)
        place_known = len(check.rejections) == place_checked
        need = check.code(row, "CIN", span, required=False)
        provider = check.code(row, "PLACE_PROVIDER", span, required=False)
        ceased = check.code(row, "REC", ending, required=False)
        change = check.code(row, "REASON_PLACE_CHANGE", ending, required=False)
        if placement is not None and place_known:
            cutoff = VALID_UNTIL.get(("PLACE", placement))
            if cutoff is not None and (end is None or end > cutoff):
                check.reject(
                    row, "PLACE", f"not valid for a placement open after {cutoff:%d/%m/%Y}"
                )
        if start is None or (end is None and row.get("DEC")) or (end is not None and end < start):
            continue
        sound = len(check.rejections) == before
        if not sound or reason_new is None or legal_status is None or placement is None:
            parsed.append(_EpisodeRow(start, end, row, order, None))
            continue
        parsed.append(
            _EpisodeRow(
                start,
                end,
                row,
                order,
                Episode(
                    start=start,
                    end=end,
                    reason_new=reason_new,
                    legal_status=legal_status,
                    placement=placement,
                    category_of_need=need,
                    provider=provider,
                    reason_ceased=ceased,
                    reason_place_change=change,
                    urn=check.text(row, "URN"),
                    home_postcode=check.text(row, "HOME_POST"),
                    placement_postcode=check.text(row, "PL_POST"),
                    source=_source(row),
                ),
            )
        )
    return parsed


def _merge_episodes(check: _Check, parsed: Iterable[_EpisodeRow]) -> list[_EpisodeRow]:
    """One episode per start day (see "The same fact in several files"), then overlaps."""
    by_start: dict[date, list[_EpisodeRow]] = {}
    for item in parsed:
        by_start.setdefault(item.start, []).append(item)
    kept: list[_EpisodeRow] = []
    for start in sorted(by_start):
        copies = by_start[start]
        seen_files: dict[str, _EpisodeRow] = {}
        for item in copies:
            twin = seen_files.get(item.row.file)
            if twin is not None:
                check.reject(
                    item.row,
                    "DECOM",
                    f"overlaps the episode at {_source(twin.row)}, which starts the same day",
                )
            else:
                seen_files[item.row.file] = item
        kept.append(max(copies, key=lambda c: (c.end is not None, c.order)))
    for earlier, later in pairwise(kept):
        if earlier.end is None:
            check.reject(
                later.row,
                "DECOM",
                f"overlaps the episode at {_source(earlier.row)}, which is still open",
            )
        elif later.start < earlier.end:
            check.reject(
                later.row,
                "DECOM",
                f"overlaps the episode at {_source(earlier.row)}, "
                f"which ends {earlier.end:%d/%m/%Y}",
            )
    return kept


def _reviews(check: _Check, rows: Sequence[RawRow]) -> list[Review]:
    found: dict[date, Review] = {}
    for row in rows:
        held = check.day(row, "REVIEW", required=True, what="review date")
        years = _span(held, held) if held is not None else None
        code = check.code(row, "REVIEW_CODE", years, required=True)
        if held is not None and code is not None:
            found[held] = Review(held_on=held, participation=code, source=_source(row))
    return [found[day] for day in sorted(found)]


def _decisions(check: _Check, rows: Sequence[RawRow]) -> list[AdoptionDecision]:
    found: dict[date, AdoptionDecision] = {}
    for row in rows:
        decided = check.day(row, "DATE_PLACED", required=True, what="decision date")
        ceased = check.day(row, "DATE_PLACED_CEASED", required=False, what="end date")
        if decided is not None and ceased is not None and ceased < decided:
            check.reject(
                row, "DATE_PLACED_CEASED", f"ends before it starts (DATE_PLACED {decided:%d/%m/%Y})"
            )
        on = ceased or decided
        years = _span(on, on) if on is not None else None
        reason = check.code(row, "REASON_PLACED_CEASED", years, required=False)
        if decided is None:
            continue
        decision = AdoptionDecision(
            decided_on=decided, ceased_on=ceased, reason_ceased=reason, source=_source(row)
        )
        other = found.get(decided)
        if other is None or decision.ceased_on is not None or other.ceased_on is None:
            found[decided] = decision
    return [found[day] for day in sorted(found)]


def _matches(check: _Check, rows: Sequence[RawRow]) -> list[AdoptionMatch]:
    found: dict[date, AdoptionMatch] = {}
    for row in rows:
        decided = check.day(row, "DATE_INT", required=True, what="decision date")
        matched = check.day(row, "DATE_MATCH", required=True, what="matching date")
        if decided is not None and matched is not None and matched < decided:
            check.reject(
                row,
                "DATE_MATCH",
                f"matched before the decision to place for adoption (DATE_INT {decided:%d/%m/%Y})",
            )
        on = matched or decided
        years = _span(on, on) if on is not None else None
        codes = {
            column: check.code(row, column, years, required=False)
            for column in ("FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR")
        }
        if decided is None or matched is None:
            continue
        found[decided] = AdoptionMatch(
            decided_on=decided,
            matched_on=matched,
            foster_carers=codes["FOSTER_CARE"],
            number_of_adopters=codes["NB_ADOPTR"],
            adopters_sex=codes["SEX_ADOPTR"],
            adopters_legal_status=codes["LS_ADOPTR"],
            source=_source(row),
        )
    return [found[day] for day in sorted(found)]


def _uasc(check: _Check, rows: Sequence[RawRow]) -> Uasc | None:
    status: Uasc | None = None
    for row in rows:
        ceased = check.day(row, "DUC", required=False, what="date UASC status ceased")
        status = Uasc(ceased_on=ceased, source=_source(row))
    return status


def _previous_permanence(
    check: _Check, rows: Sequence[RawRow], span: _Span | None
) -> PreviousPermanence | None:
    found: PreviousPermanence | None = None
    for row in rows:
        kind = check.code(row, "PREV_PERM", span, required=False)
        text = row.get("DATE_PERM")
        ordered = parse_partial_date(text) if text else None
        if text and ordered is None:
            check.reject(row, "DATE_PERM", "not a date")
        found = PreviousPermanence(
            kind=kind,
            local_authority=check.text(row, "LA_PERM"),
            ordered_on=ordered,
            source=_source(row),
        )
    return found


def _allocation(check: _Check, rows: Sequence[RawRow]) -> Allocation | None:
    found: Allocation | None = None
    for row in rows:
        reference = row.get("REFERENCE")
        if not reference:
            check.reject(row, "REFERENCE", "missing case reference")
            continue
        found = Allocation(
            reference=reference,
            given_name=check.text(row, "GIVEN_NAME"),
            family_name=check.text(row, "FAMILY_NAME"),
            team=check.text(row, "TEAM"),
            social_worker=check.text(row, "SOCIAL_WORKER"),
            source=_source(row),
        )
    return found


def _child_span(
    as_of: date,
    episodes: Sequence[_EpisodeRow],
    reviews: Sequence[Review],
    decisions: Sequence[AdoptionDecision],
    matches: Sequence[AdoptionMatch],
) -> _Span | None:
    """The years the child's dated rows cover (None when it has none: any year will do)."""
    days: list[date] = []
    for item in episodes:
        days.append(item.start)
        days.append(item.end if item.end is not None else as_of)
    days.extend(r.held_on for r in reviews)
    for d in decisions:
        days.append(d.decided_on)
        if d.ceased_on is not None:
            days.append(d.ceased_on)
    for m in matches:
        days.extend((m.decided_on, m.matched_on))
    if not days:
        return None
    return _span(min(days), max(days))


def _header_codes(
    check: _Check, rows: Sequence[RawRow], span: _Span | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """Sex, ethnicity, UPN and mother of the last header row, every row's codes checked."""
    sex = ethnicity = upn = mother = None
    for row in rows:
        sex = check.code(row, "SEX", span, required=True)
        ethnicity = check.code(row, "ETHNIC", span, required=True)
        mother = check.code(row, "MOTHER", span, required=False)
        upn = row.get("UPN") or None
        unknown_upn = upn is not None and re.fullmatch(r"UN\d+", upn) is not None
        if unknown_upn and not is_valid_between("UPN_UNKNOWN", upn or "", *(span or _ANY_YEAR)):
            check.reject(row, "UPN", "unknown code for a UPN not known (UN1 to UN5)")
    return sex, ethnicity, upn, mother


def check_child(rows: ChildRows, *, as_of: date) -> ChildOutcome:
    """All of one child's rows checked together: the clean record, or every rejection.

    ``as_of`` is the day the return is judged on: an open episode is taken to run to it.
    """
    check = _Check(rows.child_id, as_of)
    headers = rows.of(TableKind.HEADER)
    born, mothers_child = _header_dates(check, headers)
    parsed = _episodes(check, rows.of(TableKind.EPISODES), born)
    episodes = _merge_episodes(check, parsed)
    reviews = _reviews(check, rows.of(TableKind.REVIEWS))
    decisions = _decisions(check, rows.of(TableKind.PLACED_FOR_ADOPTION))
    matches = _matches(check, rows.of(TableKind.AD1))
    uasc = _uasc(check, rows.of(TableKind.UASC))
    span = _child_span(as_of, episodes, reviews, decisions, matches)
    previous = _previous_permanence(check, rows.of(TableKind.PREVIOUS_PERMANENCE), span)
    allocation = _allocation(check, rows.of(TableKind.ALLOCATION))
    sex, ethnicity, upn, mother = _header_codes(check, headers, span)
    if not headers and rows.rows:
        first = rows.rows[0]
        check.rejections.insert(
            0,
            Rejection.of(
                file=first.file,
                row=first.row,
                column="CHILD",
                raw_value=rows.child_id,
                reason="no header row for this child in the files given",
                child_id=rows.child_id,
            ),
        )
    if check.rejections:
        return Rejected(rows.child_id, tuple(check.rejections), len(rows.rows))
    if born is None or sex is None or ethnicity is None:  # pragma: no cover - rejected above
        raise AssertionError("a header without date of birth, sex or ethnicity passed the rules")
    record = ChildRecord(
        child_id=rows.child_id,
        sex=sex,
        ethnicity=ethnicity,
        date_of_birth=born,
        upn=upn,
        mother=mother,
        mothers_child_born_on=mothers_child,
        episodes=tuple(item.episode for item in episodes if item.episode is not None),
        reviews=tuple(reviews),
        adoption_decisions=tuple(decisions),
        adoption_matches=tuple(matches),
        uasc=uasc,
        previous_permanence=previous,
        allocation=allocation,
        header_source=_source(headers[-1]),
    )
    return Accepted(record)
