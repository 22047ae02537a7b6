"""What is drifting: the figures of the director's page, from a few grouped queries.

Everything is scoped by :meth:`Principal.visible_teams` (the service's one scoping rule), so
a manager limited to some teams would see only theirs; the director and service managers see
every team. The lists of the page (open escalations, deadlines due soon) come from the
service functions the API uses; this module adds the counts, the team by journey type
breakdown, the breaches per month and the grouping of escalations by deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from notifications.policy import SENIORITY
from services.access import Principal
from services.db import read_connection
from services.journeys import AccessDenied
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J

DUE_SOON_DAYS = 28  # "the next 4 weeks": due before today + 28 days
CHART_MONTHS = 12


def _teams(principal: Principal) -> frozenset[str] | None:
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    return teams


# -- breakdown: team by journey type ---------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Open deadlines of one team and journey type: overdue, and all due before the window
    ends (overdue included), which is what the deadline list shows for that filter."""

    overdue: int = 0
    total: int = 0


@dataclass
class Breakdown:
    """Overdue and due-soon deadlines by team (rows) and journey type (columns)."""

    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    @property
    def teams(self) -> list[str]:
        """Teams with at least one deadline in the window, in name order."""
        return sorted({team for team, _ in self.cells})

    def cell(self, team: str | None, journey_type: str | None) -> Cell:
        """The sum over the cells matching a team and a journey type (None: any)."""
        overdue = total = 0
        for (t, j), c in self.cells.items():
            if (team is None or t == team) and (journey_type is None or j == journey_type):
                overdue += c.overdue
                total += c.total
        return Cell(overdue, total)

    @property
    def overdue(self) -> int:
        """Open deadlines past their due date."""
        return self.cell(None, None).overdue

    @property
    def due_soon(self) -> int:
        """Open deadlines due from today to the end of the window (not yet overdue)."""
        whole = self.cell(None, None)
        return whole.total - whole.overdue


# -- breaches ----------------------------------------------------------------------------------


def breach_condition(as_of: date) -> Any:
    """A deadline missed on ``as_of``: still open after its due date, or met after it.

    The same rule as the breach register (``notifications.service.breaches``), and over the
    same deadlines: a child's, and a panel meeting's own (its minutes), which has no team and
    so counts only for users who see every team.
    """
    missed_open = and_(D.c.status == "open", D.c.due_on < as_of)
    met_late = and_(D.c.status == "met", D.c.met_on > D.c.due_on)
    return or_(missed_open, met_late)


@dataclass(frozen=True)
class MonthBreaches:
    """Deadlines that fell due in one month and were missed (as of the page's date)."""

    month: date  # the first day of the month
    met_late: int = 0
    still_open: int = 0

    @property
    def total(self) -> int:
        """Every breach of the month."""
        return self.met_late + self.still_open

    @property
    def label(self) -> str:
        """'Nov 2026', for the table."""
        return f"{self.month:%b %Y}"

    @property
    def chart_label(self) -> str:
        """'Nov' over '2026', for the chart's narrow slots."""
        return f"{self.month:%b}\n{self.month:%Y}"


def month_starts(as_of: date, months: int = CHART_MONTHS) -> list[date]:
    """The first days of the last ``months`` months, oldest first, ending with as_of's month."""
    out = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def bucket_by_month(
    rows: Iterable[tuple[date, str, int]], as_of: date, months: int = CHART_MONTHS
) -> list[MonthBreaches]:
    """Per-day breach counts ``(due_on, deadline status, count)`` summed into the last
    ``months`` months by the month the deadline fell due; days outside them are ignored."""
    starts = month_starts(as_of, months)
    met: dict[date, int] = defaultdict(int)
    still: dict[date, int] = defaultdict(int)
    for due_on, status, count in rows:
        key = date(due_on.year, due_on.month, 1)
        (still if status == "open" else met)[key] += count
    return [MonthBreaches(m, met[m], still[m]) for m in starts]


# -- the page's figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftFigures:
    """The counts of the page, read in one transaction (one consistent view)."""

    as_of: date
    breaches: int
    breakdown: Breakdown
    by_month: list[MonthBreaches]


def drift_figures(engine: Engine, principal: Principal, *, as_of: date) -> DriftFigures:
    """Breaches in all, the team by journey type breakdown of open deadlines due before
    ``as_of`` + 4 weeks, and breaches per month for the last 12 months: three grouped
    queries whatever the number of children."""
    teams = _teams(principal)
    window_end = as_of + timedelta(days=DUE_SOON_DAYS)
    breakdown_query = (
        select(
            C.c.team,
            J.c.type,
            func.sum(case((D.c.due_on < as_of, 1), else_=0)).label("overdue"),
            func.count().label("total"),
        )
        .select_from(D.join(J, J.c.id == D.c.journey_id).join(C, C.c.id == D.c.child_id))
        .where(and_(D.c.status == "open", D.c.due_on < window_end))
        .group_by(C.c.team, J.c.type)
    )
    # Outer join, as the breach register: a panel meeting's minutes have no child.
    breached = D.outerjoin(C, C.c.id == D.c.child_id)
    total_query = select(func.count()).select_from(breached).where(breach_condition(as_of))
    first_month = month_starts(as_of)[0]
    # Grouped by day, not month: month arithmetic differs between SQLite and PostgreSQL, and
    # a year has at most 365 days, so the months are summed here.
    monthly_query = (
        select(D.c.due_on, D.c.status, func.count())
        .select_from(breached)
        .where(and_(breach_condition(as_of), D.c.due_on >= first_month))
        .group_by(D.c.due_on, D.c.status)
    )
    if teams is not None:
        scope = C.c.team.in_(sorted(teams))
        breakdown_query = breakdown_query.where(scope)
        total_query = total_query.where(scope)
        monthly_query = monthly_query.where(scope)
    with read_connection(engine) as conn:
        cells = {
            (r.team, r.type): Cell(int(r.overdue or 0), int(r.total))
            for r in conn.execute(breakdown_query)
        }
        total = int(conn.execute(total_query).scalar_one())
        monthly = [(r[0], r[1], int(r[2])) for r in conn.execute(monthly_query)]
    return DriftFigures(as_of, total, Breakdown(cells), bucket_by_month(monthly, as_of))


# -- escalations, one per escalated deadline ------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    """One escalation notice: the level it reached, to whom, and when."""

    notice_id: int
    level: str
    recipient_id: int
    recipient: str
    escalated_on: date


@dataclass
class EscalatedDeadline:
    """A missed deadline and its open escalations (one per rung reached and recipient).

    Acknowledging any rung answers them all: the ladder stops and every rung of that
    deadline and due date counts as acknowledged (``notifications.service``).
    """

    deadline_id: int
    due_on: date
    deadline_kind: str
    journey_id: int | None
    journey_type: str | None
    child_reference: str | None
    team: str | None
    meeting_date: date | None
    working_days_overdue: int | None
    rungs: list[Rung] = field(default_factory=list)
    child_id: int | None = None
    acknowledge_id: int | None = None  # the rung this user answers, if they may answer one

    @property
    def top_level(self) -> str:
        """The highest rung reached."""
        return max(self.rungs, key=lambda r: SENIORITY.get(r.level, 0)).level


def may_acknowledge(principal: Principal, rung: Rung) -> bool:
    """The service's rule (``notifications.service.acknowledge``): the recipient, or anyone
    more senior on the ladder than the rung's level. Used only to offer the form; the
    service checks again when it is posted."""
    if rung.recipient_id == principal.user_id:
        return True
    seniority = max((SENIORITY.get(r, 0) for r in principal.roles), default=0)
    return seniority > SENIORITY.get(rung.level, 0)


def _answerable(principal: Principal, rungs: Sequence[Rung]) -> int | None:
    """The rung to acknowledge: the user's own (highest first), else the highest they may."""
    ranked = sorted(rungs, key=lambda r: (SENIORITY.get(r.level, 0), r.notice_id), reverse=True)
    own = [r for r in ranked if r.recipient_id == principal.user_id]
    if own:
        return own[0].notice_id
    allowed = [r for r in ranked if may_acknowledge(principal, r)]
    return allowed[0].notice_id if allowed else None


def group_escalations(
    principal: Principal, escalations: Iterable[dict[str, Any]]
) -> list[EscalatedDeadline]:
    """Open escalations (``list_escalations`` rows) grouped by deadline and due date, most
    overdue first, each with the rung this user would acknowledge."""
    groups: dict[tuple[int, date], EscalatedDeadline] = {}
    for e in escalations:
        key = (e["deadline_id"], e["due_on"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = EscalatedDeadline(
                deadline_id=e["deadline_id"],
                due_on=e["due_on"],
                deadline_kind=e["deadline_kind"],
                journey_id=e["journey_id"],
                journey_type=e["journey_type"],
                child_reference=e["child_reference"],
                team=e["team"],
                meeting_date=e.get("meeting_date"),
                working_days_overdue=e["working_days_overdue"],
            )
        group.rungs.append(
            Rung(e["id"], e["level"], e["recipient_id"], e["recipient"], e["escalated_on"])
        )
    out = sorted(groups.values(), key=lambda g: (g.due_on, g.deadline_id))
    for group in out:
        group.rungs.sort(key=lambda r: (SENIORITY.get(r.level, 0), r.escalated_on, r.notice_id))
        group.acknowledge_id = _answerable(principal, group.rungs)
    return out


def children_of_journeys(engine: Engine, journey_ids: Iterable[int]) -> dict[int, int]:
    """Journey id to child id, in one query (the escalation rows carry the journey only)."""
    ids = sorted(set(journey_ids))
    if not ids:
        return {}
    with read_connection(engine) as conn:
        rows = conn.execute(select(J.c.id, J.c.child_id).where(J.c.id.in_(ids)))
        return {int(r.id): int(r.child_id) for r in rows}


def matches(
    row_team: str | None, row_type: str | None, team: str | None, journey_type: str | None
) -> bool:
    """Whether a list row passes the page's team and journey type filters (None: any)."""
    return (team is None or row_team == team) and (journey_type is None or row_type == journey_type)
