"""Recording what happened to a deadline that fell due before the child's record entered
the service (an imported journey's back-dated deadline, ``services.deadlines.judged``):
met, with the date, or missed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import Services
from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.templating import render
from services.deadlines import confirm_deadline, deadline_to_confirm
from services.journeys import AccessDenied, NotFound
from states.deadline_kinds import label
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

OUTCOMES = (("met", "It was met"), ("missed", "It was missed"))


def _page(
    request: Request,
    deadline: dict[str, Any],
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "casework/deadline_confirm.html",
        {
            "deadline": deadline,
            "deadline_label": label(deadline["kind"]),
            "outcomes": OUTCOMES,
            "outcome": text(form, "outcome") if form is not None else None,
            "met_on": echo_date(form, "met_on") if form is not None else None,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


def _deadline(services: Any, session: Any, child_id: int, deadline_id: int) -> dict[str, Any]:
    try:
        deadline = deadline_to_confirm(services.engine, deadline_id, session.principal)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.message) from exc
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=exc.message) from exc
    if deadline["child_id"] != child_id:
        raise HTTPException(status_code=404, detail="This child has no such deadline.")
    return deadline


@router.get("/children/{child_id:int}/deadlines/{deadline_id:int}/confirm")
def confirm_page(
    request: Request,
    child_id: PathId,
    deadline_id: PathId,
    services: Services,
    session: PageSession,
) -> HTMLResponse:
    """The form: was the deadline met (and when) or missed?"""
    return _page(request, _deadline(services, session, child_id, deadline_id))


@router.post("/children/{child_id:int}/deadlines/{deadline_id:int}/confirm")
def confirm(
    request: Request,
    child_id: PathId,
    deadline_id: PathId,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Record it; errors are shown next to the fields and nothing is written."""
    deadline = _deadline(services, session, child_id, deadline_id)
    errors = FormErrors()
    outcome = text(form, "outcome")
    met_on = None
    if outcome not in dict(OUTCOMES):
        errors.add("outcome", "Select whether the deadline was met or missed")
    elif outcome == "met":
        met_on = read_date(form, "met_on", "The date it was met", errors)
    if errors:
        return _page(request, deadline, form=form, errors=errors, status_code=422)
    try:
        confirm_deadline(services.engine, deadline_id, session.principal, met_on=met_on)
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=exc.message) from exc
    except EngineError as exc:
        errors.add("met_on-day" if exc.status_code == 422 else "outcome", exc.message)
        return _page(request, deadline, form=form, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/children/{child_id}?done=deadline-confirmed", status_code=303)
