"""The tracker of children discussed, and its circulation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)

from notifications.notify import Notified, notify
from notifications.render import long_date, panel_meeting
from panels.config import COHORTS
from panels.errors import PanelConflict
from panels.models import ACTIONS as ACT
from panels.models import CASES as PC
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import CIRCULATE_TRACKER, require, require_reader
from panels.results import (
    NO_DECISION,
    Circulation,
    TrackerChoices,
    TrackerFilters,
    TrackerPage,
    TrackerRow,
    stored_minutes,
)
from panels.service.common import PanelBase, quorum_words
from services import audit, cohort_snapshot
from services.access import Principal
from services.clock import today
from services.cohort_snapshot import MEMBERS as CM
from services.db import read_connection, write_connection
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from states.roles import SOCIAL_WORKER, TEAM_MANAGER


def _children_discussed(n: int) -> str:
    """``n`` children discussed, in words with the plural right."""
    return f"{n} child discussed" if n == 1 else f"{n} children discussed"


class TrackerMixin(PanelBase):
    """The tracker and its circulation."""

    def circulate_tracker(
        self, meeting_id: int, principal: Principal, on: date | None = None
    ) -> Circulation:
        """Circulate the tracker again after a meeting whose minutes are approved, to the
        team managers and social workers of the children it discussed.

        Once per meeting and London day: a retried or repeated request the same day tells
        nobody twice (the tracker it points to is the same that day); a circulation on a
        later day is a new one, since deadlines and RAG status have moved on.
        """
        require(principal, CIRCULATE_TRACKER)
        on = on or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status != "approved":
                raise PanelConflict("The tracker is circulated once the minutes are approved.")
            children = stored_minutes(meeting.minutes, meeting.minutes_status).children()
            done = self._circulate(conn, principal, meeting, children, on)
        return Circulation(
            meeting_id=meeting_id,
            circulated_on=on,
            notified=done.recipients,
            already_notified=done.already,
        )

    def _circulate(
        self, conn: Connection, principal: Principal, meeting: Any, children: list[int], on: date
    ) -> Notified:
        """Notify the tracker's circulation (and record it in the audit trail)."""
        recipients = self._circulation(conn, children)
        done = notify(
            conn,
            event_key=f"panel:{self.key}:tracker:{meeting.id}:{on.isoformat()}",
            event="panel_tracker_circulated",
            recipients=recipients,
            template="notify_tracker_circulated.txt",
            values={
                "panel": self.config.panel.name,
                "panel_meeting": panel_meeting(self.config.panel.name),
                "meeting_date_long": long_date(meeting.meeting_date),
                "count": len(set(children)),
                # The plural right: "1 child discussed", "3 children discussed".
                "children_discussed": _children_discussed(len(set(children))),
            },
            link="/panel/tracker",
            on=on,
            email=self.email,
        )
        self._audit(
            conn,
            principal,
            "panel_tracker_circulated",
            "panel_meeting",
            meeting.id,
            recipients=recipients,
            notified=done.recipients,
            children=sorted(set(children)),
            channel="notification",
            on=on.isoformat(),
        )
        return done

    def _circulation(self, conn: Connection, children: list[int]) -> list[int]:
        """Team managers of the children's teams and their allocated social workers."""
        if not children:
            return []
        rows = conn.execute(
            select(C.c.team, C.c.allocated_social_worker_id).where(
                C.c.id.in_(sorted(set(children)))
            )
        ).all()
        teams = {r.team for r in rows}
        roles = set(self.config.minutes.circulate_to)
        out = {
            r.allocated_social_worker_id
            for r in rows
            if r.allocated_social_worker_id and SOCIAL_WORKER in roles
        }
        for u in conn.execute(
            select(U.c.id, U.c.roles, U.c.team).where(
                and_(U.c.active.is_(True), U.c.team.in_(teams))
            )
        ):
            if TEAM_MANAGER in roles and TEAM_MANAGER in (u.roles or ()):
                out.add(u.id)
        return sorted(out)

    def tracked_cohorts(self) -> list[str]:
        """The cohorts the panel's parts take: the children the panel tracks from them."""
        return sorted({t for part in self.config.parts for t in part.takes if t in COHORTS})

    def _view(self, principal: Principal, as_of: date) -> tuple[Subquery, Any, Any]:
        """What every tracker read starts from: the tracked children (:meth:`_tracked`),
        the condition keeping the children the principal may see, and the cohorts'
        snapshot read (None when the panel's parts take no cohort)."""
        require_reader(principal)
        teams = principal.visible_teams()
        names = self.tracked_cohorts()
        snap = cohort_snapshot.current_snapshot(self.engine, as_of, names) if names else None
        tracked = self._tracked(snap.id if snap is not None else None, names)
        visible = C.c.team.in_(sorted(teams)) if teams is not None else true()
        return tracked, visible, snap

    def tracker_choices(self, principal: Principal, as_of: date | None = None) -> TrackerChoices:
        """What the unfiltered tracker the principal sees holds (its teams, journey types
        and last decisions' outcomes: the filters' choices), read in SQL without building
        a row."""
        as_of = as_of or today()
        tracked, visible, snap = self._view(principal, as_of)
        with read_connection(self.engine) as conn:
            return self._choices(conn, tracked, visible, snap)

    def _choices(
        self, conn: Connection, tracked: Subquery, visible: Any, snap: Any
    ) -> TrackerChoices:
        groups = conn.execute(
            select(C.c.team, J.c.type, func.count().label("n"))
            .select_from(
                tracked.join(C, C.c.id == tracked.c.child_id).outerjoin(
                    J, J.c.id == tracked.c.journey_id
                )
            )
            .where(visible)
            .group_by(C.c.team, J.c.type)
        ).all()
        shown = (
            select(tracked.c.child_id)
            .select_from(tracked.join(C, C.c.id == tracked.c.child_id))
            .where(visible)
        )
        # A child's last decision is its latest meeting's (then the later decision's).
        last: dict[int, str | None] = {}
        for r in conn.execute(
            select(DEC.c.child_id, DEC.c.outcome)
            .select_from(DEC.join(M, M.c.id == DEC.c.meeting_id))
            .where(and_(M.c.panel == self.key, DEC.c.child_id.in_(shown)))
            .order_by(M.c.meeting_date, DEC.c.id)
        ):
            last[r.child_id] = r.outcome
        return TrackerChoices(
            teams=sorted({g.team for g in groups}),
            journey_types=sorted({g.type for g in groups if g.type}),
            outcomes=sorted({o for o in last.values() if o}),
            cohorts_computed_at=snap.computed_at if snap is not None else None,
            counts={(g.team, g.type): int(g.n) for g in groups},
        )

    @staticmethod
    def _counted(filters: TrackerFilters, held: TrackerChoices) -> int | None:
        """How many children ``filters`` keep, from the choices' group counts when they
        filter on team and journey only (else None: counted in SQL)."""
        if filters.rag or filters.outcome or filters.overdue or filters.q:
            return None
        return sum(
            n
            for (team, journey_type), n in held.counts.items()
            if (not filters.team or team == filters.team)
            and (not filters.journey_type or journey_type == filters.journey_type)
        )

    def tracker_page(
        self,
        principal: Principal,
        as_of: date | None = None,
        filters: TrackerFilters | None = None,
        *,
        page: int = 1,
        page_size: int = 200,
    ) -> TrackerPage:
        """One page of the tracker (:meth:`tracker`) as ``filters`` keep it, in child
        order, with the filters' choices (:meth:`tracker_choices`; a filter naming a value
        the tracker does not hold is dropped and named in ``dropped``). The filters, the
        order, the count and the page are SQL over the tracked children, and only the
        page's rows have their deadlines, decisions and actions read and built (a national
        panel following every cohort member tracks 83,000 children; building them all to
        show 200 took seconds). ``page`` past the last is the last. The read is audited
        with the children shown."""
        as_of = as_of or today()
        tracked, visible, snap = self._view(principal, as_of)
        with read_connection(self.engine) as conn:
            held = self._choices(conn, tracked, visible, snap)
            filters, dropped = held.known(filters or TrackerFilters())
            keep = self._filtered(tracked, visible, as_of, filters)
            total = self._counted(filters, held)
            if total is None:
                total = int(
                    conn.execute(select(func.count()).select_from(keep.subquery())).scalar_one()
                )
            page = max(1, min(page, (total - 1) // page_size + 1))
            chosen = conn.execute(
                keep.order_by(tracked.c.child_id).limit(page_size).offset((page - 1) * page_size)
            ).all()
            # The page's children by id: at most page_size parameters.
            ids = [r.child_id for r in chosen]
            rows = self._rows(conn, chosen, ids, as_of, snap) if ids else []
        audit.audit_read(
            self.engine,
            principal,
            "tracker",
            [r.child_id for r in rows],
            details={"panel": self.key, "format": "view", "page": page},
        )
        return TrackerPage(
            rows=rows,
            total=total,
            page=page,
            more=page * page_size < total,
            choices=held,
            dropped=dropped,
        )

    def tracker(
        self,
        principal: Principal,
        as_of: date | None = None,
        *,
        export: str | None = None,
        filters: TrackerFilters | None = None,
    ) -> list[TrackerRow]:
        """Every child the panel follows (as ``filters`` keep them, in child order),
        decided on or not: its cases, its referrals, the children its agendas listed and
        the members of the cohorts its parts take (Sefton: "once the order is made the
        child needs to be added to the panel tracker"). Each with journey, state, next
        deadline, last decision (None: no decision yet), open actions, review date, RAG,
        and when the cohorts' members were computed. The read is audited with the
        children's ids, as an export when ``export`` names its format ("csv", "xlsx").

        Bounded at any size: the tracked children are one subquery (:meth:`_tracked`) that
        the children's, deadlines' and actions' reads join, so each reads only the tracked
        children's rows by index and no query passes their ids as parameters (at 84,000
        children that list failed). The cohorts' members come from the newest snapshot
        (``services.cohort_snapshot``), not computed per view. The page reads one page of
        it: :meth:`tracker_page`.
        """
        as_of = as_of or today()
        tracked, visible, snap = self._view(principal, as_of)
        with read_connection(self.engine) as conn:
            keep = self._filtered(tracked, visible, as_of, filters or TrackerFilters())
            chosen = conn.execute(keep.order_by(tracked.c.child_id)).all()
            out = (
                self._rows(conn, chosen, keep.with_only_columns(tracked.c.child_id), as_of, snap)
                if chosen
                else []
            )
        audit.audit_read(
            self.engine,
            principal,
            "tracker_export" if export else "tracker",
            [r.child_id for r in out],
            details={"panel": self.key, "format": export or "view"},
        )
        return out

    def _filtered(
        self, tracked: Subquery, visible: Any, as_of: date, filters: TrackerFilters
    ) -> Select[Any]:
        """The tracked children the principal sees that ``filters`` keep, with what a row
        shows of the child and journey (unordered). The RAG, overdue and last-decision
        filters are correlated subqueries on the child's open deadlines and the panel's
        decisions, added only when set, so an unfiltered page reads neither."""
        cid = tracked.c.child_id
        conditions: list[Any] = [visible]
        if filters.team:
            conditions.append(C.c.team == filters.team)
        if filters.journey_type:
            conditions.append(J.c.type == filters.journey_type)
        if filters.q:
            conditions.append(
                func.lower(C.c.reference).contains(filters.q.lower(), autoescape=True)
            )
        if filters.rag or filters.overdue:
            next_due, overdue = self._deadline_figures(cid, as_of)
            if filters.overdue:
                conditions.append(overdue > 0)
            if filters.rag:
                conditions.append(self._rag(next_due, overdue, as_of) == filters.rag)
        if filters.outcome:
            last = (
                select(DEC.c.outcome)
                .select_from(DEC.join(M, M.c.id == DEC.c.meeting_id))
                .where(and_(M.c.panel == self.key, DEC.c.child_id == cid))
                .order_by(M.c.meeting_date.desc(), DEC.c.id.desc())
                .limit(1)
                .scalar_subquery()
            )
            conditions.append(
                func.coalesce(last, "") == ""
                if filters.outcome == NO_DECISION
                else last == filters.outcome
            )
        return (
            select(
                cid.label("child_id"),
                tracked.c.journey_id,
                C.c.reference,
                C.c.team,
                J.c.type,
                J.c.state,
            )
            .select_from(
                tracked.join(C, C.c.id == cid).outerjoin(J, J.c.id == tracked.c.journey_id)
            )
            .where(and_(*conditions))
        )

    def _rag(self, next_due: Any, overdue: Any, as_of: date) -> Any:
        """The RAG rule, the one place it is written (the filter and the rows both use
        it, on :meth:`_deadline_figures`' two figures): red when a deadline is overdue,
        amber when the next open one falls due within the panel's ``amber_within_days``,
        else green (none open: green)."""
        amber_by = as_of + timedelta(days=self.config.tracker.amber_within_days)
        # The three words are the rule's own constants, written into the statement (not
        # bound: the tracker's statements stay short of parameters, see its tests).
        return case(
            (overdue > 0, literal_column("'red'")),
            (next_due <= amber_by, literal_column("'amber'")),
            else_=literal_column("'green'"),
        )

    def _rows(
        self,
        conn: Connection,
        chosen: Sequence[Any],
        ids: list[int] | Select[Any],
        as_of: date,
        snap: Any,
    ) -> list[TrackerRow]:
        """The rows of the ``chosen`` children (their ids: a list of at most a page, or
        the subquery they came from), with their next deadlines and RAG, last decisions,
        open actions and review dates, each read for those children only."""
        deadlines = self._next_deadlines(conn, as_of, ids)
        last: dict[int, Any] = {}
        for dec_row in conn.execute(
            select(
                DEC.c.id,
                DEC.c.child_id,
                DEC.c.outcome,
                DEC.c.quorate,
                DEC.c.ratification,
                DEC.c.ratification_reason,
                DEC.c.ratified_meeting_id,
                M.c.meeting_date,
            )
            .select_from(DEC.join(M, M.c.id == DEC.c.meeting_id))
            .where(and_(M.c.panel == self.key, DEC.c.child_id.in_(ids)))
            .order_by(M.c.meeting_date, DEC.c.id)
        ):
            last[dec_row.child_id] = dec_row
        quorum = quorum_words(conn, list(last.values()))
        actions = {
            r.child_id: r
            for r in conn.execute(
                select(
                    ACT.c.child_id,
                    func.count().label("open"),
                    func.min(ACT.c.due_on).label("next_due"),
                )
                .where(and_(ACT.c.status == "open", ACT.c.child_id.in_(ids)))
                .group_by(ACT.c.child_id)
            )
        }
        reviews = {
            r.child_id: r
            for r in conn.execute(
                select(PC.c.child_id, PC.c.next_review_on, PC.c.review_weeks).where(
                    and_(PC.c.panel == self.key, PC.c.child_id.in_(ids))
                )
            )
        }
        computed_at = snap.computed_at if snap is not None else None
        out = []
        for row in chosen:
            cid = row.child_id
            nxt = deadlines[cid]
            dec = last.get(cid)
            review = reviews.get(cid)
            act = actions.get(cid)
            out.append(
                TrackerRow(
                    child_id=cid,
                    child_reference=row.reference,
                    team=row.team,
                    journey_id=row.journey_id,
                    journey_type=row.type if row.journey_id is not None else None,
                    state=row.state if row.journey_id is not None else None,
                    next_deadline=nxt.kind,
                    next_deadline_due=nxt.due_on,
                    overdue_deadlines=int(nxt.overdue or 0),
                    last_decision=dec.outcome if dec else None,
                    last_decision_on=dec.meeting_date if dec else None,
                    open_actions=int(act.open) if act else 0,
                    next_action_due=act.next_due if act else None,
                    next_review_on=review.next_review_on if review else None,
                    review_weeks=review.review_weeks if review else None,
                    rag=nxt.rag,
                    last_decision_quorum=quorum[dec.id] if dec else "",
                    cohorts_computed_at=computed_at,
                )
            )
        return out

    def _tracked(self, snapshot_id: int | None, names: list[str]) -> Subquery:
        """Every child the panel tracks (``child_id``) with the journey it is tracked
        through (``journey_id``), as one subquery: its cases first, then its referrals not
        withdrawn, its agendas' items and the members of its cohorts in the snapshot (a
        source that names a journey fills a child's journey an earlier one left empty).

        Each source is read by the panel (or the snapshot and cohort) and ranked; a window
        keeps each child's first row naming a journey, else its first row."""
        sources: list[Any] = [
            select(
                PC.c.child_id,
                PC.c.journey_id,
                literal(0).label("source"),
                PC.c.id.label("seq"),
            ).where(PC.c.panel == self.key),
            select(
                R.c.child_id,
                R.c.journey_id,
                literal(1).label("source"),
                R.c.id.label("seq"),
            ).where(and_(R.c.panel == self.key, R.c.status != "withdrawn")),
            select(
                I.c.child_id,
                I.c.journey_id,
                literal(2).label("source"),
                I.c.id.label("seq"),
            )
            .select_from(I.join(M, M.c.id == I.c.meeting_id))
            .where(M.c.panel == self.key),
        ]
        if snapshot_id is not None and names:
            sources.append(
                select(
                    CM.c.child_id,
                    CM.c.journey_id,
                    literal(3).label("source"),
                    CM.c.id.label("seq"),
                ).where(and_(CM.c.snapshot_id == snapshot_id, CM.c.cohort.in_(names)))
            )
        every = union_all(*sources).subquery("tracked_rows")
        ranked = select(
            every.c.child_id,
            every.c.journey_id,
            func.row_number()
            .over(
                partition_by=every.c.child_id,
                order_by=(
                    case((every.c.journey_id.is_(None), 1), else_=0),
                    every.c.source,
                    every.c.seq,
                ),
            )
            .label("n"),
        ).subquery("tracked_ranked")
        first = select(ranked.c.child_id, ranked.c.journey_id).where(ranked.c.n == 1)
        return first.subquery("tracked")

    def _next_deadlines(
        self, conn: Connection, on: date, children: list[int] | Select[Any]
    ) -> dict[int, Any]:
        """Each of ``children``'s (ids, or a subquery of them) earliest open deadline (its
        kind and due date; the first kind by name when two fall due the same day), how
        many of its open ones are overdue, and its RAG (:meth:`_rag`): one row a child,
        its deadline None when none is open.

        Each is a lookup of the child's open deadlines by ``ix_deadline_child_status_due``
        (the same subqueries the RAG filter uses), so the children are named once."""
        due, overdue = self._deadline_figures(C.c.id, on)
        per = (
            select(C.c.id.label("child_id"), due.label("due_on"), overdue.label("overdue"))
            .where(C.c.id.in_(children))
            .subquery("next_due")
        )
        kind = (
            select(func.min(D.c.kind))
            .where(
                and_(
                    D.c.child_id == per.c.child_id,
                    D.c.status == "open",
                    D.c.due_on == per.c.due_on,
                )
            )
            .scalar_subquery()
        )
        rows = conn.execute(
            select(
                per.c.child_id,
                per.c.due_on,
                per.c.overdue,
                kind.label("kind"),
                self._rag(per.c.due_on, per.c.overdue, on).label("rag"),
            )
        )
        return {r.child_id: r for r in rows}

    @staticmethod
    def _deadline_figures(child_id: Any, on: date) -> tuple[Any, Any]:
        """The earliest due date of the open deadlines of the child ``child_id`` names (a
        column of the enclosing query) and how many of them are overdue on ``on``: two
        correlated subqueries."""
        open_of_child = and_(D.c.child_id == child_id, D.c.status == "open")
        next_due = select(func.min(D.c.due_on)).where(open_of_child).scalar_subquery()
        overdue = (
            select(func.count())
            .select_from(D)
            .where(and_(open_of_child, D.c.due_on < on))
            .scalar_subquery()
        )
        return next_due, overdue
