"""The list of teams for the system administrator (issue 13 item 4): add a team, give one a
new title. The same service as ``permanence team add`` / ``rename`` (``services.teams``),
which checks the name and title and audits each change."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import AppServices, Services
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.templating import render
from services.teams import TeamError, UnknownTeam, add_team, list_teams, rename_team
from states.roles import SYSADMIN

router = APIRouter(include_in_schema=False)

_DONE = {"added": "Team added", "renamed": "Team renamed"}


def _page(
    request: Request,
    services: AppServices,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/teams.html",
        {
            "teams": list_teams(services.engine),
            "errors": errors or FormErrors(),
            "values": values or {},
            "done": _DONE.get(done or ""),
        },
        status_code=status_code,
    )


@router.get("/admin/teams")
def teams_page(
    request: Request, services: Services, session: PageSession, done: str | None = None
) -> HTMLResponse:
    """The teams, a form to add one and one to rename each."""
    require_page_roles(session, SYSADMIN)
    return _page(request, services, done=done)


@router.post("/admin/teams")
def add(request: Request, services: Services, session: PageSession, form: CheckedForm) -> Response:
    """Add a team; a name that is taken or not valid is shown next to the field."""
    require_page_roles(session, SYSADMIN)
    name, title = text(form, "name"), text(form, "title")
    errors = FormErrors()
    if not name:
        errors.add("name", "Enter the team's name")
    else:
        try:
            add_team(services.engine, name, title or None, actor_id=session.principal.user_id)
        except TeamError as exc:
            errors.add("name", exc.message)
    if errors:
        return _page(
            request,
            services,
            errors=errors,
            values={"name": name, "title": title},
            status_code=422,
        )
    return RedirectResponse("/admin/teams?done=added", status_code=303)


@router.post("/admin/teams/rename")
def rename(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Give a team a new title (records keep its name)."""
    require_page_roles(session, SYSADMIN)
    name, title = text(form, "name"), text(form, "title")
    errors = FormErrors()
    field = f"title-{name.replace(' ', '-')}"
    if not title:
        errors.add(field, "Enter the team's new title")
    else:
        try:
            rename_team(services.engine, name, title, actor_id=session.principal.user_id)
        except (TeamError, UnknownTeam) as exc:
            errors.add(field, exc.message)
    if errors:
        return _page(request, services, errors=errors, status_code=422)
    return RedirectResponse("/admin/teams?done=renamed", status_code=303)
