"""The care record's two work lists (issue 13 item 5), computed as of a day.

* **To confirm** (:func:`to_confirm`): children for whom the return cannot say enough for
  the service to start or finish a journey, each with the fact that put the child there
  and what to do:

  - an interim care order (``C1``) on the record with no care proceedings journey: the
    return holds no issue date, so a person must record the proceedings;
  - adopted on the record (the latest period of care ended ``E11``/``E12``) while the
    adoption journey is still open: the return holds no application's date, which the
    journey's ``lodge_application`` needs (its ten-week guard), so the import stops before
    it (``services.care_record.journeys``) and a person records the application and the
    order;
  - deadlines from before the service (``services.deadlines.to_confirm``: due before the
    child's record was imported, and the return does not say whether they were met), one
    row per child with how many, until someone records what happened to each (the child
    page lists them, each with its confirmation page).

  A child leaves the list when a person acts (starts or moves the journey, records the
  deadline) or, for the first two, records with a reason that there is nothing to confirm
  (:func:`dismiss`): that holds for that fact only (its reason and the day it began), so a
  new order puts the child back.
* **Record and journeys disagree** (:func:`disagreements`): the latest imported record and a
  journey a person moved say different things; both are shown side by side. The import
  never moves a journey a person moved (``services.care_record.journeys``), so these wait
  for a person.

Each reason is defined once (:data:`CONFIRM_REASONS`, :data:`DISAGREE_REASONS`) with the
sentence shown. Membership is a handful of set-based statements for the whole authority
(the open episode of every child by window functions, as the cohorts read it; the journeys;
the dismissals); the list is then cut to the reader's teams and to one page. Reads are
audited (``read.to_confirm``, ``read.disagreements``) naming the children on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, and_, exists, func, select
from sqlalchemy.exc import IntegrityError

import states
from services import audit
from services import deadlines as deadline_rules
from services.access import Principal, child_refusal
from services.care_record.journeys import IMPORT_USERNAME
from services.care_record.models import CARE_EPISODES, CONFIRM_DISMISSALS
from services.clock import now_utc, today
from services.cohorts import _current, in_words
from services.db import read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.models import DEADLINES as Dl
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.models import USERS as U
from states import ssda903
from states.roles import SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER
from workflow.errors import EngineError, InvalidData

PAGE_SIZE = 50
"""Children shown on one page of a list (an authority may have hundreds)."""
NOTE_MAX = 2000

DISMISS_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER, SERVICE_MANAGER})
"""Who may record that there is nothing to confirm (their team's children; a service
manager any child's)."""

_CHUNK = 2000
T = TypeVar("T")


@dataclass(frozen=True)
class Reason:
    """One reason a child is on a list: its name, title, the sentence shown (a format over
    the facts, dates already in words) and the action that takes the child off."""

    name: str
    title: str
    sentence: str
    action: str
    journey_type: str | None = None
    # False where a person answers the fact on its own page (a deadline's confirmation),
    # not with "nothing to confirm".
    dismissable: bool = True


ICO_WITHOUT_PROCEEDINGS = "ico_without_proceedings"
ADOPTED_WITHOUT_APPLICATION = "adopted_without_application"
DEADLINE_BEFORE_SERVICE = "deadline_before_service"

CONFIRM_REASONS: tuple[Reason, ...] = (
    Reason(
        ICO_WITHOUT_PROCEEDINGS,
        "Interim care order without care proceedings",
        "Interim care order since {since} on the care record; no care proceedings journey: "
        "record the proceedings' issue date.",
        "Start the care proceedings journey",
        "care_proceedings",
    ),
    Reason(
        ADOPTED_WITHOUT_APPLICATION,
        "Adopted on the care record; adoption journey not finished",
        "The care record ends the period of care on {since}: {reason_ceased}. The return "
        "holds no adoption application date, so the adoption journey stands at "
        "\u201c{state}\u201d: {todo}.",
        "Record the application on the adoption journey",
        "adoption",
    ),
    Reason(
        DEADLINE_BEFORE_SERVICE,
        "Deadlines from before the service",
        "{deadlines} fell due before the child's care record was imported, the first on "
        "{since}; the return does not say whether they were met: record what happened to "
        "each.",
        "Record what happened to each deadline",
        dismissable=False,
    ),
)
CONFIRM_BY_NAME: Mapping[str, Reason] = {r.name: r for r in CONFIRM_REASONS}

ADOPTION_BEHIND_ORDER = "adoption_behind_placement_order"
CARE_ENDED_PLANNING_OPEN = "care_ended_planning_open"
CARE_ORDER_PROCEEDINGS_OPEN = "care_order_proceedings_open"
PARENTS_PLACEMENT_ENDED = "placed_with_parents_ended"

DISAGREE_REASONS: tuple[Reason, ...] = (
    Reason(
        ADOPTION_BEHIND_ORDER,
        "Placement order on the record; adoption journey before it",
        "Placement order since {since}.",
        "Record the placement order on the adoption journey",
        "adoption",
    ),
    Reason(
        CARE_ENDED_PLANNING_OPEN,
        "Left care on the record; permanence planning still open",
        "Left care on {since}: {reason_ceased}.",
        "Record that the child is no longer looked after",
        "permanence_planning",
    ),
    Reason(
        CARE_ORDER_PROCEEDINGS_OPEN,
        "Full care order on the record; care proceedings not concluded",
        "Full care order since {since}.",
        "Record the proceedings' final order",
        "care_proceedings",
    ),
    Reason(
        PARENTS_PLACEMENT_ENDED,
        "Placement with parents ended on the record; journey still open",
        "Placement with parents ended on {since}; {now}.",
        "Record that the placement with parents ended",
        "placed_with_parents",
    ),
)
DISAGREE_BY_NAME: Mapping[str, Reason] = {r.name: r for r in DISAGREE_REASONS}

# Adoption states before a placement order is recorded on the journey.
_BEFORE_ORDER = ("plan_considered", "raa_linked", "cpr_complete", "sbpfa_decided")

_STATE_LABELS: Mapping[tuple[str, str], str] = {
    (d.type, st.name): st.label for d in states.DEFINITIONS for st in d.states
}
_TYPE_TITLES: Mapping[str, str] = {d.type: d.title for d in states.DEFINITIONS}


@dataclass(frozen=True)
class ToConfirm:
    """A child on the "to confirm" list: the reason, the fact in words and since when."""

    child_id: int
    reference: str
    reason: str
    fact: str
    since: date
    action: str
    journey_type: str | None
    # The journey to act on, where there is one; how many deadlines, for their row.
    journey_id: int | None = None
    deadlines: int = 0
    dismissable: bool = True


@dataclass(frozen=True)
class _Member:
    """A row of the "to confirm" list before the reader's teams are applied: the child,
    the reason, since when, the facts its sentence names, and what it points at."""

    child_id: int
    reason: str
    since: date
    facts: Mapping[str, str]
    journey_id: int | None = None
    deadlines: int = 0


@dataclass(frozen=True)
class Disagreement:
    """A child whose record and a person's journey disagree: both sides, side by side."""

    child_id: int
    reference: str
    reason: str
    title: str
    record: str
    journey: str
    journey_id: int
    journey_type: str
    since: date
    action: str


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list as of a day: the rows, and how many there are in all."""

    as_of: date
    rows: tuple[T, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one)."""
        return max(1, -(-self.total // self.page_size))


# --- the set-based reads ------------------------------------------------------------------


def _teams_or_refuse(principal: Principal) -> frozenset[str] | None:
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    return teams


def _import_user(conn: Connection) -> int | None:
    return conn.execute(select(U.c.id).where(U.c.username == IMPORT_USERNAME)).scalar()


def _person_journeys(
    conn: Connection, types: Sequence[str], teams: frozenset[str] | None
) -> dict[tuple[int, str], Any]:
    """Each child's newest active journey of ``types`` that a person moved (an event by
    someone other than the import), by (child, type), of the children with a care record
    in ``teams`` (None: every team).

    Only those: a disagreement needs the record, and the reader sees only those teams. At
    national size every active journey was read (150,000, 0.7 s on each My work page)
    though the list is of the imported children the reader may see (issue 12, item 4)."""
    importer = _import_user(conn)
    by_person = exists().where(
        E.c.journey_id == J.c.id, E.c.actor_id != importer if importer else E.c.id.is_not(None)
    )
    query = select(J.c.id, J.c.child_id, J.c.type, J.c.state).where(
        J.c.type.in_(types),
        J.c.status == "active",
        exists().where(CARE_EPISODES.c.child_pk == J.c.child_id),
        by_person,
    )
    if teams is not None:
        query = query.where(J.c.child_id.in_(select(C.c.id).where(C.c.team.in_(sorted(teams)))))
    rows = conn.execute(query.order_by(J.c.id))
    return {(r.child_id, r.type): r for r in rows}


def _references(
    conn: Connection, child_ids: Iterable[int], teams: frozenset[str] | None
) -> dict[int, str]:
    """The reference of each child the reader's teams may see."""
    ids = sorted(set(child_ids))
    out: dict[int, str] = {}
    for i in range(0, len(ids), _CHUNK):
        query = select(C.c.id, C.c.reference).where(C.c.id.in_(ids[i : i + _CHUNK]))
        if teams is not None:
            query = query.where(C.c.team.in_(sorted(teams)))
        out.update({r.id: r.reference for r in conn.execute(query)})
    return out


def _left_care(conn: Connection, on: date) -> dict[int, tuple[date, str | None]]:
    """Children with a care record whose latest episode to ``on`` ended on or before it:
    when, and the reason ceased (one statement, a window over each child's episodes)."""
    ep = CARE_EPISODES
    latest = (
        select(
            ep.c.child_pk,
            ep.c.end,
            ep.c.reason_ceased,
            func.row_number()
            .over(partition_by=ep.c.child_pk, order_by=(ep.c.start.desc(), ep.c.id.desc()))
            .label("n"),
        )
        .where(ep.c.withdrawn_by.is_(None), ep.c.start <= on)
        .subquery("latest")
    )
    rows = conn.execute(
        select(latest.c.child_pk, latest.c.end, latest.c.reason_ceased).where(
            latest.c.n == 1, latest.c.end.is_not(None), latest.c.end <= on
        )
    )
    return {r.child_pk: (r.end, r.reason_ceased) for r in rows}


def _parents_placement_ended(conn: Connection, on: date) -> dict[int, date]:
    """The day each child's latest placement with parents (P1) ended, where it ended by
    ``on``."""
    ep = CARE_EPISODES
    rows = conn.execute(
        select(ep.c.child_pk, func.max(ep.c.end))
        .where(
            ep.c.withdrawn_by.is_(None),
            ep.c.placement.in_(sorted(ssda903.PLACED_WITH_PARENTS)),
            ep.c.end.is_not(None),
            ep.c.end <= on,
        )
        .group_by(ep.c.child_pk)
    )
    return {child: ended for child, ended in rows}


def _label(field_name: str, code: str | None) -> str:
    if not code:
        return "no reason recorded"
    try:
        return ssda903.label(field_name, code)
    except KeyError:
        return f"code {code}"


def _journey_words(row: Any) -> str:
    state = _STATE_LABELS.get((row.type, row.state), row.state.replace("_", " "))
    return f"{_TYPE_TITLES.get(row.type, row.type)}: {state}."


# --- the lists ----------------------------------------------------------------------------


def _confirm_members(
    conn: Connection, on: date, teams: frozenset[str] | None = None, *, deadlines: bool = True
) -> list[_Member]:
    """Every row of the "to confirm" list on ``on`` (the deadlines' rows only of ``teams``'
    children, None every team, and none without ``deadlines``; the other rows are cut to
    the teams by the caller)."""
    D = CONFIRM_DISMISSALS
    dismissed = {
        (r.child_pk, r.reason, r.since)
        for r in conn.execute(select(D.c.child_pk, D.c.reason, D.c.since))
    }
    members = [
        m
        for m in (*_ico_members(conn, on), *_adopted_members(conn, on))
        if (m.child_id, m.reason, m.since) not in dismissed
    ]
    return members + (_deadline_members(conn, teams) if deadlines else [])


def _ico_members(conn: Connection, on: date) -> list[_Member]:
    current = _current(conn, on, None)
    ico = {
        c.child_id: c.ls_since
        for c in current.values()
        if c.legal_status in ssda903.INTERIM_CARE_ORDER
    }
    if not ico:
        return []
    with_proceedings = set(
        conn.execute(
            select(J.c.child_id).where(J.c.type == "care_proceedings").distinct()
        ).scalars()
    )
    return [
        _Member(child, ICO_WITHOUT_PROCEEDINGS, since, {})
        for child, since in ico.items()
        if child not in with_proceedings
    ]


def _adopted_members(conn: Connection, on: date) -> list[_Member]:
    """Children adopted on the record (their latest episode ended E11/E12 by ``on``) whose
    adoption journey is still open: the import takes it no further than the return dates."""
    # The open adoption journeys are few: read them first, and the record only if any.
    journeys = conn.execute(
        select(J.c.id, J.c.child_id, J.c.type, J.c.state)
        .where(J.c.type == "adoption", J.c.status == "active")
        .order_by(J.c.id)
    ).all()
    if not journeys:
        return []
    left = _left_care(conn, on)
    out: list[_Member] = []
    for row in journeys:
        ended, reason = left.get(row.child_id, (None, None))
        if ended is None or reason not in ssda903.ADOPTED:
            continue
        out.append(
            _Member(
                row.child_id,
                ADOPTED_WITHOUT_APPLICATION,
                ended,
                {
                    "reason_ceased": _label("REC", reason),
                    "state": _STATE_LABELS.get((row.type, row.state), row.state),
                    "todo": "record the adoption order"
                    if row.state == "application_lodged"
                    else "record the application and the adoption order",
                },
                journey_id=row.id,
            )
        )
    return out


def _deadline_members(conn: Connection, teams: frozenset[str] | None) -> list[_Member]:
    """A row per child with deadlines from before the service (the one rule:
    ``services.deadlines.to_confirm``), of ``teams``' children (None: every team's): how
    many, since the first one's due date."""
    query = (
        select(Dl.c.child_id, func.count(), func.min(Dl.c.due_on))
        .select_from(Dl.join(C, C.c.id == Dl.c.child_id))
        .where(deadline_rules.to_confirm())
        .group_by(Dl.c.child_id)
    )
    if teams is not None:
        query = query.where(C.c.team.in_(sorted(teams)))
    return [
        _Member(
            child,
            DEADLINE_BEFORE_SERVICE,
            first,
            {"deadlines": f"{count} deadline" if count == 1 else f"{count} deadlines"},
            deadlines=int(count),
        )
        for child, count, first in conn.execute(query)
    ]


def _paged(rows: list[T], page: int) -> tuple[T, ...]:
    first = (max(page, 1) - 1) * PAGE_SIZE
    return tuple(rows[first : first + PAGE_SIZE])


def _row(m: _Member, reference: str) -> ToConfirm:
    reason = CONFIRM_BY_NAME[m.reason]
    return ToConfirm(
        child_id=m.child_id,
        reference=reference,
        reason=m.reason,
        fact=reason.sentence.format(since=in_words(m.since), **m.facts),
        since=m.since,
        action=reason.action,
        journey_type=reason.journey_type,
        journey_id=m.journey_id,
        deadlines=m.deadlines,
        dismissable=reason.dismissable,
    )


def to_confirm(
    engine: Engine, principal: Principal, *, as_of: date | None = None, page: int = 1
) -> Page[ToConfirm]:
    """One page of the "to confirm" list on ``as_of`` (default today): the children the
    reader's teams may see, oldest fact first. Audited (``read.to_confirm``)."""
    teams = _teams_or_refuse(principal)
    on = as_of or today()
    with read_connection(engine) as conn:
        members = _confirm_members(conn, on, teams)
        refs = _references(conn, (m.child_id for m in members), teams)
    rows = sorted(
        (_row(m, refs[m.child_id]) for m in members if m.child_id in refs),
        key=lambda r: (r.since, r.reference, r.reason),
    )
    shown = _paged(rows, page)
    audit.audit_read(
        engine,
        principal,
        "to_confirm",
        [r.child_id for r in shown],
        details={"as_of": on.isoformat()},
    )
    return Page(on, shown, len(rows), max(page, 1), PAGE_SIZE)


def to_confirm_count(engine: Engine, principal: Principal, *, as_of: date | None = None) -> int:
    """How many children the reader may see are on the "to confirm" list (names no child,
    so nothing is audited); 0 for a reader who sees no children."""
    teams = principal.visible_teams()
    if teams is not None and not teams:
        return 0
    with read_connection(engine) as conn:
        members = _confirm_members(conn, as_of or today(), teams)
        return len(_references(conn, (m.child_id for m in members), teams))


def _disagree_members(
    conn: Connection, on: date, teams: frozenset[str] | None
) -> list[Disagreement]:
    """Every disagreement on ``on`` of the children in ``teams`` (None: all; references
    filled in later)."""
    journeys = _person_journeys(conn, [r.journey_type or "" for r in DISAGREE_REASONS], teams)
    if not journeys:
        return []
    current = _current(conn, on, None)
    out: list[Disagreement] = []

    def add(reason: str, child: int, since: date, journey: Any, **facts: str) -> None:
        r = DISAGREE_BY_NAME[reason]
        out.append(
            Disagreement(
                child_id=child,
                reference="",
                reason=reason,
                title=r.title,
                record=r.sentence.format(since=in_words(since), **facts),
                journey=_journey_words(journey),
                journey_id=journey.id,
                journey_type=journey.type,
                since=since,
                action=r.action,
            )
        )

    for c in current.values():
        adoption = journeys.get((c.child_id, "adoption"))
        if (
            c.legal_status in ssda903.PLACEMENT_ORDER
            and adoption is not None
            and adoption.state in _BEFORE_ORDER
        ):
            add(ADOPTION_BEHIND_ORDER, c.child_id, c.ls_since, adoption)
        proceedings = journeys.get((c.child_id, "care_proceedings"))
        if c.legal_status in ssda903.FULL_CARE_ORDER and proceedings is not None:
            add(CARE_ORDER_PROCEEDINGS_OPEN, c.child_id, c.ls_since, proceedings)
    left = _left_care(conn, on)
    for child, (ended, reason_ceased) in left.items():
        planning = journeys.get((child, "permanence_planning"))
        if planning is not None:
            add(
                CARE_ENDED_PLANNING_OPEN,
                child,
                ended,
                planning,
                reason_ceased=_label("REC", reason_ceased),
            )
    for child, ended in _parents_placement_ended(conn, on).items():
        parents = journeys.get((child, "placed_with_parents"))
        now = current.get(child)
        if parents is None or (now is not None and now.placement in ssda903.PLACED_WITH_PARENTS):
            continue
        words = (
            "the child is no longer looked after"
            if now is None
            else f"now {_label('PLACE', now.placement)} since {in_words(now.start)}"
        )
        add(PARENTS_PLACEMENT_ENDED, child, ended, parents, now=words)
    return out


def disagreement_count(engine: Engine, principal: Principal, *, as_of: date | None = None) -> int:
    """How many disagreements the reader may see (names no child, so nothing is audited);
    0 for a reader who sees no children."""
    teams = principal.visible_teams()
    if teams is not None and not teams:
        return 0
    with read_connection(engine) as conn:
        members = _disagree_members(conn, as_of or today(), teams)
        refs = _references(conn, (m.child_id for m in members), teams)
    return sum(1 for m in members if m.child_id in refs)


def disagreements(
    engine: Engine, principal: Principal, *, as_of: date | None = None, page: int = 1
) -> Page[Disagreement]:
    """One page of the "record and journeys disagree" list on ``as_of`` (default today):
    the children the reader's teams may see, oldest first. Audited (``read.disagreements``)."""
    teams = _teams_or_refuse(principal)
    on = as_of or today()
    with read_connection(engine) as conn:
        members = _disagree_members(conn, on, teams)
        refs = _references(conn, (m.child_id for m in members), teams)
    rows = sorted(
        (
            Disagreement(**{**m.__dict__, "reference": refs[m.child_id]})
            for m in members
            if m.child_id in refs
        ),
        key=lambda r: (r.since, r.reference, r.reason),
    )
    shown = _paged(rows, page)
    audit.audit_read(
        engine,
        principal,
        "disagreements",
        [r.child_id for r in shown],
        details={"as_of": on.isoformat()},
    )
    return Page(on, shown, len(rows), max(page, 1), PAGE_SIZE)


# --- nothing to confirm -------------------------------------------------------------------


class AlreadyDismissed(EngineError):
    status_code = 409
    code = "already_recorded"


@dataclass(frozen=True)
class DismissalOut:
    """A recorded "nothing to confirm"."""

    id: int
    child_id: int
    reason: str
    since: date
    version: int


def dismiss(
    engine: Engine,
    principal: Principal,
    child_id: int,
    *,
    reason: str,
    note: str,
    as_of: date | None = None,
) -> DismissalOut:
    """Record that there is nothing to confirm for the child's ``reason`` (a social worker
    or team manager of the child's team, a service manager), with the person's ``note``.
    It holds for the fact on the list on ``as_of`` (default today): 404 when the child is
    not on the list for that reason, 409 when it is already recorded. One write with its
    audit entry."""
    if principal.roles.isdisjoint(DISMISS_ROLES):
        raise AccessDenied(
            "Only a social worker, a team manager or a service manager records this."
        )
    text = note.strip()
    if not text:
        raise InvalidData(
            "Say why there is nothing to confirm.", errors=["Say why there is nothing to confirm."]
        )
    if len(text) > NOTE_MAX:
        message = f"The reason must be {NOTE_MAX} characters or fewer."
        raise InvalidData(message, errors=[message])
    if reason not in CONFIRM_BY_NAME:
        raise NotFound(f"There is no reason {reason!r} on the list.")
    if not CONFIRM_BY_NAME[reason].dismissable:
        raise NotFound("This is recorded on its own page, not as nothing to confirm.")
    on = as_of or today()
    D = CONFIRM_DISMISSALS
    try:
        with write_connection(engine) as conn:
            team = conn.execute(select(C.c.team).where(C.c.id == child_id)).scalar_one_or_none()
            if team is None:
                raise NotFound(f"There is no child {child_id}.")
            refusal = child_refusal(principal, team, write=True)
            if refusal:
                raise AccessDenied(refusal)
            member = next(
                (
                    m
                    for m in _confirm_members(conn, on, deadlines=False)
                    if m.child_id == child_id and m.reason == reason
                ),
                None,
            )
            if member is None:
                done = conn.execute(
                    select(D.c.id).where(and_(D.c.child_pk == child_id, D.c.reason == reason))
                ).first()
                if done is not None:
                    raise AlreadyDismissed("Nothing to confirm is already recorded for this.")
                raise NotFound("The child is not on the list to confirm for this reason.")
            since = member.since
            new_id = conn.execute(
                D.insert().values(
                    child_pk=child_id,
                    reason=reason,
                    since=since,
                    note=text,
                    recorded_by=principal.user_id,
                    recorded_at=now_utc(),
                    version=1,
                )
            ).inserted_primary_key
            assert new_id is not None
            audit.record(
                conn,
                actor_id=principal.user_id,
                action="care_record.nothing_to_confirm",
                entity="child",
                entity_id=child_id,
                details={"reason": reason, "since": since.isoformat(), "version": 1},
            )
    except IntegrityError as exc:
        # Two people at once: the unique row refuses the second.
        raise AlreadyDismissed("Nothing to confirm is already recorded for this.") from exc
    return DismissalOut(int(new_id[0]), child_id, reason, since, 1)
