"""The tracker of children discussed, and its circulation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
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
from panels.results import Circulation, TrackerRow, stored_minutes
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

    def tracker(
        self, principal: Principal, as_of: date | None = None, *, export: str | None = None
    ) -> list[TrackerRow]:
        """Every child the panel follows, decided on or not: its cases, its referrals, the
        children its agendas listed and the members of the cohorts its parts take (Sefton:
        "once the order is made the child needs to be added to the panel tracker"). Each
        with journey, state, next deadline, last decision (None: no decision yet), open
        actions, review date, RAG, and when the cohorts' members were computed. The read is
        audited with the children's ids, as an export when ``export`` names its format
        ("csv", "xlsx").

        Bounded at any size: the tracked children are one subquery (:meth:`_tracked`) that
        the children's, deadlines' and actions' reads join, so each reads only the tracked
        children's rows by index and no query passes their ids as parameters (at 84,000
        children that list failed). The cohorts' members come from the newest snapshot
        (``services.cohort_snapshot``), not computed per view.
        """
        require_reader(principal)
        as_of = as_of or today()
        teams = principal.visible_teams()
        names = self.tracked_cohorts()
        snap = cohort_snapshot.current_snapshot(self.engine, as_of, names) if names else None
        with read_connection(self.engine) as conn:
            tracked = self._tracked(snap.id if snap is not None else None, names)
            visible = C.c.team.in_(sorted(teams)) if teams is not None else true()
            rows = conn.execute(
                select(
                    tracked.c.child_id,
                    tracked.c.journey_id,
                    C.c.reference,
                    C.c.team,
                    J.c.type,
                    J.c.state,
                )
                .select_from(
                    tracked.join(C, C.c.id == tracked.c.child_id).outerjoin(
                        J, J.c.id == tracked.c.journey_id
                    )
                )
                .where(visible)
                .order_by(tracked.c.child_id)
            ).all()
            if not rows:
                return []
            # The tracked children the principal may see, for the reads below to join.
            shown = (
                select(tracked.c.child_id)
                .select_from(tracked.join(C, C.c.id == tracked.c.child_id))
                .where(visible)
            )
            deadlines = self._next_deadlines(conn, as_of, shown)
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
                .where(M.c.panel == self.key)
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
                    .where(and_(ACT.c.status == "open", ACT.c.child_id.in_(shown)))
                    .group_by(ACT.c.child_id)
                )
            }
            reviews = {
                r.child_id: r
                for r in conn.execute(
                    select(PC.c.child_id, PC.c.next_review_on, PC.c.review_weeks).where(
                        PC.c.panel == self.key
                    )
                )
            }
        amber = self.config.tracker.amber_within_days
        computed_at = snap.computed_at if snap is not None else None
        out = []
        for row in rows:
            cid = row.child_id
            nxt = deadlines.get(cid)
            overdue = int(nxt.overdue) if nxt is not None else 0
            if overdue:
                rag = "red"
            elif nxt is not None and (nxt.due_on - as_of).days <= amber:
                rag = "amber"
            else:
                rag = "green"
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
                    next_deadline=nxt.kind if nxt else None,
                    next_deadline_due=nxt.due_on if nxt else None,
                    overdue_deadlines=overdue,
                    last_decision=dec.outcome if dec else None,
                    last_decision_on=dec.meeting_date if dec else None,
                    open_actions=int(act.open) if act else 0,
                    next_action_due=act.next_due if act else None,
                    next_review_on=review.next_review_on if review else None,
                    review_weeks=review.review_weeks if review else None,
                    rag=rag,
                    last_decision_quorum=quorum[dec.id] if dec else "",
                    cohorts_computed_at=computed_at,
                )
            )
        audit.audit_read(
            self.engine,
            principal,
            "tracker_export" if export else "tracker",
            [r.child_id for r in out],
            details={"panel": self.key, "format": export or "view"},
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

    @staticmethod
    def _next_deadlines(conn: Connection, on: date, children: Select[Any]) -> dict[int, Any]:
        """Each of ``children``'s (a subquery of child ids) earliest open deadline (its kind
        and due date; the first kind by name when two fall due the same day) and how many
        of its open ones are overdue."""
        first = (
            select(
                D.c.child_id,
                func.min(D.c.due_on).label("due_on"),
                func.sum(case((D.c.due_on < on, 1), else_=0)).label("overdue"),
            )
            .where(and_(D.c.status == "open", D.c.child_id.in_(children)))
            .group_by(D.c.child_id)
            .subquery()
        )
        rows = conn.execute(
            select(
                first.c.child_id, first.c.due_on, first.c.overdue, func.min(D.c.kind).label("kind")
            )
            .select_from(
                first.join(
                    D,
                    and_(
                        D.c.child_id == first.c.child_id,
                        D.c.due_on == first.c.due_on,
                        D.c.status == "open",
                    ),
                )
            )
            .group_by(first.c.child_id, first.c.due_on, first.c.overdue)
        )
        return {r.child_id: r for r in rows}
