"""The director's page, "What is drifting": breaches, open escalations (a paged table; each
is acknowledged on its own page, with the comment),
deadlines due in the next 4 weeks by team and journey type, and breaches per month.

For the service director and service managers. The filters (``team``, ``journey_type``)
narrow the two lists; the figures at the top always cover every team the user sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote_plus, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

import states
from app.api.deps import Services
from app.api.params import Page, PathId
from app.web.chart import bar_chart
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.templating import render
from notifications.escalation_groups import EscalatedDeadline, group_escalations
from notifications.meetings import deadline_names
from notifications.policy import LADDER
from notifications.service import (
    AlreadyAcknowledged,
    NoticeNotFound,
    list_escalations,
    open_escalation_keys,
)
from notifications.service import acknowledge as acknowledge_escalation
from services import audit
from services.children import children_of_journeys
from services.clock import today
from services.deadlines import list_deadlines
from services.drift import DUE_SOON_DAYS, Breakdown
from services.drift_snapshot import current_figures
from services.rag import rag_status
from services.teams import list_teams
from states.roles import SERVICE_DIRECTOR, SERVICE_MANAGER
from workflow.calendar import LONDON

router = APIRouter(include_in_schema=False)

ROLES = (SERVICE_DIRECTOR, SERVICE_MANAGER)
JOURNEY_TYPES: dict[str, str] = {d.type: d.title for d in states.DEFINITIONS}
ESCALATIONS_PER_PAGE = 25  # rows of the table; acknowledging happens on its own page
SHOWN_DEADLINES = 200
COMMENT_MAX = 2000  # as the API's acknowledgement
# Every open escalation the user sees: the count at the top is exact, the list is capped.
_ALL = 1_000_000

FilterParam = Annotated[str | None, Query(max_length=50)]


def matches(
    row_team: str | None, row_type: str | None, team: str | None, journey_type: str | None
) -> bool:
    """Whether a list row passes the page's team and journey type filters (None: any)."""
    return (team is None or row_team == team) and (journey_type is None or row_type == journey_type)


def known_filters(team: str | None, journey_type: str | None) -> tuple[str | None, str | None]:
    """The page's filters: blank means no filter; a journey type that does not exist is no
    filter either."""
    team = (team or "").strip() or None
    journey_type = journey_type if journey_type in JOURNEY_TYPES else None
    return team, journey_type


def level_param(level: str | None) -> dict[str, str]:
    """The level filter as address parameters (an unknown level is no filter)."""
    return {"level": level} if level in LADDER else {}


def filter_href(team: str | None = None, journey_type: str | None = None, **extra: str) -> str:
    """The page's address with these filters (team names and journey types only: no child
    data ever goes into an address)."""
    query = {k: v for k, v in (("team", team), ("journey_type", journey_type)) if v}
    query.update(extra)
    return "/director" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True)
class BreakdownCell:
    """One cell of the breakdown table: its counts, its link and the journeys it counts."""

    total: int
    overdue: int
    href: str
    journeys: str


@dataclass(frozen=True)
class BreakdownRow:
    """One row of the breakdown table (``team`` None: all teams)."""

    team: str | None
    title: str
    href: str
    words: str
    cells: list[BreakdownCell]


def breakdown_rows(breakdown: Breakdown, titles: Mapping[str, str]) -> list[BreakdownRow]:
    """The breakdown table's rows, every team then all teams, each with a cell per journey
    type then all journeys: what the template used to ask a cell, a link and a team's name
    for one call at a time (3,400 cells at national size: most of the page's time, issue 12
    item 4). Each link is :func:`filter_href`'s, its parts quoted once per row and column."""
    columns: list[tuple[str | None, str, str]] = [
        (t, title, "journey_type=" + quote_plus(t)) for t, title in JOURNEY_TYPES.items()
    ]
    columns.append((None, "all journeys", ""))
    rows = []
    for team in [*breakdown.teams, None]:
        team_query = "team=" + quote_plus(team) if team else ""
        cells = []
        for journey_type, journeys, type_query in columns:
            cell = breakdown.cell(team, journey_type)
            query = "&".join(q for q in (team_query, type_query) if q)
            href = "/director" + (f"?{query}" if query else "")
            cells.append(BreakdownCell(cell.total, cell.overdue, href, journeys))
        title = (titles.get(team) or team) if team else ""
        rows.append(
            BreakdownRow(
                team=team,
                title=title,
                href="/director" + (f"?{team_query}" if team_query else ""),
                words=f"team {title}" if team else "all teams",
                cells=cells,
            )
        )
    return rows


def _page(
    request: Request,
    services: Services,
    session: PageSession,
    *,
    team: str | None,
    journey_type: str | None,
    page: int = 1,
    level: str | None = None,
    done: str | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The director's page, its reads (escalations, deadlines due) as one audit row."""
    with audit.one_read(services.engine, session.principal, "director_page"):
        return _director_page(
            request,
            services,
            session,
            team=team,
            journey_type=journey_type,
            page=page,
            level=level,
            done=done,
            errors=errors,
            status_code=status_code,
        )


def _director_page(
    request: Request,
    services: Services,
    session: PageSession,
    *,
    team: str | None,
    journey_type: str | None,
    page: int,
    level: str | None,
    done: str | None,
    errors: FormErrors | None,
    status_code: int,
) -> HTMLResponse:
    principal = session.principal
    engine = services.engine
    as_of = today()
    # Today's snapshot (the scheduler's, after each sweep) or, without one, computed now.
    figures = current_figures(engine, principal, as_of=as_of)

    # Counted and paged in SQL: only this page's groups are read (issue 12, item 4).
    found = open_escalation_keys(
        engine,
        principal,
        team=team,
        journey_type=journey_type,
        level=level,
        page=page,
        per_page=ESCALATIONS_PER_PAGE,
        as_of=as_of,
    )
    page, pages, start = found.page, found.pages, (found.page - 1) * ESCALATIONS_PER_PAGE
    by_key = {
        (g.deadline_id, g.due_on): g
        for g in group_escalations(
            principal,
            list_escalations(
                engine,
                principal,
                status="open",
                as_of=as_of,
                limit=_ALL,
                deadline_ids=[deadline_id for deadline_id, _ in found.keys],
            ),
        )
    }
    on_page = [by_key[key] for key in found.keys if key in by_key]
    child_ids = children_of_journeys(engine, (g.journey_id for g in on_page if g.journey_id))
    for group in on_page:
        group.child_id = child_ids.get(group.journey_id) if group.journey_id else None

    # The breakdown counts the rows the filters leave (the same deadlines, joins and
    # window), so only the shown ones are fetched: at national scale the window holds tens
    # of thousands (issue 12, item 4).
    wanted = figures.breakdown.cell(team, journey_type).total
    deadlines = [
        {**d, "rag": rag_status(d["due_on"], as_of)}
        for d in list_deadlines(
            engine,
            principal,
            due_before=as_of + timedelta(days=DUE_SOON_DAYS),
            status="open",
            team=team,
            journey_type=journey_type,
            limit=SHOWN_DEADLINES,
        )
    ]

    # A panel pack is named by its meeting (one read, for the shown rows' packs only).
    names = deadline_names(engine, [(d["id"], d["kind"], d["ref"]) for d in deadlines])

    months = figures.by_month
    chart = bar_chart(
        [(m.chart_label, m.total) for m in months],
        title="Breaches per month, last 12 months",
        description=(
            f"Bar chart of deadlines missed, by the month they were due, from "
            f"{months[0].label} to {months[-1].label}: "
            + ", ".join(f"{m.label} {m.total}" for m in months)
            + "."
        ),
        x_label="Month the deadline was due",
        y_label="Deadlines missed",
        chart_id="breaches-chart",
    )
    context: dict[str, Any] = {
        "as_of": as_of,
        "figures": figures,
        # The figures' own time when they are the scheduler's snapshot (London time).
        "figures_at": figures.computed_at.astimezone(LONDON) if figures.computed_at else None,
        "open_escalations": found.total,
        # The open escalations' counts are the snapshot's too when it counted them.
        "escalations_counted": found.counted_at is not None,
        "journey_types": JOURNEY_TYPES,
        "breakdown_rows": (
            breakdown_rows(figures.breakdown, {t.name: t.title for t in list_teams(engine)})
            if figures.breakdown.teams
            else []
        ),
        "team": team,
        "journey_type": journey_type,
        "filtered": bool(team or journey_type),
        "escalations": on_page,
        "escalation_count": found.shown,
        "escalation_start": start,
        "page": page,
        "has_next": page < pages,
        "page_href": lambda n: (
            filter_href(team, journey_type, page=str(n), **level_param(level)) + "#open-escalations"
        ),
        # The level filter narrows the escalations table only (deadlines have no level).
        "levels": LADDER,
        "level": level,
        "deadlines": deadlines[:SHOWN_DEADLINES],
        "deadline_names": names,
        "deadline_count": wanted,
        "due_soon_end": as_of + timedelta(days=DUE_SOON_DAYS - 1),
        "months": months,
        # bar_chart escapes every piece of text it draws (app/web/chart.py).
        "chart": Markup(chart),
        "filter_href": filter_href,
        "ack_href": lambda notice_id: (
            f"/director/escalations/{notice_id}/acknowledge"
            + filter_href(team, journey_type, **level_param(level)).removeprefix("/director")
        ),
        "done": done,
        "errors": errors or FormErrors(),
    }
    return render(request, "director/index.html", context, status_code=status_code)


def open_escalation(services: Services, session: PageSession, notice_id: int) -> EscalatedDeadline:
    """The open escalation this notice belongs to, as the director's list shows it (404 if
    it is not open or not one this user sees)."""
    return open_escalations(services, session, [notice_id])[0]


def open_escalations(
    services: Services, session: PageSession, notice_ids: list[int]
) -> list[EscalatedDeadline]:
    """The open escalations these notices belong to, in their order, read in one pass (404
    if any is not open or not one this user sees)."""
    principal = session.principal
    # Only the deadlines these notices escalate: every rung of each, not every open one.
    groups = group_escalations(
        principal,
        list_escalations(
            services.engine,
            principal,
            status="open",
            as_of=today(),
            limit=_ALL,
            of_notices=notice_ids,
        ),
    )
    by_notice = {r.notice_id: group for group in groups for r in group.rungs}
    missing = [n for n in notice_ids if n not in by_notice]
    if missing:
        raise NoticeNotFound("No open escalation with this id")
    found = [by_notice[n] for n in notice_ids]
    children = children_of_journeys(services.engine, (g.journey_id for g in found if g.journey_id))
    for group in found:
        group.child_id = children.get(group.journey_id) if group.journey_id else None
    return found


def _ack_page(
    request: Request,
    services: Services,
    session: PageSession,
    notice_id: int,
    *,
    team: str | None,
    journey_type: str | None,
    level: str | None = None,
    comment: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "item": open_escalation(services, session, notice_id),
        "notice_id": notice_id,
        **ack_context(team, journey_type, level, comment, errors),
    }
    return render(request, "director/acknowledge.html", context, status_code=status_code)


def ack_context(
    team: str | None,
    journey_type: str | None,
    level: str | None,
    comment: str,
    errors: FormErrors | None,
) -> dict[str, Any]:
    """What an acknowledgement page (one escalation, or a selection) shows besides the
    escalations: the filters to go back to, the comment and its errors."""
    return {
        "journey_types": JOURNEY_TYPES,
        "team": team,
        "journey_type": journey_type,
        "level": level,
        "back_href": filter_href(team, journey_type, **level_param(level)) + "#open-escalations",
        "comment": comment,
        "errors": errors or FormErrors(),
        "comment_max": COMMENT_MAX,
    }


def comment_errors(comment: str) -> FormErrors:
    """What is wrong with an acknowledgement's comment (nothing: no errors)."""
    errors = FormErrors()
    if not comment:
        errors.add("comment", "Enter a comment saying what has been done or will be done")
    elif len(comment) > COMMENT_MAX:
        errors.add("comment", f"Comment must be {COMMENT_MAX:,} characters or fewer")
    return errors


@router.get("/director/escalations/{notice_id}/acknowledge")
def acknowledge_page(
    notice_id: PathId,
    request: Request,
    services: Services,
    session: PageSession,
    team: FilterParam = None,
    journey_type: FilterParam = None,
    level: FilterParam = None,
) -> HTMLResponse:
    """One escalation, what it reached, and the comment box to acknowledge it."""
    require_page_roles(session, *ROLES)
    team, journey_type = known_filters(team, journey_type)
    return _ack_page(
        request,
        services,
        session,
        notice_id,
        team=team,
        journey_type=journey_type,
        level=level_param(level).get("level"),
    )


@router.get("/director")
def director(
    request: Request,
    services: Services,
    session: PageSession,
    team: FilterParam = None,
    journey_type: FilterParam = None,
    done: FilterParam = None,
    page: Page = 1,
    level: FilterParam = None,
) -> HTMLResponse:
    """What is drifting, for the service director and service managers."""
    require_page_roles(session, *ROLES)
    team, journey_type = known_filters(team, journey_type)
    level = level if level in LADDER else None  # an unknown level is no filter
    return _page(
        request,
        services,
        session,
        team=team,
        journey_type=journey_type,
        page=min(max(page, 1), 100_000),
        level=level,
        done=done if done == "acknowledged" else None,
    )


@router.post("/director/escalations/{notice_id}/acknowledge")
def acknowledge(
    notice_id: PathId,
    request: Request,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Acknowledge an escalation with a comment, then back to the page (with its filters)."""
    require_page_roles(session, *ROLES)
    team, journey_type = known_filters(
        text(form, "team") or None, text(form, "journey_type") or None
    )
    level = level_param(text(form, "level")).get("level")
    comment = text(form, "comment")
    errors = comment_errors(comment)
    if not errors:
        try:
            acknowledge_escalation(services.engine, notice_id, session.principal, comment)
        except AlreadyAcknowledged:
            # Someone answered it meanwhile: it has left the list, so the message points
            # at the list rather than at a field that is no longer there.
            errors.add(
                "open-escalations",
                "This escalation has already been acknowledged by someone else",
            )
            return _page(
                request,
                services,
                session,
                team=team,
                journey_type=journey_type,
                errors=errors,
                status_code=409,
            )
        # NotAllowed (403) and NoticeNotFound (404) become the friendly error pages.
        return RedirectResponse(
            filter_href(team, journey_type, done="acknowledged", **level_param(level)),
            status_code=303,
        )
    return _ack_page(
        request,
        services,
        session,
        notice_id,
        team=team,
        journey_type=journey_type,
        level=level,
        comment=comment,
        errors=errors,
        status_code=422,
    )
