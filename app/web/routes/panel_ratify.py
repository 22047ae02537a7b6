"""The chair ratifies, at a later quorate meeting, a decision recorded below quorum (or
does not, with a reason): ``PanelService.ratify`` (issue 14 item 4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, text
from app.web.routes.panel_common import Panel, done_redirect, refusal, require_rule
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import RECORD_DECISION
from panels.service import PanelService
from panels.service.quorum import REASON_MAX
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    decision_id: int,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    meeting = panel.get_meeting(meeting_id, session.principal)
    decision = next((d for d in meeting.to_ratify if d.decision_id == decision_id), None)
    if decision is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "There is no such decision to ratify at this meeting."
        )
    return render(
        request,
        "panel/ratify.html",
        {
            "meeting": meeting,
            "decision": decision,
            "errors": errors or FormErrors(),
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}/ratify/{decision_id}")
def ratify_form(
    request: Request, meeting_id: PathId, decision_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """Ratify, or not, a decision an earlier meeting recorded below quorum."""
    require_rule(session, RECORD_DECISION)
    return _page(request, panel, session, meeting_id, decision_id)


@router.post("/panel/meetings/{meeting_id}/ratify/{decision_id}")
def ratify(
    request: Request,
    meeting_id: PathId,
    decision_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
) -> Response:
    """Record the chair's ratifying (the outcome takes effect) or refusal (with a reason)."""
    require_rule(session, RECORD_DECISION)
    errors = FormErrors()
    answer = text(form, "ratified")
    reason = text(form, "reason")
    if answer not in ("yes", "no"):
        errors.add("ratified", "Select whether the panel ratifies the decision")
    elif answer == "no" and not reason:
        errors.add("reason", "Enter why the decision is not ratified")
    if len(reason) > REASON_MAX:
        errors.add("reason", f"The reason must be {REASON_MAX} characters or fewer")
    if not errors:
        try:
            panel.ratify(
                decision_id,
                session.principal,
                meeting_id=meeting_id,
                ratified=answer == "yes",
                reason=reason,
            )
        except EngineError as exc:
            if exc.status_code in (403, 404):
                raise
            refusal(errors, "ratified", exc)
    if errors:
        return _page(
            request,
            panel,
            session,
            meeting_id,
            decision_id,
            errors=errors,
            values={"ratified": answer, "reason": reason},
            status_code=400,
        )
    return done_redirect(
        f"/panel/meetings/{meeting_id}", "ratified" if answer == "yes" else "not_ratified"
    )
