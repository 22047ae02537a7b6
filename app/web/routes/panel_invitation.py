"""A member's invitation to a meeting (the link in its notice and email): send apologies
with an optional note, then name who represents the seat."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, text
from app.web.routes.panel_common import Panel, done_redirect, refusal
from app.web.session import WebSession
from app.web.templating import render
from panels.service import PanelService
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    invitation_id: int,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = panel.invitation_detail(invitation_id, session.principal)
    return render(
        request,
        "panel/invitation.html",
        {
            "detail": detail,
            "values": values or {},
            "errors": errors or FormErrors(),
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/panel/invitations/{invitation_id}")
def invitation(
    request: Request, invitation_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """The member's invitation: the meeting, the seat, apologies and representative."""
    return _page(request, panel, session, invitation_id)


def _submit(
    request: Request,
    panel: PanelService,
    session: WebSession,
    invitation_id: int,
    field: str,
    value: str,
    call: Callable[[], object],
    done: str,
) -> Response:
    """Run the member's ``call``; back to the invitation with ``done``, or its page again
    with the refusal next to ``field`` (an unknown invitation stays a 404)."""
    try:
        call()
    except EngineError as exc:
        if exc.status_code == 404:
            raise
        errors = FormErrors()
        refusal(errors, field, exc)
        return _page(
            request,
            panel,
            session,
            invitation_id,
            errors=errors,
            values={field: value},
            status_code=exc.status_code,
        )
    return done_redirect(f"/panel/invitations/{invitation_id}", done)


@router.post("/panel/invitations/{invitation_id}/apologies")
def apologies(
    request: Request, invitation_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Send apologies (an optional note); the member is then asked for a representative."""
    note = text(form, "note")
    return _submit(
        request,
        panel,
        session,
        invitation_id,
        "note",
        note,
        lambda: panel.send_apologies(invitation_id, session.principal, note=note),
        "apologies",
    )


@router.post("/panel/invitations/{invitation_id}/representative")
def representative(
    request: Request, invitation_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Name who represents the seat (after apologies)."""
    name = text(form, "representative")
    return _submit(
        request,
        panel,
        session,
        invitation_id,
        "representative",
        name,
        lambda: panel.name_representative(invitation_id, session.principal, representative=name),
        "representative",
    )
