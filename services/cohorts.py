"""The cohorts the panels track: each defined once, computed from the care record as of a date.

A cohort is one :class:`Cohort`: its name (what presets, the API and the pages call it), its
title, its rule in words, its thresholds and the sentence shown for each child in it (why the
child is there). :data:`COHORTS` holds them all; a panel preset names the ones its agenda
parts take, and the API and the cohort pages list them.

Where membership comes from
---------------------------
* **The care record** (the SSDA903 return, ``services/care_record``) for the cohorts of issue 13
  item 6: unregulated and semi-independent placements, connected-person placements beyond 16
  weeks, placement stability (the DfE's measure and the long-term one), section 20, interim
  care orders, placed with parents over 12 months, looked after over 12 months without a
  long-term placement and the adoption tracker. These are true *as of any date*: the episodes,
  decisions and carer approvals on record on that day.
* **The journeys**, for a child without a care record (typed in by hand): the same cohorts
  where a journey says as much (a placed-with-parents journey, proceedings at the interim care
  order, the hand-set legal status and looked-after date), exactly as before the record
  existed; and the journey-only cohorts (breached deadlines, care proceedings, special
  guardianship plans, long-term matching, plan required by the second review, placed with
  parents). Journeys hold their state now, so for a past date only their dates move.

Speed: a handful of set-based reads for the whole authority: every episode to the day in one
ordered scan, judged in one pass (the current episode of every child with the start of its
period of care and of its legal status, the stability pre-filter; the window-function
statements that say the same are kept as the reference, held to it by
``tests/services/test_cohorts_scan.py``), the decisions and approvals on the day, the
journeys, the adoption plans and earliest open deadlines picked in SQL. The placement rules
(``services.care_record.derive``, where the DfE's rules live, once) judge the scanned rows of
only the children whose placement questions need them. Pages of today read the stored
snapshot instead (``services.cohort_snapshot``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Date, Engine, and_, case, func, or_, select

import states
from services import audit
from services.access import Principal, child_refusal
from services.care_record import derive
from services.care_record.models import (
    CARE_ADOPTION_DECISIONS,
    CARE_CHILDREN,
    CARE_EPISODES,
    CARER_APPROVALS,
)
from services.care_record.records import ChildRecord, Episode, Source
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.deadlines import judged
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from states import deadline_kinds, ssda903
from states.roles import PANEL_ADMIN, PANEL_CHAIR
from workflow.calendar import add_months
from workflow.errors import EngineError, InvalidData

# The episode's facts the placement rules judge, as both the scan and the reference read them.
_EPISODE_COLUMNS = (
    CARE_EPISODES.c.child_pk,
    CARE_EPISODES.c.start,
    CARE_EPISODES.c.end,
    CARE_EPISODES.c.reason_new,
    CARE_EPISODES.c.legal_status,
    CARE_EPISODES.c.placement,
    CARE_EPISODES.c.placement_postcode,
    CARE_EPISODES.c.urn,
)
CONNECTED_WEEKS = 16
"""Regulation 24: a connected person's temporary approval as foster carer lasts 16 weeks."""
EXTENSION_WEEKS = 8
"""Regulation 25: the temporary approval may be extended once, by up to 8 weeks."""
STABILITY_PLACEMENTS = derive.STABILITY_THRESHOLD
"""The DfE's placement stability measure: 3 or more placements in the 12 months."""
LONG_TERM_AGE = 16
LONG_TERM_CARE_MONTHS = 30
LONG_TERM_PLACEMENT_MONTHS = 24
DRIFT_MONTHS = 12
"""Placed with parents, or looked after without a long-term placement, for over 12 months."""

RECORD = "record"
JOURNEYS = "journeys"
RECORD_ELSE_JOURNEYS = "record, else journeys"


@dataclass(frozen=True)
class Cohort:
    """One cohort: its rule in words, thresholds and the sentences that say why a child is in.

    ``sentences`` are format strings over the facts the rule found (``{since}`` and the other
    dates already in words); ``"record"`` is the sentence for a child found from the care
    record, ``"journey"`` for one found from a journey, and a cohort with several ways in
    names each.
    """

    name: str
    title: str
    rule: str
    source: str
    sentences: Mapping[str, str]
    thresholds: Mapping[str, int] = field(default_factory=dict)

    def why(self, variant: str, **facts: Any) -> str:
        """The sentence shown for a child in this cohort."""
        return self.sentences[variant].format(**facts)


COHORTS: tuple[Cohort, ...] = (
    Cohort(
        "adoption_tracker",
        "Children with an adoption plan or a placement order",
        "A placement order (legal status E1), a decision that the child should be placed for "
        "adoption (not since reversed), a primary or contingency plan of adoption in the "
        "permanence planning journey, or an adoption journey under way.",
        RECORD_ELSE_JOURNEYS,
        {
            "placement_order": "Placement order since {since}.",
            "decision": "Should be placed for adoption: decided on {since}.",
            "plan": "Permanence plan: adoption as the {which} plan, recorded on {since}.",
            "journey": "Adoption: {state}; started on {since}.",
            "legal_status": "Legal status recorded as a placement order.",
        },
    ),
    Cohort(
        "unregulated_placements",
        "Unregulated and semi-independent placements",
        "Looked after and placed in semi-independent or supported accommodation: PLACE H5 "
        "(semi-independent living, not regulated as a children's home, to 2024/25) or its "
        "successor K3 (supported accommodation registered with Ofsted); since the start of that "
        "placement.",
        RECORD,
        {"record": "{placement} since {since}: {length} in this placement."},
    ),
    Cohort(
        "connected_person_16_weeks",
        "Connected-person placements beyond 16 weeks (regulations 24 and 25)",
        "Placed in foster care with a relative or friend (PLACE U1, U2 or U3) for longer than "
        "16 weeks, the limit of a temporary approval under regulation 24 (extendable once by up "
        "to 8 weeks under regulation 25), and no carer approval recorded by the panel since the "
        "placement began.",
        RECORD,
        {
            "record": "Placed with a connected person ({placement}) since {since}: {duration}, "
            "beyond the {limit} weeks of a temporary approval{extension}; no carer "
            "approval is recorded."
        },
        {"weeks": CONNECTED_WEEKS, "extension_weeks": EXTENSION_WEEKS},
    ),
    Cohort(
        "placement_stability",
        "Three or more placements in the last 12 months",
        "Looked after, and in 3 or more placements during the 12 months to the date (the DfE's "
        "placement stability measure: temporary placements and short breaks are not counted, "
        "and a change of legal status alone is not a move).",
        RECORD,
        {
            "record": "{count} placements in the 12 months to {as_of}; in the current placement "
            "since {since}."
        },
        {"placements": STABILITY_PLACEMENTS, "months": 12},
    ),
    Cohort(
        "long_term_stability",
        "Long-term stability: under 16, looked after 2.5 years, placement under 2 years",
        "Under 16, looked after for 2.5 years or more in the current period of care, and fewer "
        "than 2 years in the current placement (the DfE's long-term stability measure, the "
        "children who do not meet it).",
        RECORD,
        {
            "record": "Aged {age}, looked after since {period_start} ({care}), in the current "
            "placement since {since} ({length}): fewer than 2 years."
        },
        {
            "age": LONG_TERM_AGE,
            "care_months": LONG_TERM_CARE_MONTHS,
            "placement_months": LONG_TERM_PLACEMENT_MONTHS,
        },
    ),
    Cohort(
        "section_20",
        "Children accommodated under section 20",
        "Looked after with legal status V2 (accommodated under section 20, a single period); not "
        "the short breaks V3 and V4. Since the start of that legal status. Without a care "
        "record: the child's legal status says section 20.",
        RECORD_ELSE_JOURNEYS,
        {
            "record": "Accommodated under section 20 since {since}: {length}.",
            "journey": "Legal status recorded as section 20; looked after since {since}.",
        },
    ),
    Cohort(
        "interim_care_orders",
        "Children subject to an interim care order",
        "Looked after with legal status C1 (interim care order), from the order's date. Without "
        "a care record: care proceedings at the interim care order or later, before the final "
        "hearing's outcome.",
        RECORD_ELSE_JOURNEYS,
        {
            "record": "Interim care order since {since}: {length}.",
            "journey": "Care proceedings: {state}; issued on {since}.",
        },
    ),
    Cohort(
        "placed_with_parents_12m",
        "Placed with parents on a care order for more than 12 months",
        "Placed with parents or others with parental responsibility (PLACE P1) for more than 12 "
        "months. Without a care record: a placed-with-parents journey that began more than 12 "
        "months ago.",
        RECORD_ELSE_JOURNEYS,
        {
            "record": "Placed with parents since {since}: {length}, more than 12 months.",
            "journey": "Placed with parents since {since}: {length}, more than 12 months.",
        },
        {"months": DRIFT_MONTHS},
    ),
    Cohort(
        "looked_after_12m_no_plan",
        "Looked after more than 12 months without an approved long-term plan",
        "Looked after for more than 12 months in the current period of care and not in a "
        "long-term placement: not in long-term foster care (U1, U4), not placed for adoption "
        "(A3 to A6), and no long-term fostering match approved. Without a care record: the "
        "looked-after date, and neither placed for adoption, placed with parents nor matched.",
        RECORD_ELSE_JOURNEYS,
        {
            "record": "Looked after since {since} ({length}); placement now: {placement}.",
            "journey": "Looked after since {since} ({length}), with no approved long-term plan.",
        },
        {"months": DRIFT_MONTHS},
    ),
    Cohort(
        "placed_with_parents",
        "Placed with parents on a care order (tracked until a decision)",
        "A placed-with-parents journey under way.",
        JOURNEYS,
        {"journey": "Placed with parents since {since}: {state}."},
    ),
    Cohort(
        "breached_deadlines",
        "Children with a breached deadline",
        "The child's earliest open deadline was due before the date.",
        JOURNEYS,
        {"journey": "{kind} was due on {since}."},
    ),
    Cohort(
        "care_proceedings",
        "Children in care proceedings",
        "A care proceedings journey under way.",
        JOURNEYS,
        {"journey": "Care proceedings: {state}; issued on {since}."},
    ),
    Cohort(
        "sgo_plans",
        "Children with a plan of special guardianship",
        "A special guardianship journey under way.",
        JOURNEYS,
        {"journey": "Special guardianship: {state}; started on {since}."},
    ),
    Cohort(
        "long_term_matching",
        "Children in long-term foster care where matching is required",
        "A long-term fostering journey under way.",
        JOURNEYS,
        {"journey": "Long-term fostering: {state}; started on {since}."},
    ),
    Cohort(
        "connected_person_approvals",
        "Connected person temporary approvals (regulations 24 and 25)",
        "A connected person's temporary approval as foster carer under way.",
        JOURNEYS,
        {"journey": "Connected person approval: {state}; placed on {since}."},
    ),
    Cohort(
        "reunification",
        "Children whose return home is being assessed or reviewed (Schedule 3)",
        "A reunification journey under way.",
        JOURNEYS,
        {"journey": "Reunification: {state}; started on {since}."},
    ),
    Cohort(
        "child_arrangements_orders",
        "Children with a plan of a child arrangements order",
        "A child arrangements order journey under way.",
        JOURNEYS,
        {"journey": "Child arrangements order: {state}; started on {since}."},
    ),
    Cohort(
        "permanence_plan_required",
        "Children without a permanence plan by the second review",
        "The permanence planning journey has passed the second review without a plan.",
        JOURNEYS,
        {"journey": "No permanence plan by the second review; looked after since {since}."},
    ),
)
BY_NAME: Mapping[str, Cohort] = {c.name: c for c in COHORTS}
FROM_RECORD: frozenset[str] = frozenset(c.name for c in COHORTS if c.source != JOURNEYS)

_ICO_STATES = ("ico_made", "final_evidence_filed", "final_hearing_listed")
# Adoption states in which permanence is as good as secured: the child has moved in.
_ADOPTION_SETTLED = ("placed", "application_lodged")
# Reading the histories of many children: bound the statement's parameters.
_CHUNK = 2000


class Member(NamedTuple):
    """A child in a cohort on a date: since when, why, and the journey an agenda item hangs off
    (a tuple: a national computing makes a few hundred thousand)."""

    cohort: str
    child_id: int
    since: date | None
    why: str
    journey_id: int | None


class _Current(NamedTuple):
    """The episode a child was in on the day, with where its runs began (from SQL)."""

    child_id: int
    start: date
    legal_status: str
    placement: str
    period_start: date
    ls_since: date
    date_of_birth: date


class _Journey(NamedTuple):
    """An active journey: a tuple (tens of thousands are read at national scale)."""

    id: int
    child_id: int
    type: str
    state: str
    started_on: date


@lru_cache(maxsize=1 << 16)
def in_words(day: date) -> str:
    """A date as the pages write it: 3 December 2026 (cached: a cohort of tens of thousands
    of children shares a few thousand dates, and ``strftime`` was a fifth of its time)."""
    return f"{day.day} {day:%B %Y}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@lru_cache(maxsize=1 << 16)
def length_in_words(since: date, on: date) -> str:
    """How long from ``since`` to ``on``: days under a week, weeks under two months, then
    months, then years and months."""
    days = (on - since).days
    if days < 7:
        return _plural(days, "day")
    months = derive.whole_months(since, on)
    if months < 2:
        return _plural(days // 7, "week")
    if months < 24:
        return _plural(months, "month")
    years, rest = divmod(months, 12)
    return _plural(years, "year") + (f" and {_plural(rest, 'month')}" if rest else "")


def _weeks_and_days(days: int) -> str:
    weeks, rest = divmod(days, 7)
    return _plural(weeks, "week") + (f" and {_plural(rest, 'day')}" if rest else "")


@lru_cache(maxsize=4096)
def _label(field_name: str, code: str) -> str:
    """A code's label, or the code where no year's list holds it (cached: a national cohort
    names a few dozen codes tens of thousands of times)."""
    try:
        return ssda903.label(field_name, code)
    except KeyError:
        return code


_STATE_LABELS: Mapping[tuple[str, str], str] = {
    (d.type, st.name): st.label for d in states.DEFINITIONS for st in d.states
}


def _state(journey: _Journey) -> str:
    """The journey's stage in the words its definition gives it."""
    return _STATE_LABELS.get((journey.type, journey.state), journey.state.replace("_", " "))


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- the set-based reads ------------------------------------------------------------------


def _restrict(query: Any, column: Any, child_ids: Sequence[int] | None) -> Any:
    return query if child_ids is None else query.where(column.in_(child_ids))


def _current(conn: Connection, on: date, child_ids: Sequence[int] | None) -> dict[int, _Current]:
    """Every child's episode open on ``on``, with the start of its period of care and of its
    legal status: one statement, window functions over each child's episodes to that day.

    A period of care starts with RNE S or after a gap (as ``derive.periods_of_care``); a legal
    status starts when the period does or the LS code changes."""
    E = CARE_EPISODES
    by_start = (E.c.start, E.c.id)
    ep = _restrict(
        select(
            E.c.child_pk,
            E.c.id,
            E.c.start,
            E.c.end,
            E.c.reason_new,
            E.c.legal_status,
            E.c.placement,
            func.lag(E.c.end).over(partition_by=E.c.child_pk, order_by=by_start).label("prev_end"),
            func.lag(E.c.legal_status)
            .over(partition_by=E.c.child_pk, order_by=by_start)
            .label("prev_ls"),
            func.row_number()
            .over(partition_by=E.c.child_pk, order_by=(E.c.start.desc(), E.c.id.desc()))
            .label("latest"),
        ).where(E.c.withdrawn_by.is_(None), E.c.start <= on),
        E.c.child_pk,
        child_ids,
    ).subquery("ep")
    new_period = or_(
        ep.c.reason_new.in_(sorted(ssda903.STARTED_CARE)),
        ep.c.prev_end.is_(None),
        ep.c.start > ep.c.prev_end,
    )
    new_status = or_(new_period, ep.c.prev_ls != ep.c.legal_status)
    running = {"partition_by": ep.c.child_pk, "order_by": (ep.c.start, ep.c.id)}
    runs = select(
        ep.c.child_pk,
        ep.c.start,
        ep.c.end,
        ep.c.legal_status,
        ep.c.placement,
        ep.c.latest,
        func.max(case((new_period, ep.c.start)), type_=Date).over(**running).label("period_start"),
        func.max(case((new_status, ep.c.start)), type_=Date).over(**running).label("ls_since"),
    ).subquery("runs")
    H = CARE_CHILDREN
    rows = conn.execute(
        select(
            runs.c.child_pk,
            runs.c.start,
            runs.c.legal_status,
            runs.c.placement,
            runs.c.period_start,
            runs.c.ls_since,
            H.c.date_of_birth,
        )
        .join(H, H.c.child_pk == runs.c.child_pk)
        .where(
            runs.c.latest == 1,
            or_(runs.c.end.is_(None), runs.c.end > on),
            runs.c.legal_status.not_in(sorted(ssda903.SHORT_BREAKS)),
        )
    )
    return {r.child_pk: _Current(*r) for r in rows}


def _stability_candidates(conn: Connection, on: date, child_ids: Sequence[int] | None) -> set[int]:
    """Children with 3 or more countable episodes reaching into the 12 months: each placement
    holds at least one, so only these can have 3 or more placements (a pre-filter)."""
    E = CARE_EPISODES
    window_start = add_months(on, -12) + timedelta(days=1)
    query = _restrict(
        select(E.c.child_pk)
        .where(
            E.c.withdrawn_by.is_(None),
            E.c.start <= on,
            or_(E.c.end.is_(None), E.c.end > window_start),
            E.c.placement.not_in(sorted(ssda903.TEMPORARY)),
            E.c.legal_status.not_in(sorted(ssda903.SHORT_BREAKS)),
        )
        .group_by(E.c.child_pk)
        .having(func.count() >= STABILITY_PLACEMENTS),
        E.c.child_pk,
        child_ids,
    )
    return set(conn.execute(query).scalars())


_NO_SOURCE = Source(file="", row=0)


def _histories(conn: Connection, on: date, child_ids: Iterable[int]) -> dict[int, ChildRecord]:
    """The episodes to ``on`` of the children given, as records ``derive`` can judge (only
    the episodes are read: the placement rules need nothing else)."""
    E = CARE_EPISODES
    wanted = sorted(set(child_ids))
    episodes: dict[int, list[Episode]] = defaultdict(list)
    for i in range(0, len(wanted), _CHUNK):
        for r in conn.execute(
            select(*_EPISODE_COLUMNS)
            .where(
                E.c.child_pk.in_(wanted[i : i + _CHUNK]),
                E.c.withdrawn_by.is_(None),
                E.c.start <= on,
            )
            .order_by(E.c.child_pk, E.c.start, E.c.id)
        ):
            episodes[r.child_pk].append(
                Episode(
                    start=r.start,
                    end=r.end,
                    reason_new=r.reason_new,
                    legal_status=r.legal_status,
                    placement=r.placement,
                    category_of_need=None,
                    provider=None,
                    reason_ceased=None,
                    reason_place_change=None,
                    urn=r.urn,
                    home_postcode=None,
                    placement_postcode=r.placement_postcode,
                    source=_NO_SOURCE,
                )
            )
    return {
        pk: ChildRecord(
            child_id=str(pk),
            sex="",
            ethnicity="",
            date_of_birth=date.min,
            upn=None,
            mother=None,
            mothers_child_born_on=None,
            episodes=tuple(eps),
            reviews=(),
            adoption_decisions=(),
            adoption_matches=(),
            uasc=None,
            previous_permanence=None,
            allocation=None,
            header_source=_NO_SOURCE,
        )
        for pk, eps in episodes.items()
    }


@dataclass(frozen=True)
class _Scan:
    """What one read of every episode to the day gives the record's cohorts: each looked-after
    child's current episode, the stability pre-filter, every child with a record, and the
    rows the placement rules judge."""

    on: date
    current: dict[int, _Current]
    stability: set[int]
    recorded: set[int]
    rows: dict[int, Sequence[Any]]

    def placements(self, child_ids: Iterable[int]) -> dict[int, tuple[date | None, int]]:
        """The start of the current placement and the placements in the 12 months of each
        child given (``derive.placement_facts``, judged on the scanned rows as they are)."""
        rows, on, facts = self.rows, self.on, derive.placement_facts
        return {pk: facts(rows[pk], on) for pk in child_ids if pk in rows}


def _scan(conn: Connection, on: date, child_ids: Sequence[int] | None) -> _Scan:
    """Every child's episodes to ``on`` in one plain ordered read, judged in one pass: the same
    answers as :func:`_current`, :func:`_stability_candidates` and :func:`_histories` (the
    reference statements, kept for the test that holds the two together), without the window
    functions' sorts or a second read of the histories (issue 13 item 11: at 84,000 children
    those were more than half the cohorts' time)."""
    E = CARE_EPISODES
    H = CARE_CHILDREN
    born = dict(
        conn.execute(
            _restrict(select(H.c.child_pk, H.c.date_of_birth), H.c.child_pk, child_ids)
        ).all()
    )
    rows = conn.execute(
        _restrict(
            select(*_EPISODE_COLUMNS).where(E.c.withdrawn_by.is_(None), E.c.start <= on),
            E.c.child_pk,
            child_ids,
        ).order_by(E.c.child_pk, E.c.start, E.c.id)
    ).all()
    window_start = add_months(on, -12) + timedelta(days=1)
    started_care, short_breaks, temporary = (
        ssda903.STARTED_CARE,
        ssda903.SHORT_BREAKS,
        ssda903.TEMPORARY,
    )
    current: dict[int, _Current] = {}
    stability: set[int] = set()
    by_child: dict[int, Sequence[Any]] = {}
    n = len(rows)
    i = 0
    while i < n:
        pk = rows[i][0]
        j = i
        period_start = ls_since = rows[i][1]
        countable = 0
        prev_end: date | None = None
        prev_ls: str | None = None
        while j < n and rows[j][0] == pk:
            _, start, end, reason_new, legal_status, placement, _pc, _urn = rows[j]
            if j == i or reason_new in started_care or prev_end is None or start > prev_end:
                period_start = ls_since = start
            elif prev_ls != legal_status:
                ls_since = start
            if (
                (end is None or end > window_start)
                and placement not in temporary
                and legal_status not in short_breaks
            ):
                countable += 1
            prev_end, prev_ls = end, legal_status
            j += 1
        group = rows[i:j]
        by_child[pk] = group
        last = group[-1]
        if (last[2] is None or last[2] > on) and last[4] not in short_breaks and pk in born:
            current[pk] = _Current(pk, last[1], last[4], last[5], period_start, ls_since, born[pk])
            if countable >= STABILITY_PLACEMENTS:
                stability.add(pk)
        i = j
    return _Scan(on, current, stability, set(born), by_child)


def _with_record(conn: Connection, child_ids: Sequence[int] | None) -> set[int]:
    H = CARE_CHILDREN
    return set(conn.execute(_restrict(select(H.c.child_pk), H.c.child_pk, child_ids)).scalars())


def _decisions(conn: Connection, on: date, child_ids: Sequence[int] | None) -> dict[int, date]:
    """The earliest standing should-be-placed decision of each child on ``on``."""
    A = CARE_ADOPTION_DECISIONS
    rows = conn.execute(
        _restrict(
            select(A.c.child_pk, func.min(A.c.decided_on))
            .where(
                A.c.withdrawn_by.is_(None),
                A.c.decided_on <= on,
                or_(A.c.ceased_on.is_(None), A.c.ceased_on > on),
            )
            .group_by(A.c.child_pk),
            A.c.child_pk,
            child_ids,
        )
    )
    return {pk: day for pk, day in rows}


def _approvals(
    conn: Connection, on: date, child_ids: Sequence[int] | None
) -> dict[int, list[date]]:
    A = CARER_APPROVALS
    out: dict[int, list[date]] = defaultdict(list)
    for pk, day in conn.execute(
        _restrict(
            select(A.c.child_pk, A.c.approved_on).where(A.c.approved_on <= on),
            A.c.child_pk,
            child_ids,
        )
    ):
        out[pk].append(day)
    return out


def _journeys(conn: Connection, child_ids: Sequence[int] | None) -> list[_Journey]:
    rows = conn.execute(
        _restrict(
            select(J.c.id, J.c.child_id, J.c.type, J.c.state, J.c.started_on)
            .where(J.c.status == "active")
            .order_by(J.c.id),
            J.c.child_id,
            child_ids,
        )
    ).all()
    return list(map(_Journey._make, rows))


def _adoption_plans(
    conn: Connection, child_ids: Sequence[int] | None
) -> dict[int, tuple[str, date | None, int]]:
    """Children whose active permanence planning journey has adoption as its primary or
    contingency plan: (which, recorded on, journey id). The plan is read out of the
    journey's data in SQL and only those with adoption come back (decoding every active
    journey's JSON in Python was a tenth of the cohorts' time at national scale)."""
    primary = J.c.data["primary_plan"].as_string()
    contingency = J.c.data["contingency_plan"].as_string()
    out: dict[int, tuple[str, date | None, int]] = {}
    rows = conn.execute(
        _restrict(
            select(J.c.id, J.c.child_id, primary, J.c.data["plan_recorded_on"].as_string())
            .where(
                J.c.status == "active",
                J.c.type == "permanence_planning",
                or_(primary == "adoption", contingency == "adoption"),
            )
            .order_by(J.c.id),
            J.c.child_id,
            child_ids,
        )
    ).all()
    for journey_id, child_id, first, recorded in rows:
        which = "primary" if first == "adoption" else "contingency"
        out[child_id] = (which, date.fromisoformat(recorded) if recorded else None, journey_id)
    return out


def _approved_long_term(conn: Connection, child_ids: Sequence[int] | None) -> set[int]:
    """Children with an approved long-term fostering match."""
    return set(
        conn.execute(
            _restrict(
                select(J.c.child_id).where(
                    and_(J.c.type == "long_term_fostering", J.c.state == "approved")
                ),
                J.c.child_id,
                child_ids,
            )
        ).scalars()
    )


def _breached(
    conn: Connection, on: date, child_ids: Sequence[int] | None
) -> dict[int, tuple[date, str]]:
    """Each child's earliest open deadline, when it was due before ``on`` (the earliest
    picked in SQL, the first by id on a tie: only one row per child comes back)."""
    ranked = _restrict(
        select(
            D.c.child_id,
            D.c.due_on,
            D.c.kind,
            func.row_number()
            .over(partition_by=D.c.child_id, order_by=(D.c.due_on, D.c.id))
            .label("n"),
        ).where(D.c.status == "open", D.c.child_id.is_not(None), D.c.due_on < on, judged()),
        D.c.child_id,
        child_ids,
    ).subquery("ranked")
    rows = conn.execute(
        select(ranked.c.child_id, ranked.c.due_on, ranked.c.kind).where(ranked.c.n == 1)
    ).all()
    return {child_id: (due_on, kind) for child_id, due_on, kind in rows}


def _hand_set(conn: Connection, child_ids: Sequence[int]) -> dict[int, tuple[date | None, str]]:
    """The hand-typed looked-after date and legal status of children without a record."""
    out: dict[int, tuple[date | None, str]] = {}
    for i in range(0, len(child_ids), _CHUNK):
        for r in conn.execute(
            select(C.c.id, C.c.looked_after_since, C.c.legal_status).where(
                C.c.id.in_(child_ids[i : i + _CHUNK])
            )
        ):
            out[r.id] = (r.looked_after_since, r.legal_status or "")
    return out


# --- membership ----------------------------------------------------------------------------


def compute(
    conn: Connection,
    on: date,
    names: Iterable[str] | None = None,
    *,
    child_ids: Iterable[int] | None = None,
) -> dict[str, list[Member]]:
    """Who is in each cohort of ``names`` (default: all) on ``on``; only the children of
    ``child_ids`` when given. No access check: callers above check who may see whom."""
    wanted = set(BY_NAME if names is None else names)
    unknown = wanted - set(BY_NAME)
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    ids = None if child_ids is None else sorted(set(child_ids))
    journeys = _journeys(conn, ids)
    by_child: dict[int, dict[str, _Journey]] = defaultdict(dict)
    for j in journeys:
        by_child[j.child_id].setdefault(j.type, j)
    found = _Found(wanted, by_child)
    if wanted & FROM_RECORD:
        recorded = _record_members(conn, on, found, ids)
        _journey_fallback(conn, on, found, recorded, ids)
    _journey_only(conn, on, found, ids)
    for members in found.out.values():
        members.sort(key=lambda m: (m.since or date.max, m.child_id))
    return found.out


@dataclass
class _Found:
    """The members found so far, per cohort wanted, and each child's active journeys."""

    wanted: set[str]
    by_child: Mapping[int, Mapping[str, _Journey]]
    out: dict[str, list[Member]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # In the order of COHORTS, whatever the set's order: the agenda names an item by the
        # first cohort it was found in, so the order must not change from run to run.
        self.out = {c.name: [] for c in COHORTS if c.name in self.wanted}

    def add(
        self, name: str, child_id: int, since: date | None, why: str, journey: int | None
    ) -> None:
        """Put a child in a cohort (if that cohort is wanted)."""
        if name in self.wanted:
            self.out[name].append(Member(name, child_id, since, why, journey))

    def journey(self, child_id: int, journey_type: str) -> _Journey | None:
        """The child's active journey of a type."""
        return self.by_child.get(child_id, {}).get(journey_type)

    def anchor(self, child_id: int) -> int | None:
        """The journey an agenda item hangs off: permanence planning, else the first."""
        types = self.by_child.get(child_id)
        if not types:
            return None
        chosen = types.get("permanence_planning") or next(iter(types.values()))
        return chosen.id

    def drop(self, name: str, child_ids: set[int]) -> None:
        """Take children out of a cohort."""
        if name in self.out and child_ids:
            self.out[name] = [m for m in self.out[name] if m.child_id not in child_ids]


def _record_members(
    conn: Connection, on: date, found: _Found, ids: Sequence[int] | None
) -> set[int]:
    """The cohorts of children with a care record, from the record as it stood on ``on``;
    returns the children with a record."""
    wanted, add, anchor = found.wanted, found.add, found.anchor
    scan = _scan(conn, on, ids)
    current = scan.current
    year_ago = add_months(on, -DRIFT_MONTHS)
    placed = ssda903.SEMI_INDEPENDENT | ssda903.CONNECTED_FOSTER | ssda903.PLACED_WITH_PARENTS
    need_history = {pk for pk, c in current.items() if c.placement in placed}
    if "placement_stability" in wanted:
        stability = scan.stability
        need_history |= stability
    else:
        stability = set()
    long_term: set[int] = set()
    if "long_term_stability" in wanted:
        cared_from = add_months(on, -LONG_TERM_CARE_MONTHS)
        placed_after = add_months(on, -LONG_TERM_PLACEMENT_MONTHS)
        long_term = {
            pk
            for pk, c in current.items()
            if _age(c.date_of_birth, on) < LONG_TERM_AGE
            and c.period_start <= cared_from
            # The current placement began on or before this episode: a pre-filter.
            and c.start > placed_after
        }
        need_history |= long_term
    facts = scan.placements(need_history)
    approvals = _approvals(conn, on, ids) if "connected_person_16_weeks" in wanted else {}
    for pk, c in current.items():
        journey = anchor(pk)
        history = facts.get(pk)
        placement_start = (history[0] if history is not None else None) or c.start
        place = _label("PLACE", c.placement)
        if c.placement in ssda903.SEMI_INDEPENDENT:
            add(
                "unregulated_placements",
                pk,
                placement_start,
                BY_NAME["unregulated_placements"].why(
                    "record",
                    placement=place,
                    since=in_words(placement_start),
                    length=length_in_words(placement_start, on),
                ),
                journey,
            )
        if c.placement in ssda903.CONNECTED_FOSTER:
            weeks = (on - placement_start).days / 7
            approved = any(placement_start <= a <= on for a in approvals.get(pk, ()))
            if weeks > CONNECTED_WEEKS and not approved:
                extension = (
                    f" and the {EXTENSION_WEEKS} more weeks regulation 25 allows"
                    if weeks > CONNECTED_WEEKS + EXTENSION_WEEKS
                    else f" (regulation 25 allows one extension of up to {EXTENSION_WEEKS} weeks)"
                )
                add(
                    "connected_person_16_weeks",
                    pk,
                    placement_start,
                    BY_NAME["connected_person_16_weeks"].why(
                        "record",
                        placement=place,
                        since=in_words(placement_start),
                        duration=_weeks_and_days((on - placement_start).days),
                        limit=CONNECTED_WEEKS,
                        extension=extension,
                    ),
                    journey,
                )
        if pk in stability and history is not None:
            count = history[1]
            if count >= STABILITY_PLACEMENTS:
                add(
                    "placement_stability",
                    pk,
                    placement_start,
                    BY_NAME["placement_stability"].why(
                        "record", count=count, as_of=in_words(on), since=in_words(placement_start)
                    ),
                    journey,
                )
        if (
            pk in long_term
            and history is not None
            and placement_start > add_months(on, -LONG_TERM_PLACEMENT_MONTHS)
        ):
            add(
                "long_term_stability",
                pk,
                placement_start,
                BY_NAME["long_term_stability"].why(
                    "record",
                    age=_age(c.date_of_birth, on),
                    period_start=in_words(c.period_start),
                    care=length_in_words(c.period_start, on),
                    since=in_words(placement_start),
                    length=length_in_words(placement_start, on),
                ),
                journey,
            )
        if c.legal_status in ssda903.SECTION_20:
            add(
                "section_20",
                pk,
                c.ls_since,
                BY_NAME["section_20"].why(
                    "record", since=in_words(c.ls_since), length=length_in_words(c.ls_since, on)
                ),
                journey,
            )
        if c.legal_status in ssda903.INTERIM_CARE_ORDER:
            proceedings = found.journey(pk, "care_proceedings")
            add(
                "interim_care_orders",
                pk,
                c.ls_since,
                BY_NAME["interim_care_orders"].why(
                    "record", since=in_words(c.ls_since), length=length_in_words(c.ls_since, on)
                ),
                proceedings.id if proceedings else journey,
            )
        if c.placement in ssda903.PLACED_WITH_PARENTS and placement_start < year_ago:
            pwp = found.journey(pk, "placed_with_parents")
            add(
                "placed_with_parents_12m",
                pk,
                placement_start,
                BY_NAME["placed_with_parents_12m"].why(
                    "record",
                    since=in_words(placement_start),
                    length=length_in_words(placement_start, on),
                ),
                pwp.id if pwp else journey,
            )
        if (
            c.period_start < year_ago
            and c.placement not in ssda903.LONG_TERM_FOSTER
            and c.placement not in ssda903.PLACED_FOR_ADOPTION
        ):
            add(
                "looked_after_12m_no_plan",
                pk,
                c.period_start,
                BY_NAME["looked_after_12m_no_plan"].why(
                    "record",
                    since=in_words(c.period_start),
                    length=length_in_words(c.period_start, on),
                    placement=place,
                ),
                journey,
            )
    # Matched for long-term fostering: off the no-plan cohort (a journey, not the record).
    if "looked_after_12m_no_plan" in wanted:
        found.drop("looked_after_12m_no_plan", _approved_long_term(conn, ids))
    if "adoption_tracker" in wanted:
        decisions = _decisions(conn, on, ids)
        for pk, c in current.items():
            adoption = found.journey(pk, "adoption")
            journey = adoption.id if adoption else anchor(pk)
            tracker = BY_NAME["adoption_tracker"]
            if c.legal_status in ssda903.PLACEMENT_ORDER:
                add(
                    "adoption_tracker",
                    pk,
                    c.ls_since,
                    tracker.why("placement_order", since=in_words(c.ls_since)),
                    journey,
                )
            elif pk in decisions:
                add(
                    "adoption_tracker",
                    pk,
                    decisions[pk],
                    tracker.why("decision", since=in_words(decisions[pk])),
                    journey,
                )
    return scan.recorded


def _journey_fallback(
    conn: Connection, on: date, found: _Found, recorded: set[int], ids: Sequence[int] | None
) -> None:
    """The record's cohorts for children without a care record, from their journeys and
    hand-set details, as before the record existed; plus the adoption tracker's journey and
    plan ways in, which hold for every child."""
    wanted, add, anchor, by_child = found.wanted, found.add, found.anchor, found.by_child
    year_ago = add_months(on, -DRIFT_MONTHS)
    unrecorded = sorted(pk for pk in by_child if pk not in recorded)
    hand = _hand_set(conn, unrecorded) if unrecorded else {}
    approved = (
        # Read for the same children as the rest (not by an IN list of every unrecorded child).
        _approved_long_term(conn, ids) if "looked_after_12m_no_plan" in wanted else set()
    )
    for pk in unrecorded:
        types = by_child[pk]
        journey = anchor(pk)
        since, status = hand.get(pk, (None, ""))
        if status == "section_20":
            add(
                "section_20",
                pk,
                since,
                BY_NAME["section_20"].why(
                    "journey", since=in_words(since) if since else "an unrecorded date"
                ),
                journey,
            )
        cp = types.get("care_proceedings")
        if cp is not None and cp.state in _ICO_STATES:
            add(
                "interim_care_orders",
                pk,
                cp.started_on,
                BY_NAME["interim_care_orders"].why(
                    "journey", state=_state(cp), since=in_words(cp.started_on)
                ),
                cp.id,
            )
        pwp = types.get("placed_with_parents")
        if pwp is not None and pwp.started_on < year_ago:
            add(
                "placed_with_parents_12m",
                pk,
                pwp.started_on,
                BY_NAME["placed_with_parents_12m"].why(
                    "journey",
                    since=in_words(pwp.started_on),
                    length=length_in_words(pwp.started_on, on),
                ),
                pwp.id,
            )
        adoption = types.get("adoption")
        settled = adoption is not None and adoption.state in _ADOPTION_SETTLED
        if (
            since is not None
            and since < year_ago
            and pk not in approved
            and not settled
            and pwp is None  # placed at home is scrutinised in its own cohort
        ):
            add(
                "looked_after_12m_no_plan",
                pk,
                since,
                BY_NAME["looked_after_12m_no_plan"].why(
                    "journey", since=in_words(since), length=length_in_words(since, on)
                ),
                journey,
            )
        if adoption is None and status == "placement_order":
            add(
                "adoption_tracker",
                pk,
                since,
                BY_NAME["adoption_tracker"].why("legal_status"),
                journey,
            )
    if "adoption_tracker" not in wanted:
        return
    taken = {m.child_id for m in found.out["adoption_tracker"]}
    plans = _adoption_plans(conn, ids)
    tracker = BY_NAME["adoption_tracker"]
    for pk, types in by_child.items():
        if pk in taken:
            continue
        adoption = types.get("adoption")
        if adoption is not None:
            add(
                "adoption_tracker",
                pk,
                adoption.started_on,
                tracker.why("journey", state=_state(adoption), since=in_words(adoption.started_on)),
                adoption.id,
            )
        elif pk in plans:
            which, recorded_on, journey_id = plans[pk]
            add(
                "adoption_tracker",
                pk,
                recorded_on,
                tracker.why(
                    "plan",
                    which=which,
                    since=in_words(recorded_on) if recorded_on else "an unrecorded date",
                ),
                journey_id,
            )


def _journey_only(conn: Connection, on: date, found: _Found, ids: Sequence[int] | None) -> None:
    """The cohorts only journeys can say anything about."""
    wanted, add, anchor, by_child = found.wanted, found.add, found.anchor, found.by_child
    breached = _breached(conn, on, ids) if "breached_deadlines" in wanted else {}
    for pk, (due_on, kind) in breached.items():
        add(
            "breached_deadlines",
            pk,
            due_on,
            BY_NAME["breached_deadlines"].why(
                "journey", kind=deadline_kinds.label(kind), since=in_words(due_on)
            ),
            anchor(pk),
        )
    # The cohort each journey type puts a child in; a child's journeys are few, so each is
    # looked up here rather than every type looked up in each child's journeys.
    simple = {
        "placed_with_parents": "placed_with_parents",
        "care_proceedings": "care_proceedings",
        "sgo": "sgo_plans",
        "long_term_fostering": "long_term_matching",
        "connected_person_approval": "connected_person_approvals",
        "reunification": "reunification",
        "child_arrangements_order": "child_arrangements_orders",
    }
    for pk, types in by_child.items():
        for journey_type, j in types.items():
            name = simple.get(journey_type)
            if name is not None and name in wanted:
                add(
                    name,
                    pk,
                    j.started_on,
                    BY_NAME[name].why("journey", state=_state(j), since=in_words(j.started_on)),
                    j.id,
                )
        pp = types.get("permanence_planning")
        if pp is not None and pp.state == "plan_required":
            add(
                "permanence_plan_required",
                pk,
                pp.started_on,
                BY_NAME["permanence_plan_required"].why("journey", since=in_words(pp.started_on)),
                pp.id,
            )


# --- what the API and the pages ask --------------------------------------------------------


@dataclass(frozen=True)
class CohortChild:
    """A child in a cohort as a reader sees it: by reference, never by name."""

    child_id: int
    reference: str
    since: date | None
    why: str


@dataclass(frozen=True)
class CohortList:
    """A cohort's children on a date, as the principal may see them: ``children`` from
    ``offset`` (a page of them, or all), ``total`` in all; ``computed_at`` when they were read
    from the day's stored snapshot (``services.cohort_snapshot``), None when computed now."""

    cohort: Cohort
    as_of: date
    children: list[CohortChild]
    total: int
    offset: int = 0
    computed_at: datetime | None = None


@dataclass(frozen=True)
class CohortCounts:
    """How many children the principal may see are in each cohort on a date; ``computed_at``
    when some were read from the day's stored snapshot (the rest computed now)."""

    as_of: date
    counts: dict[str, int]
    computed_at: datetime | None


def cohort(name: str) -> Cohort:
    """The cohort called ``name``; NotFound otherwise."""
    found = BY_NAME.get(name)
    if found is None:
        raise NotFound(f"There is no cohort {name!r}.")
    return found


def _teams_or_refuse(principal: Principal) -> frozenset[str] | None:
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    return teams


def _visible(
    conn: Connection, child_ids: Iterable[int], teams: frozenset[str] | None
) -> dict[int, str]:
    """Reference of each child the principal's teams may see."""
    ids = sorted(set(child_ids))
    out: dict[int, str] = {}
    for i in range(0, len(ids), _CHUNK):
        query = select(C.c.id, C.c.reference, C.c.team).where(C.c.id.in_(ids[i : i + _CHUNK]))
        for r in conn.execute(query):
            if teams is None or r.team in teams:
                out[r.id] = r.reference
    return out


def cohort_children(
    engine: Engine,
    name: str,
    principal: Principal,
    *,
    as_of: date | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> CohortList:
    """The children of one cohort on ``as_of`` (default today) the principal may see, from
    ``offset`` (at most ``limit``; all by default), and how many in all; the read is audited
    (``read.cohort``) naming the children returned.

    Read from the day's stored snapshot when it holds that day and that cohort with its
    sentences (at national size the largest cohort holds tens of thousands of children and
    computing it takes seconds); computed now for another date or when no snapshot fits."""
    # A cycle at import time: the snapshot module stores this module's members.
    from services import cohort_snapshot

    found = cohort(name)
    teams = _teams_or_refuse(principal)
    on = as_of or today()
    computed_at: datetime | None = None
    with read_connection(engine) as conn:
        snap = cohort_snapshot.for_day(conn, on, sentences=True)
        if snap is not None and name in cohort_snapshot.held(snap):
            computed_at = snap.computed_at
            total = cohort_snapshot.total(conn, snap, name, teams)
            children = [
                CohortChild(r.child_id, r.reference, r.since, r.why or "")
                for r in cohort_snapshot.members(
                    conn, snap.id, name, teams, offset=offset, limit=limit
                )
            ]
        else:
            members = compute(conn, on, [name])[name]
            refs = _visible(conn, (m.child_id for m in members), teams)
            seen = [
                CohortChild(m.child_id, refs[m.child_id], m.since, m.why)
                for m in members
                if m.child_id in refs
            ]
            total = len(seen)
            children = seen[offset : None if limit is None else offset + limit]
    audit.audit_read(
        engine,
        principal,
        "cohort",
        [c.child_id for c in children],
        details={"cohort": name, "as_of": on.isoformat()},
    )
    return CohortList(found, on, children, total, offset, computed_at)


def cohort_counts(
    engine: Engine, principal: Principal, *, as_of: date | None = None
) -> CohortCounts:
    """How many children the principal may see are in each cohort on ``as_of``: the cohorts
    the day's stored snapshot holds counted from it, the others (or all, for another date)
    computed now. Counts name no child, so nothing is audited."""
    from services import cohort_snapshot  # see cohort_children

    teams = _teams_or_refuse(principal)
    on = as_of or today()
    counts: dict[str, int] = {}
    computed_at: datetime | None = None
    with read_connection(engine) as conn:
        snap = cohort_snapshot.for_day(conn, on, sentences=False)
        if snap is not None:
            computed_at = snap.computed_at
            stored = cohort_snapshot.counts(conn, snap, teams)
            counts = {name: stored.get(name, 0) for name in cohort_snapshot.held(snap)}
        missing = [name for name in BY_NAME if name not in counts]
        if missing:
            members = compute(conn, on, missing)
            refs = _visible(conn, {m.child_id for ms in members.values() for m in ms}, teams)
            for name in missing:
                counts[name] = sum(1 for m in members[name] if m.child_id in refs)
    return CohortCounts(on, {name: counts[name] for name in BY_NAME}, computed_at)


def child_cohorts(
    engine: Engine, child_id: int, principal: Principal, *, as_of: date | None = None
) -> list[tuple[Cohort, Member]]:
    """Which cohorts one child is in on ``as_of`` (default today), and why; audited as
    ``read.child_cohorts`` (inside a page's ``one_read``, part of its row)."""
    on = as_of or today()
    with read_connection(engine) as conn:
        row = conn.execute(select(C.c.team).where(C.c.id == child_id)).first()
        if row is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, row.team, write=False)
        if refusal:
            raise AccessDenied(refusal)
        found = compute(conn, on, child_ids=[child_id])
    audit.audit_read(engine, principal, "child_cohorts", [child_id])
    return [(c, m) for c in COHORTS for m in found.get(c.name, ())]


# --- the panel's carer approval ------------------------------------------------------------

APPROVE_CARER_ROLES = frozenset({PANEL_ADMIN, PANEL_CHAIR})


class ApprovalExists(EngineError):
    status_code = 409
    code = "already_recorded"


@dataclass(frozen=True)
class CarerApprovalOut:
    """A recorded carer approval."""

    id: int
    child_id: int
    approved_on: date


def record_carer_approval(
    engine: Engine, child_id: int, approved_on: date, principal: Principal
) -> CarerApprovalOut:
    """Record that the child's connected-person carer was approved on ``approved_on`` (panel
    administrator or chair): it takes the child off ``connected_person_16_weeks`` for the
    placement the date falls in. One write with its audit entry; the same day twice is 409."""
    if principal.roles.isdisjoint(APPROVE_CARER_ROLES):
        raise AccessDenied("Only the panel administrator or chair records a carer approval.")
    if approved_on > today():
        raise InvalidData(
            "The approval date cannot be in the future.",
            errors=["The approval date cannot be in the future."],
        )
    A = CARER_APPROVALS
    with write_connection(engine) as conn:
        row = conn.execute(select(C.c.team).where(C.c.id == child_id)).first()
        if row is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, row.team, write=False)
        if refusal:
            raise AccessDenied(refusal)
        exists = conn.execute(
            select(A.c.id).where(A.c.child_pk == child_id, A.c.approved_on == approved_on)
        ).first()
        if exists is not None:
            raise ApprovalExists(
                f"A carer approval on {in_words(approved_on)} is already recorded for this child."
            )
        new_id = conn.execute(
            A.insert().values(
                child_pk=child_id,
                approved_on=approved_on,
                recorded_by=principal.user_id,
                recorded_at=now_utc(),
            )
        ).inserted_primary_key
        assert new_id is not None
        # The day's stored snapshot, which the pages and the tracker read, judges the child
        # again (a cycle at import time: the snapshot module stores this module's members).
        from services import cohort_snapshot

        cohort_snapshot.refresh_child(conn, child_id, today())
        audit.record(
            conn,
            actor_id=principal.user_id,
            action="carer_approval.recorded",
            entity="child",
            entity_id=child_id,
            details={"approved_on": approved_on.isoformat()},
        )
    return CarerApprovalOut(int(new_id[0]), child_id, approved_on)
