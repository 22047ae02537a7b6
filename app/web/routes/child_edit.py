"""Changing a child's details and allocation on a page, with the API's rules: only what
changed is saved, a page made stale by someone else's change is refused (409) and shown
again with what was typed, and every change is audited by the service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.deps import AppServices, Services
from app.api.params import PathId, whole_number
from app.web import child_form
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.templating import render
from services.access import (
    CHILD_EDIT_ROLES,
    MOVE_TEAM_ROLES,
    REALLOCATE_ROLES,
    Principal,
    child_refusal,
)
from services.caseload import team_social_workers
from services.children import get_child, update_child
from services.clock import today
from services.journeys import AccessDenied
from services.plausible import looked_after_problem
from services.schemas import ChildUpdate
from services.teams import list_teams
from workflow.errors import InvalidData, StaleVersion

router = APIRouter(include_in_schema=False)

STALE_MESSAGE = (
    "Someone else changed this child's details while you were on this page. Nothing has "
    "been saved. The page now shows their change; check it and try again."
)
_NAMES = {"given_name": "First name", "family_name": "Last name"}
_MISSING = {
    "given_name": "Enter the child's first name",
    "family_name": "Enter the child's last name",
}


def may_edit(principal: Principal, child_team: str) -> bool:
    """Whether the child page offers "Change details" (the service decides again)."""
    return child_refusal(
        principal, child_team, write=True
    ) is None and not principal.roles.isdisjoint(CHILD_EDIT_ROLES)


def _worker_choices(
    services: AppServices, principal: Principal, child_team: str
) -> list[tuple[str, str]]:
    """The social workers this user may allocate: the child's team's for a team manager,
    every team's (named with their team) for a service manager; none for anyone else."""
    if principal.roles.isdisjoint(REALLOCATE_ROLES):
        return []
    if principal.roles.isdisjoint(MOVE_TEAM_ROLES):
        return [(str(w.id), w.name) for w in team_social_workers(services.engine, child_team)]
    return [
        (f"{team.name}:{w.id}", f"{w.name} ({team.title})")
        for team in list_teams(services.engine)
        for w in team_social_workers(services.engine, team.name)
    ]


def _current_worker(child: dict[str, Any], moves_team: bool) -> str:
    worker = child["allocated_social_worker_id"]
    if worker is None:
        return ""
    return f"{child['team']}:{worker}" if moves_team else str(worker)


def _values(child: dict[str, Any], form: FormData | None, moves_team: bool) -> dict[str, Any]:
    if form is not None:
        return {
            "given_name": text(form, "given_name"),
            "family_name": text(form, "family_name"),
            "looked_after_since": echo_date(form, "looked_after_since"),
            "legal_status": text(form, "legal_status"),
            "worker": text(form, "worker"),
        }
    return {
        "given_name": child["given_name"],
        "family_name": child["family_name"],
        "looked_after_since": date_parts(child["looked_after_since"]),
        "legal_status": child["legal_status"] or "",
        "worker": _current_worker(child, moves_team),
    }


def _page(
    request: Request,
    services: AppServices,
    principal: Principal,
    child: dict[str, Any],
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    moves_team = not principal.roles.isdisjoint(MOVE_TEAM_ROLES)
    return render(
        request,
        "casework/child_edit.html",
        {
            "child": child,
            "values": _values(child, form, moves_team),
            "errors": errors or FormErrors(),
            "stale": stale,
            "stale_message": STALE_MESSAGE,
            "legal_statuses": child_form.LEGAL_STATUSES,
            "workers": _worker_choices(services, principal, child["team"]),
        },
        status_code=status_code,
    )


def _editable_child(services: AppServices, principal: Principal, child_id: int) -> dict[str, Any]:
    child = get_child(services.engine, child_id, principal)
    if not may_edit(principal, child["team"]):
        raise HTTPException(status_code=403, detail="Your roles cannot change this child.")
    return child


@router.get("/children/{child_id}/edit")
def edit_child_page(
    request: Request, child_id: PathId, services: Services, session: PageSession
) -> HTMLResponse:
    """The child's details and allocation, to change."""
    child = _editable_child(services, session.principal, child_id)
    return _page(request, services, session.principal, child)


def _changes(
    form: FormData,
    child: dict[str, Any],
    workers: list[tuple[str, str]],
    moves_team: bool,
    errors: FormErrors,
) -> dict[str, Any]:
    """What the form changes, checked; ``errors`` says what is wrong."""
    changes: dict[str, Any] = {}
    for name, label in _NAMES.items():
        value = text(form, name)
        if not value:
            errors.add(name, _MISSING[name])
        elif len(value) > 100:
            errors.add(name, f"{label} must be 100 characters or fewer")
        elif value != child[name]:
            changes[name] = value
    since = read_date(
        form, "looked_after_since", "Date they became looked after", errors, required=False
    )
    problem = since and looked_after_problem(since, child["date_of_birth"], today())
    if problem:
        errors.add("looked_after_since-day", f"Date they became looked after {problem}")
    elif since != child["looked_after_since"] and "looked_after_since-day" not in errors.by_field:
        changes["looked_after_since"] = since
    status = text(form, "legal_status") or None
    if status and status not in dict(child_form.LEGAL_STATUSES):
        errors.add("legal_status", "Select the child's legal status")
    elif status != child["legal_status"]:
        changes["legal_status"] = status
    if workers:
        chosen = text(form, "worker")
        if chosen and chosen not in dict(workers):
            errors.add("worker", "Select a social worker from the list")
        elif chosen != _current_worker(child, moves_team):
            team, _, worker = chosen.rpartition(":")
            changes["allocated_social_worker_id"] = int(worker) if worker else None
            if team and team != child["team"]:
                changes["team"] = team
    return changes


@router.post("/children/{child_id}/edit")
def edit_child(
    request: Request, child_id: PathId, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Save what changed; errors are shown next to the fields and nothing is written."""
    principal = session.principal
    child = _editable_child(services, principal, child_id)
    errors = FormErrors()
    workers = _worker_choices(services, principal, child["team"])
    moves_team = not principal.roles.isdisjoint(MOVE_TEAM_ROLES)
    changes = _changes(form, child, workers, moves_team, errors)
    if errors:
        return _page(request, services, principal, child, form=form, errors=errors, status_code=422)
    if not changes:
        return RedirectResponse(f"/children/{child_id}?done=no-change", status_code=303)
    version = text(form, "expected_version")
    try:
        # A form without the version it was loaded at cannot prove it is not stale.
        parsed = whole_number(version, 0)
        expected = -1 if parsed is None else parsed
        body = ChildUpdate.model_validate({"expected_version": max(expected, 0), **changes})
        update_child(services.engine, child_id, body, principal)
    except StaleVersion:
        fresh = get_child(services.engine, child_id, principal)
        return _page(request, services, principal, fresh, form=form, stale=True, status_code=409)
    except (InvalidData, ValidationError) as exc:
        errors.add("given_name", _problem_words(exc))
        return _page(request, services, principal, child, form=form, errors=errors, status_code=422)
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    return RedirectResponse(f"/children/{child_id}?done=child-changed", status_code=303)


def _problem_words(exc: Exception) -> str:
    if isinstance(exc, InvalidData):
        return exc.message
    return "Check the details: " + "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])} {e['msg']}"
        for e in exc.errors()  # type: ignore[attr-defined]
    )
