"""The breach register as a page: every deadline missed (still open past its date, or met
after it), a page at a time, filtered by team and by whether it is still open, with the
escalations each one reached. For the service director and service managers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.api.deps import Services
from app.api.params import Page
from app.web.deps import PageSession, require_page_roles
from app.web.templating import render
from notifications.service import breaches
from services.clock import today
from services.teams import list_teams
from states.roles import SERVICE_DIRECTOR, SERVICE_MANAGER

router = APIRouter(include_in_schema=False)

PER_PAGE = 25
STATUSES = (("all", "Every breach"), ("open", "Still open"), ("met_late", "Met late"))


def _href(team: str | None, status: str, page: int) -> str:
    query: dict[str, Any] = {"status": status, "page": page}
    if team:
        query["team"] = team
    return f"/director/breaches?{urlencode(query)}"


@router.get("/director/breaches")
def breach_register(
    request: Request,
    services: Services,
    session: PageSession,
    team: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str, Query(max_length=20)] = "all",
    page: Page = 1,
) -> HTMLResponse:
    """The breach register, oldest due date first, a page at a time."""
    require_page_roles(session, SERVICE_DIRECTOR, SERVICE_MANAGER)
    status = status if status in dict(STATUSES) else "all"
    teams = [(t.name, t.title) for t in list_teams(services.engine)]
    team = team if team in dict(teams) else None
    # One more than a page, to know whether there is a next one.
    rows = breaches(
        services.engine,
        session.principal,
        as_of=today(),
        team=team,
        status=status,
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
    )
    return render(
        request,
        "director/breaches.html",
        {
            "breaches": rows[:PER_PAGE],
            "first": (page - 1) * PER_PAGE + 1,
            "page": page,
            "has_next": len(rows) > PER_PAGE,
            "page_href": lambda n: _href(team, status, n),
            "team": team or "",
            "status": status,
            "teams": teams,
            "statuses": STATUSES,
        },
    )
