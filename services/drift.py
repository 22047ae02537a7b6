"""What is drifting: the figures of the director's page, from a few grouped queries.

Everything is scoped by :meth:`Principal.visible_teams` (the service's one scoping rule), so
a manager limited to some teams would see only theirs; the director and service managers see
every team. The lists of the page (open escalations, deadlines due soon) come from the
service functions the API uses; this module adds the counts, the team by journey type
breakdown and the breaches per month (``notifications.escalation_groups`` groups the
escalations by deadline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, case, func, select, union_all

from services.access import Principal
from services.db import read_connection
from services.deadlines import judged, met_late, missed_open
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
    """Overdue and due-soon deadlines by team (rows) and journey type (columns).

    ``cells`` is complete when the breakdown is made (the sums below are read from it once)."""

    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    _sums: dict[tuple[str | None, str | None], Cell] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def teams(self) -> list[str]:
        """Teams with at least one deadline in the window, in name order."""
        return sorted({team for team, _ in self.cells})

    def cell(self, team: str | None, journey_type: str | None) -> Cell:
        """The sum over the cells matching a team and a journey type (None: any)."""
        if self._sums is None:
            # Every sum at once: the page asks for each team by each type, and summing all
            # cells per question was quadratic (422 teams: 17 million additions, 0.3-0.8 s
            # of the director's page at national size; issue 12, item 4).
            overdue: dict[tuple[str | None, str | None], int] = defaultdict(int)
            total: dict[tuple[str | None, str | None], int] = defaultdict(int)
            for (t, j), c in self.cells.items():
                # A set: None is "any" when asked, so a cell keyed None counts once.
                for key in {(t, j), (t, None), (None, j), (None, None)}:
                    overdue[key] += c.overdue
                    total[key] += c.total
            self._sums = {key: Cell(overdue[key], total[key]) for key in total}
        return self._sums.get((team, journey_type), Cell())

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
    # When a snapshot's figures were read (services.drift_snapshot); None: computed now.
    computed_at: datetime | None = field(default=None, compare=False)


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
        .where(and_(D.c.status == "open", D.c.due_on < window_end, judged()))
        .group_by(C.c.team, J.c.type)
    )
    # Outer join, as the breach register: a panel meeting's minutes have no child.
    breached = D.outerjoin(C, C.c.id == D.c.child_id)
    first_month = month_starts(as_of)[0]
    scope = [C.c.team.in_(sorted(teams))] if teams is not None else []
    # The breach rule's two halves (services.deadlines.breach_condition) are disjoint (an
    # open deadline, a met one), so they are counted apart and added: each half then reads
    # its own index (ix_deadline_status_due; ix_deadline_met_late, migration 0019) instead
    # of every deadline ever recorded being tested against the rule (issue 12, item 4).
    halves = (missed_open(as_of), met_late())
    open_count, late_count = (
        select(func.count()).select_from(breached).where(half, *scope).scalar_subquery()
        for half in halves
    )
    total_query = select(open_count + late_count)
    # Grouped by day, not month: month arithmetic differs between SQLite and PostgreSQL, and
    # a year has at most 365 days, so the months are summed here.
    monthly_query = union_all(
        *(
            select(D.c.due_on, D.c.status, func.count())
            .select_from(breached)
            .where(half, D.c.due_on >= first_month, *scope)
            .group_by(D.c.due_on, D.c.status)
            for half in halves
        )
    )
    if teams is not None:
        breakdown_query = breakdown_query.where(*scope)
    with read_connection(engine) as conn:
        cells = {
            (r.team, r.type): Cell(int(r.overdue or 0), int(r.total))
            for r in conn.execute(breakdown_query)
        }
        total = int(conn.execute(total_query).scalar_one())
        monthly = [(r[0], r[1], int(r[2])) for r in conn.execute(monthly_query)]
    return DriftFigures(as_of, total, Breakdown(cells), bucket_by_month(monthly, as_of))
