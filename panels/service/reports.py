"""Reports: themes over a period and the annual report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, func, or_, select

from panels.models import ACTIONS as ACT
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import READ_REPORTS, require
from panels.results import AnnualReport, Deferral, Themes, Timeliness, fields_of
from panels.service.common import MINUTES, PanelBase
from services.access import Principal
from services.clock import today
from services.db import read_connection
from services.deadlines import judged
from services.models import DEADLINES as D

# Why referrals were not listed, as the themes report words them.
_REPORTED = {
    "late": "late pack",
    "no_pack": "late pack",
    "incomplete": "incomplete pack",
    "full": "part full",
    "cancelled": "meeting cancelled",
}


class ReportsMixin(PanelBase):
    """Reports: themes and the annual report."""

    def themes(self, principal: Principal, start: date, end: date) -> Themes:
        """Decisions, deferrals and their reasons, packs refused and why, breaches by kind."""
        require(principal, READ_REPORTS)
        with read_connection(self.engine) as conn:
            meetings = conn.execute(
                select(M.c.id, M.c.status).where(
                    and_(M.c.panel == self.key, M.c.meeting_date >= start, M.c.meeting_date <= end)
                )
            ).all()
            ids = [m.id for m in meetings]
            decisions = (
                conn.execute(
                    select(DEC.c.outcome, DEC.c.notes, DEC.c.item_id).where(
                        DEC.c.meeting_id.in_(ids)
                    )
                ).all()
                if ids
                else []
            )
            refs = conn.execute(
                select(R.c.decision_type, R.c.history).where(R.c.panel == self.key)
            ).all()
            breaches = conn.execute(
                select(D.c.kind, func.count())
                .where(
                    and_(
                        D.c.due_on >= start,
                        D.c.due_on <= end,
                        or_(
                            and_(D.c.status == "open", D.c.due_on < today(), judged()),
                            and_(D.c.status == "met", D.c.met_on > D.c.due_on),
                        ),
                    )
                )
                .group_by(D.c.kind)
            ).all()
            rolled = (
                conn.execute(
                    select(I.c.part, func.count())
                    .where(and_(I.c.meeting_id.in_(ids), I.c.status == "rolled"))
                    .group_by(I.c.part)
                ).all()
                if ids
                else []
            )
        deferrals: list[Deferral] = []
        outcomes: dict[str, int] = defaultdict(int)
        deferring = {o.key for dt in self.config.decision_types for o in dt.outcomes if o.defers}
        for d in decisions:
            outcomes[d.outcome] += 1
            if d.outcome in deferring:
                deferrals.append(Deferral(outcome=d.outcome, reason=d.notes))
        refused: dict[str, int] = defaultdict(int)
        for r in refs:
            for h in r.history:
                on = h.get("on", "")
                if not h.get("from_meeting_id") or not (start.isoformat() <= on <= end.isoformat()):
                    continue
                label = _REPORTED.get(str(h.get("code")))
                if label:
                    refused[label] += 1
        return Themes(
            panel=self.config.panel.name,
            start=start,
            end=end,
            meetings=len(meetings),
            cancelled=sum(1 for m in meetings if m.status == "cancelled"),
            decisions=dict(outcomes),
            deferrals=deferrals,
            not_listed=dict(refused),
            rolled_by_part={p: n for p, n in rolled},
            breaches_by_kind={k: n for k, n in breaches},
        )

    def annual_report(self, principal: Principal, year: int) -> AnnualReport:
        """The panel's year for the senior management team: activity and timeliness."""
        start, end = date(year, 1, 1), date(year, 12, 31)
        themes = self.themes(principal, start, end)
        with read_connection(self.engine) as conn:
            ids = [
                m.id
                for m in conn.execute(
                    select(M.c.id).where(
                        and_(
                            M.c.panel == self.key,
                            M.c.meeting_date >= start,
                            M.c.meeting_date <= end,
                            M.c.status != "cancelled",
                        )
                    )
                )
            ]
            minutes = (
                conn.execute(
                    select(D.c.due_on, D.c.met_on, D.c.status).where(
                        and_(D.c.kind == MINUTES, D.c.meeting_id.in_(ids))
                    )
                ).all()
                if ids
                else []
            )
            packs = conn.execute(
                select(R.c.pack_due_on, R.c.pack_submitted_on).where(
                    and_(R.c.panel == self.key, R.c.referred_on >= start, R.c.referred_on <= end)
                )
            ).all()
            acts = (
                conn.execute(
                    select(ACT.c.due_on, ACT.c.done_on, ACT.c.status).where(
                        ACT.c.meeting_id.in_(ids)
                    )
                ).all()
                if ids
                else []
            )
            children = (
                conn.execute(
                    select(func.count(func.distinct(I.c.child_id))).where(I.c.meeting_id.in_(ids))
                ).scalar_one()
                if ids
                else 0
            )

        def pct(n: int, d: int) -> float | None:
            return round(100 * n / d, 1) if d else None

        on_time_minutes = sum(1 for m in minutes if m.met_on and m.met_on <= m.due_on)
        submitted = [p for p in packs if p.pack_submitted_on]
        on_time_packs = sum(1 for p in submitted if p.pack_submitted_on <= p.pack_due_on)
        done = [a for a in acts if a.done_on]
        return AnnualReport(
            **fields_of(themes),
            year=year,
            meetings_held=len(ids),
            children_discussed=children,
            referrals=len(packs),
            timeliness=Timeliness(
                minutes_on_time_pct=pct(on_time_minutes, len(minutes)),
                packs_on_time_pct=pct(on_time_packs, len(submitted)),
                actions_done_on_time_pct=pct(
                    sum(1 for a in done if a.done_on <= a.due_on), len(acts)
                ),
            ),
        )
