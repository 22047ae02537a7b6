"""A meeting: its summary, the agenda by part (build, reorder, pin), attendance and the
actions agreed at it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.params import PathId, whole_number
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, text
from app.web.routes.panel_common import (
    Panel,
    banner,
    done_redirect,
    journey_words,
    readable,
    refusal,
    require_rule,
    source_label,
)
from app.web.routes.panel_planner import meeting_status
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import (
    ARRANGE_AGENDA,
    BUILD_AGENDA,
    PUBLISH_AGENDA,
    READ_MINUTES,
    RECORD_ATTENDANCE,
    Rule,
    allows,
    offered,
)
from panels.service import PanelService
from services import audit
from services.clock import today
from states.roles import ADM
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

ATTENDANCE = (("present", "Present"), ("apologies", "Apologies"), ("absent", "Absent"))
NAME_MAX = 200
# The meeting page lists at most this many items rolled forward, then "and N more": an
# agenda built from every cohort of a national-size authority rolls tens of thousands.
ROLLED_SHOWN = 100


def meeting_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The meeting page, with any error from a button on it in the error summary."""
    principal = session.principal
    # One audit row for the page: the agenda, its children's names, the referrals waiting.
    with audit.one_read(panel.engine, principal, "meeting_page"):
        meeting = panel.get_meeting(meeting_id, principal, rolled_limit=ROLLED_SHOWN)
        actions = panel.list_actions(principal, None, meeting_id=meeting_id)
        # Panel staff see each child's name and age, as the ToR's agenda gives them.
        names = (
            panel.agenda_names(meeting_id, principal, rolled_limit=ROLLED_SHOWN)
            if allows(principal, READ_MINUTES)
            else {}
        )
        waiting = panel.waiting_referrals(meeting_id, principal)
    shown_status = meeting_status(meeting)
    return render(
        request,
        "panel/meeting.html",
        {
            "meeting": meeting,
            "shown_status": shown_status,
            "names": names,
            # A decided item is done for the panel; the agency decision maker still records
            # the decision on the panel's recommendation, so the ADM is offered the form.
            "decides_after_panel": ADM in principal.roles,
            "waiting": waiting,
            "today": today(),
            "attendance_missing": shown_status == "held"
            and any(s.expected and s.status == "not_recorded" for s in meeting.members),
            "agenda": meeting.agenda,
            # Why each item is on the agenda, and the service's reasons in the page's words.
            "source_label": source_label,
            "readable": readable,
            "seats": meeting.members,
            "people": {a.member_key: a.person for a in meeting.attendance},
            "actions": actions,
            "panel_name": panel.config.panel.name,
            "minutes_days": panel.config.minutes.due_working_days,
            "words": journey_words(panel.registry),
            "errors": errors or FormErrors(),
            "may": offered(principal),
            **banner(request.query_params.get("done")),
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}")
def meeting(
    request: Request, meeting_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """A meeting: summary, agenda by part, attendance, actions and minutes."""
    return meeting_page(request, panel, session, meeting_id)


def refused(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    field_id: str,
    exc: EngineError,
) -> HTMLResponse:
    """The meeting page again with a button's refusal in the error summary (a 404 stays
    the not-found page)."""
    if exc.status_code == 404:
        raise exc
    errors = FormErrors()
    refusal(errors, field_id, exc)
    return meeting_page(
        request, panel, session, meeting_id, errors=errors, status_code=exc.status_code
    )


def meeting_button(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    *,
    rule: Rule,
    call: Callable[[], object],
    field_id: str,
    done: str,
) -> Response:
    """A button of the meeting page that needs no more than the meeting: check the rule,
    ``call`` the service, and go back to the meeting with the ``done`` banner (or with the
    refusal next to ``field_id``)."""
    require_rule(session, rule)
    try:
        call()
    except EngineError as exc:
        return refused(request, panel, session, meeting_id, field_id, exc)
    return done_redirect(f"/panel/meetings/{meeting_id}", done)


@router.post("/panel/meetings/{meeting_id}/agenda")
def build(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Build (or rebuild) the agenda within each part's capacity."""
    del form  # checked for its token only
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=BUILD_AGENDA,
        call=lambda: panel.build_agenda(meeting_id, session.principal),
        field_id="build-agenda",
        done="agenda",
    )


@router.post("/panel/meetings/{meeting_id}/publish")
def publish(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Publish the agenda: invitations to each item's people and the members (or, after a
    change, to those whose slot changed)."""
    del form  # checked for its token only
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=PUBLISH_AGENDA,
        call=lambda: panel.publish_agenda(meeting_id, session.principal),
        field_id="publish-agenda",
        done="published",
    )


@router.post("/panel/meetings/{meeting_id}/agenda/order")
def order(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Move one item up or down its part (the chair's order)."""
    require_rule(session, ARRANGE_AGENDA)
    part, item_id, direction = text(form, "part"), text(form, "item_id"), text(form, "direction")
    agenda = panel.get_meeting(meeting_id, session.principal).agenda
    ids = [i.id for p in agenda.parts if p.key == part for i in p.items]
    chosen = whole_number(item_id)
    if chosen is None or chosen not in ids or direction not in ("up", "down"):
        errors = FormErrors()
        errors.add("agenda", "Choose an item on this meeting's agenda to move up or down")
        return meeting_page(request, panel, session, meeting_id, errors=errors, status_code=400)
    at = ids.index(chosen)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        try:
            panel.reorder(meeting_id, session.principal, part=part, item_ids=ids)
        except EngineError as exc:
            return refused(request, panel, session, meeting_id, "agenda", exc)
    return done_redirect(f"/panel/meetings/{meeting_id}", "order", f"#item-{item_id}")


@router.post("/panel/meetings/{meeting_id}/items/{item_id}/pin")
def pin(
    request: Request,
    meeting_id: PathId,
    item_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
) -> Response:
    """Pin an item to this meeting (it stays through rebuilds, even over capacity), or unpin."""
    require_rule(session, ARRANGE_AGENDA)
    pinned = text(form, "pinned") == "yes"
    agenda = panel.get_meeting(meeting_id, session.principal).agenda
    if agenda.item(item_id) is None:
        errors = FormErrors()
        errors.add("agenda", "Choose an item on this meeting's agenda to pin")
        return meeting_page(request, panel, session, meeting_id, errors=errors, status_code=400)
    try:
        panel.pin(item_id, session.principal, pinned=pinned)
    except EngineError as exc:
        return refused(request, panel, session, meeting_id, "agenda", exc)
    return done_redirect(
        f"/panel/meetings/{meeting_id}", "pinned" if pinned else "unpinned", f"#item-{item_id}"
    )


def _attendance_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    meeting_id: int,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    meeting = panel.get_meeting(meeting_id, session.principal)
    if values is None:
        values = {}
        for a in meeting.attendance:
            values[f"status-{a.member_key}"] = a.status
            values[f"person-{a.member_key}"] = a.person or ""
            values[f"representative-{a.member_key}"] = a.representative or ""
    return render(
        request,
        "panel/attendance.html",
        {
            "meeting": meeting,
            "seats": meeting.members,
            "choices": ATTENDANCE,
            "values": values,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}/attendance")
def attendance_form(
    request: Request, meeting_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """Who is present, who sent apologies and who represents them (the administrator)."""
    require_rule(session, RECORD_ATTENDANCE)
    return _attendance_page(request, panel, session, meeting_id)


@router.post("/panel/meetings/{meeting_id}/attendance")
def record_attendance(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Record the attendance of every seat given a status; seats left blank are unchanged."""
    require_rule(session, RECORD_ATTENDANCE)
    errors = FormErrors()
    entries = []
    values: dict[str, str] = {}
    for seat in panel.config.members:
        status = text(form, f"status-{seat.key}")
        person = text(form, f"person-{seat.key}")
        representative = text(form, f"representative-{seat.key}")
        values.update(
            {
                f"status-{seat.key}": status,
                f"person-{seat.key}": person,
                f"representative-{seat.key}": representative,
            }
        )
        if status and status not in dict(ATTENDANCE):
            errors.add(f"status-{seat.key}", f"Select whether the {seat.title} attended")
        for field, value in (("person", person), ("representative", representative)):
            if len(value) > NAME_MAX:
                errors.add(
                    f"{field}-{seat.key}", f"The name must be {NAME_MAX} characters or fewer"
                )
        if representative and status != "apologies":
            errors.add(
                f"representative-{seat.key}",
                f"Only a member who sent apologies can be represented: select Apologies for "
                f"the {seat.title}, or remove the representative",
            )
        if status:
            entries.append(
                {
                    "member_key": seat.key,
                    "status": status,
                    "person": person,
                    "representative": representative or None,
                }
            )
    if not entries and not errors:
        first = panel.config.members[0].key
        errors.add(f"status-{first}", "Record the attendance of at least one member")
    status_code = 400
    if not errors:
        try:
            panel.record_attendance(meeting_id, session.principal, entries)
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, f"status-{entries[0]['member_key']}", exc)
            status_code = exc.status_code
    if errors:
        return _attendance_page(
            request,
            panel,
            session,
            meeting_id,
            errors=errors,
            values=values,
            status_code=status_code,
        )
    return done_redirect(f"/panel/meetings/{meeting_id}", "attendance")


@router.post("/panel/actions/{action_id}/done")
def action_done(
    request: Request, action_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Mark an action done (its owner, the panel staff or a team manager); back to its
    meeting."""
    del form  # checked for its token only
    action = panel.complete_action(action_id, session.principal)
    return done_redirect(f"/panel/meetings/{action.meeting_id}", "action_done")
