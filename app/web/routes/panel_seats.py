"""Two forms the API alone had: the panel administrator names who holds each seat
(``PanelService.assign_seat``, as ``POST /api/v1/panel/seats``), and a child's caseworker or
the administrator records the child's IRO and supervising social worker, whom a published
agenda invites to the child's slot (``PanelService.record_invitees``, as
``POST /api/v1/panel/children/{id}/invitees``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import Services
from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, text
from app.web.routes.panel_common import Panel, done_redirect, refusal, require_rule
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import ASSIGN_SEATS, RECORD_INVITEES
from panels.service import PanelService
from services.children import get_child
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)


def _person(form: Any, field: str, label: str, errors: FormErrors) -> int | None:
    """A person chosen from a select (None: the blank choice); an error if not a number."""
    value = text(form, field)
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        errors.add(field, f"Select {label} from the list")
        return None
    return int(value)


def _seats_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "panel/seats.html",
        {
            "board": panel.seat_board(session.principal),
            "panel_name": panel.config.panel.name,
            "errors": errors or FormErrors(),
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/panel/seats")
def seats(request: Request, session: PageSession, panel: Panel) -> HTMLResponse:
    """The panel's seats and who holds each, with a form to name a seat's holder."""
    require_rule(session, ASSIGN_SEATS)
    return _seats_page(request, panel, session)


@router.post("/panel/seats")
def name_seat(request: Request, session: PageSession, form: CheckedForm, panel: Panel) -> Response:
    """Name who holds one seat; back to the seats with a banner."""
    require_rule(session, ASSIGN_SEATS)
    member_key = text(form, "member_key")
    field = f"user-{member_key}" if member_key.isidentifier() else "user"
    errors = FormErrors()
    user_id = _person(form, "user_id", "a person", errors)
    if user_id is None and not errors.items:
        errors.add(field, "Select the person who holds the seat")
    if not errors.items and user_id is not None:
        try:
            panel.assign_seat(session.principal, member_key=member_key, user_id=user_id)
        except EngineError as exc:
            if exc.status_code in (403, 404):
                raise
            refusal(errors, field, exc)
            return _seats_page(request, panel, session, errors=errors, status_code=exc.status_code)
        return done_redirect("/panel/seats", "seat-named", f"#seat-{member_key}")
    fixed = FormErrors()
    for _name, message in errors.items:
        fixed.add(field, message)
    return _seats_page(request, panel, session, errors=fixed, status_code=400)


def _invitees_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    child: dict[str, Any],
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = panel.child_invitees(child["id"], session.principal)
    return render(
        request,
        "panel/invitees.html",
        {
            "child": child,
            "found": found,
            "values": values
            or {
                "iro_id": found["iro_id"],
                "supervising_social_worker_id": found["supervising_social_worker_id"],
            },
            "errors": errors or FormErrors(),
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/panel/children/{child_id}/invitees")
def invitees(
    request: Request, child_id: PathId, session: PageSession, panel: Panel, services: Services
) -> HTMLResponse:
    """The child's IRO and supervising social worker, whom the panel invites."""
    require_rule(session, RECORD_INVITEES)
    child = get_child(services.engine, child_id, session.principal)  # 404 / 403 for others
    return _invitees_page(request, panel, session, child)


@router.post("/panel/children/{child_id}/invitees")
def record_invitees(
    request: Request,
    child_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
    services: Services,
) -> Response:
    """Record the child's IRO and supervising social worker (a blank choice clears one)."""
    require_rule(session, RECORD_INVITEES)
    child = get_child(services.engine, child_id, session.principal)
    errors = FormErrors()
    iro_id = _person(form, "iro_id", "an IRO", errors)
    worker_id = _person(form, "supervising_social_worker_id", "a supervising social worker", errors)
    values = {"iro_id": iro_id, "supervising_social_worker_id": worker_id}
    if not errors.items:
        try:
            panel.record_invitees(
                child_id, session.principal, iro_id=iro_id, supervising_social_worker_id=worker_id
            )
        except EngineError as exc:
            if exc.status_code in (403, 404):
                raise
            field = (
                "supervising_social_worker_id"
                if "supervising_social_worker_id" in str(exc.details)
                else "iro_id"
            )
            refusal(errors, field, exc)
            return _invitees_page(
                request,
                panel,
                session,
                child,
                errors=errors,
                values=values,
                status_code=exc.status_code,
            )
        return done_redirect(f"/panel/children/{child_id}/invitees", "invitees-recorded")
    return _invitees_page(
        request, panel, session, child, errors=errors, values=values, status_code=400
    )
