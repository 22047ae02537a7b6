"""The chair escalates drift on an agenda item's child to the service director, with the
reason (``PanelService.escalate_drift``): the same escalation as a decision ``escalate``,
which the director answers on the director's page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from app.api.deps import Services
from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, text
from app.web.routes.panel_common import Panel, done_redirect, refusal, require_rule
from app.web.session import WebSession
from app.web.templating import render
from notifications.raised import REASON_CHARS
from panels.permissions import ESCALATE_DRIFT
from panels.results import AgendaItem, MeetingDetail
from panels.service import PanelService
from services.children import get_child
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)


def _raise(
    panel: PanelService, session: WebSession, form: Any, **target: int
) -> tuple[str, FormErrors, int, str]:
    """Check the form's reason and escalate the drift on ``target`` (an item or a child):
    the reason, the form's errors, the status to answer them with, and the done code
    ("escalated", "already_escalated"; empty while there are errors)."""
    reason = text(form, "reason")
    errors = FormErrors()
    if not reason:
        errors.add("reason", "Enter the reason: what is drifting and why")
    elif len(reason) > REASON_CHARS:
        errors.add("reason", f"The reason must be {REASON_CHARS:,} characters or fewer")
    else:
        try:
            raised = panel.escalate_drift(session.principal, reason, **target)
        except EngineError as exc:
            if exc.status_code in (403, 404):
                raise
            refusal(errors, "reason", exc)
            return reason, errors, exc.status_code, ""
        return reason, errors, 200, "escalated" if raised.created else "already_escalated"
    return reason, errors, 400, ""


def _item(
    panel: PanelService, session: WebSession, meeting_id: int, item_id: int
) -> tuple[MeetingDetail, AgendaItem]:
    meeting = panel.get_meeting(meeting_id, session.principal)
    item = meeting.agenda.item(item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such item on this agenda.")
    return meeting, item


def _page(
    request: Request,
    meeting: MeetingDetail,
    item: AgendaItem,
    *,
    reason: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "panel/escalate.html",
        {
            "meeting": meeting,
            "item": item,
            "reason": reason,
            "reason_max": REASON_CHARS,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}/items/{item_id}/escalate")
def escalate_form(
    request: Request, meeting_id: PathId, item_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """The chair's form to escalate drift on one agenda item's child."""
    require_rule(session, ESCALATE_DRIFT)
    meeting, item = _item(panel, session, meeting_id, item_id)
    return _page(request, meeting, item)


@router.post("/panel/meetings/{meeting_id}/items/{item_id}/escalate")
def escalate(
    request: Request,
    meeting_id: PathId,
    item_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
) -> Response:
    """Escalate the child's drift with the reason; back to the meeting."""
    require_rule(session, ESCALATE_DRIFT)
    meeting, item = _item(panel, session, meeting_id, item_id)
    reason, errors, status_code, code = _raise(panel, session, form, item_id=item_id)
    if code:
        return done_redirect(f"/panel/meetings/{meeting_id}", code, f"#item-{item_id}")
    return _page(request, meeting, item, reason=reason, errors=errors, status_code=status_code)


def _child_page(
    request: Request,
    child: dict[str, Any],
    *,
    reason: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "panel/escalate_child.html",
        {
            "child": child,
            "reason": reason,
            "reason_max": REASON_CHARS,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/panel/children/{child_id}/escalate")
def escalate_child_form(
    request: Request, child_id: PathId, session: PageSession, services: Services
) -> HTMLResponse:
    """The chair's form to escalate drift on a child from the child page."""
    require_rule(session, ESCALATE_DRIFT)
    child = get_child(services.engine, child_id, session.principal)  # 404 / 403 for others
    return _child_page(request, child)


@router.post("/panel/children/{child_id}/escalate")
def escalate_child(
    request: Request,
    child_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
    services: Services,
) -> Response:
    """Escalate the child's drift with the reason (``PanelService.escalate_drift``, as
    ``POST /api/v1/panel/children/{id}/escalate``); back to the child page."""
    require_rule(session, ESCALATE_DRIFT)
    child = get_child(services.engine, child_id, session.principal)
    reason, errors, status_code, code = _raise(panel, session, form, child_id=child_id)
    if code:
        return done_redirect(f"/children/{child_id}", code, "")
    return _child_page(request, child, reason=reason, errors=errors, status_code=status_code)
