"""A child's care record as people and the API read it (issue 13 items 7 and 8).

:func:`child_record` checks the reader may see the child (the same team and role rules as
the child itself), audits the read (``read.care_record``) and returns the child's stored,
non-withdrawn facts with every code next to its label (``states.ssda903.label``): episodes,
reviews, should-be-placed-for-adoption decisions and adoption matches. Episodes a newer
extract withdrew are left out; ``withdrawn_episodes`` says how many there were.

The episodes also come as a timeline: one entry per episode, oldest first, marked with what
changed at its start (the child came into care, moved placement, changed legal status) and
whether the child left care at its end, so the page can show each move without working it
out itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from services import audit
from services.access import Principal, child_refusal
from services.care_record import derive
from services.care_record.models import CARE_CHILDREN, CARE_EPISODES
from services.care_record.records import ChildRecord
from services.care_record.stored import load_records
from services.db import read_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from states import ssda903
from workflow.calendar import today_london


@dataclass(frozen=True)
class Coded:
    """A code of the return and its words."""

    code: str
    label: str


def coded(field: str, code: str | None) -> Coded | None:
    """``code`` of ``field`` with its label (None for no code)."""
    if not code:
        return None
    try:
        return Coded(code, ssda903.label(field, code))
    except ssda903.UnknownCode:
        # The import's rules refuse unknown codes; a code stored before a list changed is
        # shown as it is rather than failing the page.
        return Coded(code, f"Code {code}")


@dataclass(frozen=True)
class EpisodeView:
    """One episode of care, every code with its label, and what changed at its start."""

    start: date
    end: date | None
    legal_status: Coded
    placement: Coded
    reason_new: Coded
    reason_ceased: Coded | None
    # What the timeline marks: the first episode of a period of care, a move to another
    # placement, a change of legal status (not on the first episode of a period), and the
    # child leaving care when this episode ended.
    started_care: bool
    moved: bool
    legal_status_changed: bool
    left_care: bool


@dataclass(frozen=True)
class ReviewView:
    """A looked-after review and how the child took part."""

    held_on: date
    participation: Coded | None


@dataclass(frozen=True)
class AdoptionDecisionView:
    """A should-be-placed-for-adoption decision, and when and why it ceased."""

    decided_on: date
    ceased_on: date | None
    reason_ceased: Coded | None


@dataclass(frozen=True)
class AdoptionMatchView:
    """Adoption matching: the date of the decision and the date matched."""

    decided_on: date
    matched_on: date


@dataclass(frozen=True)
class CareRecordView:
    """A child's care record as read by one user."""

    child_id: int
    return_child_id: str | None
    episodes: tuple[EpisodeView, ...]
    reviews: tuple[ReviewView, ...]
    adoption_decisions: tuple[AdoptionDecisionView, ...]
    adoption_matches: tuple[AdoptionMatchView, ...]
    withdrawn_episodes: int
    current_legal_status: Coded | None
    current_placement: Coded | None
    placements: int

    @property
    def empty(self) -> bool:
        """Whether the child has no care record (typed in by hand, never imported)."""
        return self.return_child_id is None

    @property
    def moves(self) -> int:
        """Moves of placement within a period of care, as the timeline marks them."""
        return sum(1 for e in self.episodes if e.moved)


def _episodes(record: ChildRecord) -> tuple[EpisodeView, ...]:
    period_starts = {p.episodes[0].start for p in derive.periods_of_care(record)}
    period_ends = {p.episodes[-1].start for p in derive.periods_of_care(record) if p.end}
    placement_starts = {p.episodes[0].start for p in derive.placements(record)}
    out: list[EpisodeView] = []
    previous = None
    for e in record.episodes:
        first = e.start in period_starts
        out.append(
            EpisodeView(
                start=e.start,
                end=e.end,
                legal_status=coded("LS", e.legal_status) or Coded("", ""),
                placement=coded("PLACE", e.placement) or Coded("", ""),
                reason_new=coded("RNE", e.reason_new) or Coded("", ""),
                reason_ceased=coded("REC", e.reason_ceased),
                started_care=first,
                moved=not first and e.start in placement_starts,
                legal_status_changed=(
                    not first and previous is not None and previous.legal_status != e.legal_status
                ),
                left_care=e.end is not None and e.start in period_ends,
            )
        )
        previous = e
    return tuple(out)


def _record_view(
    child_pk: int, return_id: str | None, record: ChildRecord | None, withdrawn: int, day: date
) -> CareRecordView:
    if record is None:
        return CareRecordView(child_pk, None, (), (), (), (), withdrawn, None, None, 0)
    return CareRecordView(
        child_id=child_pk,
        return_child_id=return_id,
        episodes=_episodes(record),
        reviews=tuple(
            ReviewView(r.held_on, coded("REVIEW_CODE", r.participation)) for r in record.reviews
        ),
        adoption_decisions=tuple(
            AdoptionDecisionView(
                d.decided_on, d.ceased_on, coded("REASON_PLACED_CEASED", d.reason_ceased)
            )
            for d in record.adoption_decisions
        ),
        adoption_matches=tuple(
            AdoptionMatchView(m.decided_on, m.matched_on) for m in record.adoption_matches
        ),
        withdrawn_episodes=withdrawn,
        current_legal_status=coded("LS", derive.current_legal_status(record, day)),
        current_placement=coded("PLACE", derive.current_placement(record, day)),
        placements=sum(1 for p in derive.placements(record) if not p.temporary),
    )


def child_record(
    engine: Engine, child_id: int, principal: Principal, *, as_of: date | None = None
) -> CareRecordView:
    """The child's care record (see the module's docstring): 404 for an unknown child, 403
    when the reader may not see the child; the read is audited as ``read.care_record``.
    ``as_of`` (default today) is the day the current legal status and placement are read on.
    """
    day = as_of or today_london()
    with read_connection(engine) as conn:
        team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one_or_none()
        if team is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, team, write=False)
        if refusal:
            raise AccessDenied(refusal)
        return_id = conn.execute(
            select(CARE_CHILDREN.c.return_child_id).where(CARE_CHILDREN.c.child_pk == child_id)
        ).scalar_one_or_none()
        withdrawn = int(
            conn.execute(
                select(func.count()).where(
                    CARE_EPISODES.c.child_pk == child_id, CARE_EPISODES.c.withdrawn_by.is_not(None)
                )
            ).scalar_one()
        )
        found = dict(load_records(conn, child_ids=[child_id])) if return_id else {}
    view = _record_view(child_id, return_id, found.get(child_id), withdrawn, day)
    audit.audit_read(engine, principal, "care_record", [child_id])
    return view
