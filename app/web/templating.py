"""Jinja2 templates for the pages, and what every page's layout needs (navigation by role,
the form token, a one-off success message)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.web.session import WebSession
from services.teams import list_teams
from states import checklists, deadline_kinds
from states.roles import (
    ADM,
    IRO,
    PANEL_ADMIN,
    PANEL_CHAIR,
    READ_ONLY,
    SERVICE_DIRECTOR,
    SERVICE_MANAGER,
    SOCIAL_WORKER,
    SYSADMIN,
    TEAM_MANAGER,
)

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)


@dataclass(frozen=True)
class NavItem:
    """A link in the service navigation, shown to the roles that use that page."""

    label: str
    href: str
    roles: frozenset[str]


NAVIGATION = (
    NavItem(
        "My work", "/my-work", frozenset({SOCIAL_WORKER, TEAM_MANAGER, READ_ONLY, SERVICE_MANAGER})
    ),
    NavItem(
        "Children",
        "/children",
        frozenset(
            {
                SOCIAL_WORKER,
                TEAM_MANAGER,
                READ_ONLY,
                SERVICE_MANAGER,
                SERVICE_DIRECTOR,
                PANEL_CHAIR,
                PANEL_ADMIN,
                ADM,
                IRO,
            }
        ),
    ),
    NavItem("Panel", "/panel", frozenset({PANEL_ADMIN, PANEL_CHAIR, ADM, SERVICE_MANAGER})),
    NavItem(
        "Tracker",
        "/panel/tracker",
        frozenset({PANEL_ADMIN, PANEL_CHAIR, ADM, SERVICE_MANAGER, SERVICE_DIRECTOR}),
    ),
    NavItem(
        "Cohorts",
        "/panel/cohorts",
        frozenset({PANEL_ADMIN, PANEL_CHAIR, SERVICE_MANAGER, SERVICE_DIRECTOR}),
    ),
    NavItem("Drift", "/director", frozenset({SERVICE_DIRECTOR, SERVICE_MANAGER})),
    NavItem("Unallocated", "/children/unallocated", frozenset({TEAM_MANAGER, SERVICE_MANAGER})),
    NavItem("Imports", "/admin/imports", frozenset({SYSADMIN})),
    NavItem("Teams", "/admin/teams", frozenset({SYSADMIN})),
    NavItem(
        "Notifications",
        "/notifications",
        frozenset(
            {
                SOCIAL_WORKER,
                TEAM_MANAGER,
                SERVICE_MANAGER,
                SERVICE_DIRECTOR,
                PANEL_CHAIR,
                PANEL_ADMIN,
                ADM,
                IRO,
            }
        ),
    ),
)


# Where each role's daily work starts, most specific first: a team manager who also chairs
# the panel starts on their caseload.
_HOMES = (
    (frozenset({SOCIAL_WORKER, TEAM_MANAGER, READ_ONLY}), "/my-work"),
    (frozenset({PANEL_ADMIN, PANEL_CHAIR, ADM}), "/panel"),
    (frozenset({SERVICE_DIRECTOR, SERVICE_MANAGER}), "/director"),
    (frozenset({IRO}), "/children"),
)


def home_for(roles: frozenset[str]) -> str:
    """Where a user lands after signing in: the page of their daily work."""
    for home_roles, href in _HOMES:
        if not home_roles.isdisjoint(roles):
            return href
    return "/account"


def navigation(session: WebSession | None, path: str) -> list[dict[str, Any]]:
    """The navigation links for this user, marking the one for the current page."""
    if session is None:
        return []
    items = [i for i in NAVIGATION if not i.roles.isdisjoint(session.principal.roles)]
    # The longest matching prefix is the current section (/panel/tracker, not /panel).
    current = max(
        (i.href for i in items if path == i.href or path.startswith(i.href + "/")),
        key=len,
        default=None,
    )
    return [{"label": i.label, "href": i.href, "current": i.href == current} for i in items]


def govuk_date(value: date | datetime | str | None) -> str:
    """A date as GOV.UK style writes it: 5 January 2026."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%B %Y}"


def govuk_datetime(value: datetime | str | None) -> str:
    """A timestamp as 5 January 2026, 2:30pm."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    hour = value.hour % 12 or 12
    return f"{govuk_date(value)}, {hour}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


def humanise(value: str | None) -> str:
    """``placement_order_granted`` as 'Placement order granted'."""
    if not value:
        return ""
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def child_name(child: Any) -> str:
    """A child's name as pages write it, or "" where the service holds none (a child
    imported from the care record and not yet allocated: the return carries no names, so
    pages show such a child by reference). ``child`` is a mapping or a record."""
    parts = (
        (child.get("given_name"), child.get("family_name"))
        if isinstance(child, Mapping)
        else (getattr(child, "given_name", None), getattr(child, "family_name", None))
    )
    return " ".join(str(p) for p in parts if p)


templates.env.filters["govuk_date"] = govuk_date
templates.env.filters["child_name"] = child_name
templates.env.filters["govuk_datetime"] = govuk_datetime
templates.env.filters["humanise"] = humanise
templates.env.filters["deadline_label"] = deadline_kinds.label
templates.env.globals["checklist_complete_words"] = checklists.COMPLETE_IN_WORDS


def _team_titles(request: Request) -> Callable[[str | None], str]:
    """A team's name as the managed list writes it ("North", not ``north``), read once per
    page and only if the page names a team."""
    titles: dict[str, str] | None = None

    def title(name: str | None) -> str:
        nonlocal titles
        if not name:
            return ""
        if titles is None:
            services = getattr(request.app.state, "services", None)
            titles = {t.name: t.title for t in list_teams(services.engine)} if services else {}
        return titles.get(name) or name

    return title


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    session: WebSession | None = None,
) -> HTMLResponse:
    """Render page template ``name`` with the layout's context filled in."""
    session = session or getattr(request.state, "web_session", None)
    page: dict[str, Any] = {
        "team_title": _team_titles(request),
        "session": session,
        "user": session.principal if session else None,
        "csrf_token": session.csrf_token if session else "",
        "navigation": navigation(session, request.url.path),
        "path": request.url.path,
    }
    page.update(context or {})
    return templates.TemplateResponse(request, name, page, status_code=status_code)
