"""The forward planner: the panel's meetings, planning them, moving and cancelling one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.routes.panel_common import Panel, banner, done_redirect, refusal, require_rule
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import SCHEDULE_MEETINGS, offered
from panels.results import Meeting, MeetingCounts
from panels.service import PanelService
from panels.service.meetings import PastDateUnconfirmed
from services.clock import today
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

# Meetings already held stay on the planner this long, so the administrator can still
# record attendance and minutes from it.
RECENT_DAYS = 90
REASON_MAX = 500


def capacity_items(panel: PanelService) -> int:
    """How many items a meeting takes at the parts' default item length."""
    return sum(p.capacity.total_minutes // p.capacity.unit_minutes for p in panel.config.parts)


def meeting_status(meeting: Meeting) -> str:
    """Scheduled, moved, cancelled or held (a moved meeting is scheduled on another date
    than the planner's)."""
    if meeting.status == "scheduled" and meeting.meeting_date != meeting.scheduled_for:
        return "moved"
    return meeting.status


@dataclass(frozen=True)
class PlannerRow:
    """A meeting as the planner lists it: the meeting, its counts and its shown status."""

    meeting: Meeting
    counts: MeetingCounts
    shown_status: str


def _planner_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    *,
    errors: FormErrors | None = None,
    form_start: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = session.principal
    now = today()
    months = panel.config.schedule.planner_months
    meetings = panel.list_meetings(
        principal, now - timedelta(days=RECENT_DAYS), now + timedelta(days=31 * months)
    )
    counts = panel.meeting_counts(principal, [m.id for m in meetings])
    rows = [PlannerRow(m, counts[m.id], meeting_status(m)) for m in meetings]
    return render(
        request,
        "panel/planner.html",
        {
            "panel_name": panel.config.panel.name,
            "months": months,
            "recent": [r for r in rows if r.meeting.meeting_date < now],
            "upcoming": [r for r in rows if r.meeting.meeting_date >= now],
            "capacity": capacity_items(panel),
            "errors": errors or FormErrors(),
            "form_start": form_start or date_parts(None),
            "may": offered(principal),
            **banner(request.query_params.get("done")),
        },
        status_code=status_code,
    )


@router.get("/panel")
def planner(request: Request, session: PageSession, panel: Panel) -> HTMLResponse:
    """The forward planner: recent meetings and those of the next months."""
    return _planner_page(request, panel, session)


@router.post("/panel/meetings/generate")
def generate(request: Request, session: PageSession, form: CheckedForm, panel: Panel) -> Response:
    """Plan the forward planner's meetings from a date (default today); idempotent."""
    require_rule(session, SCHEDULE_MEETINGS)
    errors = FormErrors()
    start = read_date(form, "start", "The first date to plan from", errors, required=False)
    if not errors:
        try:
            panel.generate(session.principal, start)
        except EngineError as exc:
            refusal(errors, "start-day", exc)
    if errors:
        return _planner_page(
            request,
            panel,
            session,
            errors=errors,
            form_start=echo_date(form, "start"),
            status_code=400,
        )
    return done_redirect("/panel", "generated")


def _change_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    meeting = panel.get_meeting(meeting_id, session.principal)
    return render(
        request,
        "panel/meeting_change.html",
        {
            "meeting": meeting,
            "shown_status": meeting_status(meeting),
            "errors": errors or FormErrors(),
            "values": values or {"new_date": date_parts(None)},
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}/change")
def change(
    request: Request, meeting_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """Move or cancel a meeting (the panel administrator)."""
    require_rule(session, SCHEDULE_MEETINGS)
    return _change_page(request, panel, session, meeting_id)


def _reason(form: Any, name: str, what: str, errors: FormErrors) -> str:
    reason = text(form, name)
    if not reason:
        errors.add(name, f"Enter why the meeting is {what}")
    elif len(reason) > REASON_MAX:
        errors.add(name, f"The reason must be {REASON_MAX} characters or fewer")
    return reason


@router.post("/panel/meetings/{meeting_id}/move")  # a past date: a confirm step
def move(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Move a meeting to another date; its pack deadlines move with it."""
    require_rule(session, SCHEDULE_MEETINGS)
    errors = FormErrors()
    new_date = read_date(form, "new_date", "The new date", errors)
    reason = _reason(form, "move_reason", "moved", errors)
    confirm_past = text(form, "confirm_past") == "yes"
    confirm_needed = False
    if not errors and new_date is not None:
        try:
            panel.move_meeting(
                meeting_id,
                session.principal,
                new_date=new_date,
                reason=reason,
                confirm_past=confirm_past,
            )
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            if exc.code == PastDateUnconfirmed.code:
                # The confirm step: the same form again, with the box to confirm.
                confirm_needed = True
                errors.add(
                    "confirm_past",
                    "The new date is in the past: confirm the move, and check the reason",
                )
            else:
                refusal(errors, "new_date-day", exc)
    if errors:
        values = {
            "new_date": echo_date(form, "new_date"),
            "move_reason": text(form, "move_reason"),
            "confirm_needed": confirm_needed,
        }
        return _change_page(
            request, panel, session, meeting_id, errors=errors, values=values, status_code=400
        )
    return done_redirect(f"/panel/meetings/{meeting_id}", "moved")


@router.post("/panel/meetings/{meeting_id}/cancel")
def cancel(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Cancel a meeting; its referrals are offered the next one."""
    require_rule(session, SCHEDULE_MEETINGS)
    errors = FormErrors()
    reason = _reason(form, "cancel_reason", "cancelled", errors)
    if not errors:
        try:
            panel.cancel_meeting(meeting_id, session.principal, reason=reason)
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, "cancel_reason", exc)
    if errors:
        values = {"new_date": date_parts(None), "cancel_reason": text(form, "cancel_reason")}
        return _change_page(
            request, panel, session, meeting_id, errors=errors, values=values, status_code=400
        )
    return done_redirect(f"/panel/meetings/{meeting_id}", "cancelled")
