"""Allocating the children an import left in no team (issue 13 item 4): the list of
unallocated children, by reference, for service managers and team managers, and the form
that gives one a team and a social worker (a team manager: their own team only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import AppServices, Services
from app.api.params import MAX_PAGE, PathId, whole_number
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.templating import render
from services.access import REALLOCATE_ROLES, Principal
from services.allocation import (
    MAX_LISTED,
    UnallocatedChild,
    allocate_child,
    allowed_teams,
    unallocated_child,
    unallocated_children,
    unallocated_count,
)
from services.caseload import team_social_workers
from services.teams import list_teams
from workflow.errors import InvalidData, StaleVersion

router = APIRouter(include_in_schema=False)

STALE = (
    "Someone else changed this child's record while you were on this page. Nothing has been "
    "saved; check the child below and try again."
)


@router.get("/children/unallocated")
def unallocated_page(
    request: Request,
    services: Services,
    session: PageSession,
    done: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """The children in no team, by reference, each with a link to allocate them; paged."""
    require_page_roles(session, *REALLOCATE_ROLES)
    number = whole_number(page or "", 1, MAX_PAGE) or 1
    total = unallocated_count(services.engine, session.principal)
    return render(
        request,
        "casework/unallocated.html",
        {
            "children": unallocated_children(services.engine, session.principal, page=number),
            "total": total,
            "page": number,
            "has_next": number * MAX_LISTED < total,
            "done": done == "allocated",
        },
    )


def _workers(services: AppServices, principal: Principal) -> list[tuple[str, str]]:
    """``team:worker id`` to the worker's name (and team's title) for every team the user
    may allocate into."""
    teams = list_teams(services.engine)
    allowed = set(allowed_teams(principal, [t.name for t in teams]))
    several = len(allowed) > 1
    return [
        (f"{team.name}:{w.id}", f"{w.name} ({team.title})" if several else w.name)
        for team in teams
        if team.name in allowed
        for w in team_social_workers(services.engine, team.name)
    ]


def _form_page(
    request: Request,
    services: AppServices,
    principal: Principal,
    child: UnallocatedChild,
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "casework/allocate.html",
        {
            "child": child,
            "workers": _workers(services, principal),
            "chosen": text(form, "worker") if form is not None else "",
            "errors": errors or FormErrors(),
            "stale": STALE if stale else None,
        },
        status_code=status_code,
    )


@router.get("/children/{child_id}/allocate")
def allocate_form(
    request: Request, child_id: PathId, services: Services, session: PageSession
) -> HTMLResponse:
    """Choose the social worker (and so the team) for an unallocated child."""
    require_page_roles(session, *REALLOCATE_ROLES)
    child = unallocated_child(services.engine, session.principal, child_id)
    return _form_page(request, services, session.principal, child)


@router.post("/children/{child_id}/allocate")
def allocate(
    request: Request, child_id: PathId, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Allocate the child; a stale page is refused (409) and shown again."""
    require_page_roles(session, *REALLOCATE_ROLES)
    principal = session.principal
    child = unallocated_child(services.engine, principal, child_id)
    workers = _workers(services, principal)
    chosen = text(form, "worker")
    errors = FormErrors()
    if chosen not in dict(workers):
        errors.add("worker", "Select the social worker to allocate the child to")
        return _form_page(
            request, services, principal, child, form=form, errors=errors, status_code=422
        )
    team, _, worker = chosen.rpartition(":")
    version = whole_number(text(form, "expected_version"), 0)
    try:
        allocate_child(
            services.engine,
            principal,
            child_id,
            team=team,
            social_worker_id=int(worker),
            expected_version=-1 if version is None else version,
        )
    except StaleVersion:
        fresh = unallocated_child(services.engine, principal, child_id)
        return _form_page(
            request, services, principal, fresh, form=form, stale=True, status_code=409
        )
    except InvalidData as exc:
        errors.add("worker", exc.message)
        return _form_page(
            request, services, principal, child, form=form, errors=errors, status_code=422
        )
    return RedirectResponse("/children/unallocated?done=allocated", status_code=303)
