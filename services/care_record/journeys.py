"""Journeys from the care record (issue 13 item 5): started and advanced through the engine.

After a child's record is written (in the same savepoint, so the child's rows and journeys
apply together or not at all) :func:`derive_journeys` brings the child's journeys up to what
the record shows, back-dated, through :class:`services.journeys.JourneyService` — the same
checks, history and deadlines as an event fired on the API:

* ``permanence_planning`` for a child looked after on the day, started on the first day of
  the current period of care, then one ``hold_review`` per review on record in that period;
* ``placed_with_parents`` where the open episode's placement is with parents (``P1``),
  started on the day that placement began;
* ``adoption`` at the state the facts show: a should-be-placed-for-adoption decision
  (``sbpfa_decided``), a placement order (legal status ``E1``: ``placement_order_granted``),
  placed for adoption (``A3``-``A6``: ``placed``); and for a child whose period of care
  ended with an adoption order (reason ceased ``E11``/``E12``), the same facts of that
  period, then the order (``adopted``, dated the episode's end) once the journey stands at
  ``application_lodged``. The return holds no application's date and the engine's guard on
  ``lodge_application`` (ten weeks with the adopters) needs one, so the import never
  records the application: the child goes on the "to confirm" list
  (``services.care_record.lists``) until a person does. An application recorded while the
  child is placed is followed by the order when the extract that shows it is imported (an
  unchanged child is not looked at again, so one recorded after that asks the person for
  the order too). That one step follows a journey a person moved, since it is the record's fact
  that comes next: nothing is rewound or fired twice.

The actor is the import's system user (:data:`IMPORT_USERNAME`, who cannot sign in); every
event's data carries ``import_id``, ``source_file`` and ``source_row`` beside its fields.

A child the import has just created has no journeys, so nothing is looked up for it: its
starts and events are planned on :class:`services.journey_batch.NewJourneys` (the engine's
planning, as the service plans them) and written together once planned; the steps below
are the same for either writer.

Nothing twice, nothing rewound: a journey of the type that already exists is advanced only
while every event on it came from an import, and only by the steps the record shows beyond
where it stands; a journey a person moved, or one past what the record shows, is left as it
is. Events the return cannot supply (the regional adoption agency, the adopters) are given
the words :data:`NOT_IN_RETURN`, so the social worker sees they came from the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select

from services.access import Principal
from services.care_record.derive import (
    PeriodOfCare,
    current_period_of_care,
    current_placement_start,
    latest_period_of_care,
    placement_start_of,
)
from services.care_record.records import ChildRecord, Source
from services.clock import now_utc
from services.db import insert_id
from services.journey_batch import NewJourneys
from services.journeys import JourneyService
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.models import USERS as U
from states.roles import ADM, IRO, SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER
from states.ssda903 import (
    ADOPTED,
    CHILD_ARRANGEMENTS,
    PLACED_FOR_ADOPTION,
    PLACED_WITH_PARENTS,
    PLACEMENT_ORDER,
    RETURNED_HOME,
    SPECIAL_GUARDIANSHIP,
)
from workflow.calendar import add_months

IMPORT_USERNAME = "system:care-record-import"
"""The system user every imported event is recorded by (inactive: nobody signs in as it)."""

IMPORT_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER, SERVICE_MANAGER, ADM, IRO})
"""Every role the derived events need (the ADM's decisions included): the import records
decisions already taken and on the return, it does not take them."""

NOT_IN_RETURN = "not in the SSDA903 return"

ADOPTED_WITHIN_MONTHS = 12
"""A child first seen already adopted gets an adoption journey only for an order in the
last 12 months (the return's year): a several-years import does not open journeys, and
"to confirm" rows, for adoptions long past. A journey started earlier is always followed."""

# The adoption journey's steps the record can show, in order, with the level each reaches.
_ADOPTION_STEPS: tuple[tuple[str, int], ...] = (
    ("link_raa", 1),
    ("complete_cpr", 1),
    ("decide_sbpfa", 1),
    ("grant_placement_order", 2),
    ("propose_match", 3),
    ("approve_match", 3),
    ("move_in", 3),
)


@dataclass
class Derived:
    """What deriving one child's journeys wrote: journeys started and events recorded
    (a start counts as an event, as it does in a journey's history)."""

    started: int = 0
    events: int = 0


def import_principal(conn: Connection) -> Principal:
    """The import's system user as a principal, created (inactive, no password) on first use."""
    row = conn.execute(select(U.c.id).where(U.c.username == IMPORT_USERNAME)).first()
    if row is None:
        user_id = insert_id(
            conn.execute(
                insert(U).values(
                    username=IMPORT_USERNAME,
                    display_name="Care record import",
                    password_hash="!",  # no password verifies against it
                    roles=sorted(IMPORT_ROLES),
                    team=None,
                    active=False,
                    created_at=now_utc(),
                )
            )
        )
    else:
        user_id = row.id
    return Principal(user_id, IMPORT_USERNAME, IMPORT_ROLES, None)


def _provenance(import_id: int, source: Source, name: str) -> dict[str, Any]:
    return {"import_id": import_id, "source_file": name, "source_row": source.row}


@dataclass(frozen=True)
class _Existing:
    id: int
    state: str
    status: str
    version: int
    events: dict[str, int]
    by_person: bool
    started_on: date


def _existing(conn: Connection, child_pk: int, import_user: int) -> dict[str, _Existing]:
    """The child's journeys by type (the newest of each), with their events counted by name
    and whether any event came from someone other than the import."""
    rows = conn.execute(
        select(J.c.id, J.c.type, J.c.state, J.c.status, J.c.version, J.c.started_on)
        .where(J.c.child_id == child_pk)
        .order_by(J.c.id)
    ).all()
    if not rows:
        return {}
    counts: dict[int, dict[str, int]] = {}
    people: set[int] = set()
    for jid, event, actor, n in conn.execute(
        select(E.c.journey_id, E.c.event, E.c.actor_id, func.count())
        .where(E.c.journey_id.in_([r.id for r in rows]))
        .group_by(E.c.journey_id, E.c.event, E.c.actor_id)
    ):
        counts.setdefault(jid, {})
        counts[jid][event] = counts[jid].get(event, 0) + n
        if actor != import_user:
            people.add(jid)
    return {
        r.type: _Existing(
            r.id,
            r.state,
            r.status,
            r.version,
            counts.get(r.id, {}),
            r.id in people,
            r.started_on,
        )
        for r in rows
    }


def adopted_period(record: ChildRecord, day: date) -> PeriodOfCare | None:
    """The child's latest period of care when it ended, by ``day``, with an adoption order
    (reason ceased ``E11``/``E12``): the order's date is the period's end."""
    period = latest_period_of_care(record, day)
    if period is None or period.end is None or period.end > day:
        return None
    return period if period.episodes[-1].reason_ceased in ADOPTED else None


def adoption_facts(
    record: ChildRecord, day: date, period: PeriodOfCare | None = None
) -> tuple[int, dict[str, tuple[date, Source]]]:
    """How far the record shows the child's adoption (0 none, 1 should-be-placed decision,
    2 placement order, 3 placed for adoption) in the current period of care (or in
    ``period``, the one an adoption ended: :func:`adopted_period`), with the date and source
    of each fact; ``adopted`` is the adoption order's, where the period ended with one."""
    period = period or current_period_of_care(record, day)
    if period is None:
        return 0, {}
    ended = period.end is not None and period.end <= day
    facts: dict[str, tuple[date, Source]] = {}
    for decision in record.adoption_decisions:
        if period.start <= decision.decided_on <= day and (
            decision.ceased_on is None or decision.ceased_on > day
        ):
            facts.setdefault("sbpfa", (decision.decided_on, decision.source))
    for episode in period.episodes:
        if episode.start > day:
            break
        if episode.legal_status in PLACEMENT_ORDER:
            facts.setdefault("order", (episode.start, episode.source))
    current = period.episodes[-1]
    # Placed with the adopters on the day, or until the adoption order ended the period.
    if current.placement in PLACED_FOR_ADOPTION and (
        ended or current.end is None or current.end > day
    ):
        # As it stood on the day while the child is placed; the ended placement's own start
        # once the order ended it.
        start = (
            placement_start_of(record, current)
            if ended
            else current_placement_start(record, day) or current.start
        )
        facts["placed"] = (start, current.source)
        for match in record.adoption_matches:
            if match.matched_on <= start:
                facts["matched"] = (match.matched_on, match.source)
    if ended and current.end is not None and current.reason_ceased in ADOPTED:
        facts["adopted"] = (current.end, current.source)
    level = 3 if "placed" in facts else 2 if "order" in facts else 1 if "sbpfa" in facts else 0
    return level, facts


class _Through:
    """Starts and events through :class:`JourneyService` one by one, in the caller's
    transaction (a child that may already have journeys); a handle is the journey's id and
    version, kept current."""

    def __init__(
        self,
        conn: Connection,
        service: JourneyService,
        principal: Principal,
        child_pk: int,
        provenance: Callable[[Source], dict[str, Any]],
    ) -> None:
        self.conn = conn
        self.service = service
        self.principal = principal
        self.child_pk = child_pk
        self.provenance = provenance

    def start(self, kind: str, on: date, source: Source) -> list[int]:
        view = self.service.start(
            self.child_pk,
            kind,
            started_on=on,
            data=None,
            principal=self.principal,
            conn=self.conn,
            provenance=self.provenance(source),
        )
        return [view.id, view.version]

    def fire(
        self, handle: list[int], event: str, on: date, source: Source, data: dict[str, Any]
    ) -> None:
        view = self.service.fire(
            handle[0],
            event=event,
            expected_version=handle[1],
            occurred_on=on,
            data=data,
            principal=self.principal,
            conn=self.conn,
            provenance=self.provenance(source),
        )
        handle[1] = view.version


class _Held:
    """Starts and events planned on a new child's journeys held in memory
    (:class:`services.journey_batch.NewJourneys`, written once the child's are all planned);
    a handle is the journey's position."""

    def __init__(self, new: NewJourneys, provenance: Callable[[Source], dict[str, Any]]) -> None:
        self.new = new
        self.provenance = provenance

    def start(self, kind: str, on: date, source: Source) -> int:
        return self.new.start(kind, started_on=on, provenance=self.provenance(source))

    def fire(self, handle: int, event: str, on: date, source: Source, data: dict[str, Any]) -> None:
        self.new.fire(
            handle, event=event, occurred_on=on, data=data, provenance=self.provenance(source)
        )


def derive_journeys(
    conn: Connection,
    service: JourneyService,
    principal: Principal,
    *,
    child_pk: int,
    record: ChildRecord,
    import_id: int,
    name: Any,
    day: date,
    new: NewJourneys | None = None,
) -> Derived:
    """Bring one child's journeys up to what ``record`` shows on ``day`` (module docstring).

    ``name`` maps a source's file to how the report names it. ``new`` is given for a child
    created in this transaction: it has no journeys, so none is looked up, and the starts
    and events are planned on ``new`` and written together (``services.journey_batch``)
    instead of one by one through ``service``; the same steps either way. Raises what the
    engine raises (the importer's savepoint then drops the child's rows with its journeys).
    """
    done = Derived()
    period = current_period_of_care(record, day)
    if period is None and not record.episodes:
        return done

    def provenance(source: Source) -> dict[str, Any]:
        return _provenance(import_id, source, name(source.file))

    writer: Any
    if new is not None:
        existing: dict[str, _Existing] = {}
        writer = _Held(new, provenance)
    else:
        existing = _existing(conn, child_pk, principal.user_id)
        writer = _Through(conn, service, principal, child_pk, provenance)

    def start(kind: str, on: date, source: Source) -> Any:
        handle = writer.start(kind, on, source)
        done.started += 1
        done.events += 1
        return handle

    def fire(handle: Any, event: str, on: date, source: Source, data: dict[str, Any]) -> None:
        writer.fire(handle, event, on, source, data)
        done.events += 1

    def held(journey: _Existing) -> list[int]:
        return [journey.id, journey.version]

    # What a later extract ended: closed only where the import alone moved the journey.
    ended = _ended(record, day, period)
    pwp = existing.get("placed_with_parents")
    if ended.parents and pwp is not None and pwp.status == "active" and not pwp.by_person:
        on, source, words = ended.parents
        fire(
            held(pwp),
            "end_placement",
            max(on, pwp.started_on),
            source,
            {"reason": f"The care record shows the placement with parents ended: {words}."},
        )

    def adoption(within: PeriodOfCare, level: int, facts: dict[str, tuple[date, Source]]) -> None:
        """The adoption journey up to what ``facts`` show: started at ``within``'s start,
        then each step the record dates, in order; where the period ended with an adoption
        order, that order on a journey standing at ``application_lodged``."""
        ad = existing.get("adoption")
        adopted = facts.get("adopted")
        if ad is not None and ad.status != "active":
            return
        state = ad.state if ad is not None else None
        handle = held(ad) if ad is not None else None
        if (level or adopted) and (ad is None or not ad.by_person):
            if ad is None:
                first_fact = (
                    facts.get("sbpfa") or facts.get("order") or facts.get("placed") or adopted
                )
                assert first_fact is not None  # level or adopted: one of them is there
                handle = start("adoption", within.start, first_fact[1])
                fired: dict[str, int] = {}
                state = "plan_considered"
            else:
                fired = ad.events
            last = within.start
            for event, needs in _ADOPTION_STEPS:
                if needs > level:
                    break
                if fired.get(event):
                    continue
                when, source = _step_fact(event, facts)
                last = max(last, when)
                fire(handle, event, last, source, _step_data(event))
                state = _ADOPTION_REACHES[event]
        # The return holds no application's date, so the import never lodges one (the
        # engine's ten-week guard asks for it): until a person records the application the
        # child is on the "to confirm" list (services.care_record.lists). Once it is on the
        # journey, the adoption order the record dates is the next step, whoever moved the
        # journey: nothing is rewound or fired twice (the state says it is the next step).
        # Only a journey read from the database can stand there (the import never lodges).
        if adopted is None or ad is None or state != "application_lodged":
            return
        lodged = _application_lodged_on(conn, ad.id)
        if lodged is None or adopted[0] < lodged:
            return  # the record and the journey disagree on the order: left to a person
        fire(handle, "grant_adoption_order", adopted[0], adopted[1], {})

    if period is None:
        gone = adopted_period(record, day)
        recent = add_months(day, -ADOPTED_WITHIN_MONTHS)
        if gone is not None and ("adoption" in existing or (gone.end or day) > recent):
            adoption(gone, *adoption_facts(record, day, gone))
        pp = existing.get("permanence_planning")
        if ended.care and pp is not None and pp.status == "active" and not pp.by_person:
            on, source, code = ended.care
            fire(
                held(pp),
                "cease_looked_after",
                max(on, pp.started_on),
                source,
                {"reason": _CEASED.get(code or "", "other")},
            )
        if new is not None:
            new.write(conn, day=day)
        return done
    first = period.episodes[0]

    # Permanence planning: started at the period's start, one review event per review held.
    reviews = [r for r in record.reviews if period.start <= r.held_on <= day]
    pp = existing.get("permanence_planning")
    if pp is None or pp.status != "active":
        if pp is None:
            handle = start("permanence_planning", period.start, first.source)
            for review in reviews:
                fire(handle, "hold_review", review.held_on, review.source, {})
    elif not pp.by_person:
        handle = held(pp)
        for review in reviews[pp.events.get("hold_review", 0) :]:
            fire(handle, "hold_review", review.held_on, review.source, {})

    # Placed with parents: the open episode's placement.
    current = period.episodes[-1]
    if current.placement in PLACED_WITH_PARENTS and "placed_with_parents" not in existing:
        on = current_placement_start(record, day) or current.start
        start("placed_with_parents", on, current.source)

    # Adoption at the state the facts show.
    level, facts = adoption_facts(record, day)
    adoption(period, level, facts)
    if new is not None:
        new.write(conn, day=day)
    return done


# The reason a period of care ended (REC) as the permanence planning journey's choices say it.
_CEASED: dict[str, str] = {
    **dict.fromkeys(ADOPTED, "adopted"),
    **dict.fromkeys(SPECIAL_GUARDIANSHIP, "special_guardianship_order"),
    **dict.fromkeys(CHILD_ARRANGEMENTS, "child_arrangements_order"),
    **dict.fromkeys(RETURNED_HOME, "returned_home"),
    "E3": "transferred",
}


@dataclass(frozen=True)
class _Ended:
    """What the record shows ended by the day: the period of care (its end, source and
    reason ceased) when the child is no longer looked after; the placement with parents
    (its end, source and what followed in words) when the child is no longer placed there."""

    care: tuple[date, Source, str | None] | None
    parents: tuple[date, Source, str] | None


def _ended(record: ChildRecord, day: date, period: PeriodOfCare | None) -> _Ended:
    episodes = [e for e in record.episodes if e.start <= day]
    if not episodes:
        return _Ended(None, None)
    last = episodes[-1]
    care = None
    if period is None and last.end is not None and last.end <= day:
        care = (last.end, last.source, last.reason_ceased)
    still_with_parents = period is not None and period.episodes[-1].placement in (
        PLACED_WITH_PARENTS
    )
    parents = None
    if not still_with_parents:
        closed = [
            (e.end, e.source)
            for e in episodes
            if e.placement in PLACED_WITH_PARENTS and e.end is not None and e.end <= day
        ]
        if closed:
            words = "the child left care" if period is None else "the child moved placement"
            parents = (*closed[-1], words)
    return _Ended(care, parents)


def _step_fact(event: str, facts: dict[str, tuple[date, Source]]) -> tuple[date, Source]:
    """The fact an adoption step is dated and sourced by (the nearest one the record holds)."""
    order = {
        "link_raa": ("sbpfa", "order", "placed"),
        "complete_cpr": ("sbpfa", "order", "placed"),
        "decide_sbpfa": ("sbpfa", "order", "placed"),
        "grant_placement_order": ("order", "placed"),
        "propose_match": ("matched", "placed"),
        "approve_match": ("matched", "placed"),
        "move_in": ("placed",),
    }[event]
    for key in order:
        if key in facts:
            return facts[key]
    raise KeyError(event)  # pragma: no cover - the levels make one of them present


# The state each step the import fires reaches.
_ADOPTION_REACHES: dict[str, str] = {
    "link_raa": "raa_linked",
    "complete_cpr": "cpr_complete",
    "decide_sbpfa": "sbpfa_decided",
    "grant_placement_order": "placement_order_granted",
    "propose_match": "match_proposed",
    "approve_match": "match_approved",
    "move_in": "placed",
}


def _application_lodged_on(conn: Connection, journey_id: int) -> date | None:
    """The application's date recorded on an adoption journey (None if not recorded)."""
    data = conn.execute(select(J.c.data).where(J.c.id == journey_id)).scalar_one()
    value = (data or {}).get("application_lodged_on")
    return date.fromisoformat(value) if value else None


def _step_data(event: str) -> dict[str, Any]:
    if event == "link_raa":
        return {"raa": NOT_IN_RETURN}
    if event == "propose_match":
        return {"adopters_reference": NOT_IN_RETURN}
    return {}
