"""The panel's read-only pages beyond the meeting: open actions across meetings (filtered by
owner, team and overdue), the themes and annual report, and a child's panel history."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import Services
from app.api.params import PathId, whole_number
from app.web.deps import PageSession
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.routes.panel_common import Panel, journey_words
from app.web.routes.panel_tracker import query_form
from app.web.templating import humanise, render
from panels.results import ListedAction
from services.clock import today
from services.users import user_names
from states.deadline_kinds import label as deadline_label

router = APIRouter(include_in_schema=False)

FIRST_YEAR = 2000  # the reports' year choice starts here; no panel ran on this before


def _keep(action: ListedAction, owner: str, team: str, overdue: bool, day: date) -> bool:
    return (
        (not owner or str(action.owner_id) == owner)
        and (not team or action.team == team)
        and (not overdue or action.due_on < day)
    )


@router.get("/panel/actions")
def open_actions(
    request: Request, session: PageSession, panel: Panel, services: Services
) -> HTMLResponse:
    """Open actions across meetings, the soonest due first, for the children you may see."""
    query = query_form(request)
    owner, team, overdue = text(query, "owner"), text(query, "team"), bool(text(query, "overdue"))
    day = today()
    every = panel.list_actions(session.principal, "open")
    names = user_names(services.engine, (a.owner_id for a in every))
    shown = [a for a in every if _keep(a, owner, team, overdue, day)]
    return render(
        request,
        "panel/actions.html",
        {
            "actions": shown,
            "total": len(every),
            "names": {i: n.display for i, n in names.items()},
            "owners": sorted(((str(i), n.display) for i, n in names.items()), key=lambda o: o[1]),
            "teams": [(t, t) for t in sorted({a.team for a in every})],
            "filters": {"owner": owner, "team": team, "overdue": overdue},
            "today": day,
        },
    )


@router.get("/panel/reports")
def reports(request: Request, session: PageSession, panel: Panel) -> HTMLResponse:
    """The themes over a period (the last 12 months unless chosen) and the annual report."""
    query = query_form(request)
    errors = FormErrors()
    day = today()
    start = read_date(query, "from", "Start date", errors, required=False)
    end = read_date(query, "to", "End date", errors, required=False)
    end = end or day
    start = start or end - timedelta(days=365)
    if start > end:
        errors.add("to-day", "End date must be the same as or after the start date")
    year_text = text(query, "year")
    typed = whole_number(year_text, 1000, 9999)
    year = day.year if typed is None else typed
    if not FIRST_YEAR <= year <= day.year:
        errors.add("year", f"Year must be between {FIRST_YEAR} and {day.year}")
        year = day.year
    themes = None if errors else panel.themes(session.principal, start, end)
    annual = panel.annual_report(session.principal, year)
    return render(
        request,
        "panel/reports.html",
        {
            "themes": themes,
            "annual": annual,
            "errors": errors,
            "start": echo_date(query, "from") if text(query, "from-day") else _parts(start),
            "end": echo_date(query, "to") if text(query, "to-day") else _parts(end),
            "year": year,
            "year_options": [(str(y), str(y)) for y in range(day.year, FIRST_YEAR - 1, -1)],
            "humanise_words": humanise,
            "label_words": deadline_label,
            "pct": _percent,
        },
        status_code=422 if errors else 200,
    )


def _percent(value: float | None) -> str:
    return "Nothing to measure" if value is None else f"{value:.0f}%"


def _parts(day: date) -> dict[str, str]:
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


@router.get("/panel/children/{child_id}/history")
def child_history(
    request: Request, child_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """What the panel decided for a child, meeting by meeting, from the approved minutes."""
    entries = panel.child_history(child_id, session.principal)
    return render(
        request,
        "panel/child_history.html",
        {
            "child_id": child_id,
            "entries": list(reversed(entries)),
            "words": journey_words(panel.registry),
        },
    )
