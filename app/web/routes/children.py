"""Children: find a child, add one, the child's page (details and every journey), start a
journey."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import AppServices, Services
from app.api.params import MAX_PAGE, Page, PathId, whole_number
from app.web import child_form
from app.web.child_view import journey_panel, last_recorded_by
from app.web.deps import CheckedForm, PageSession
from app.web.event_forms import (
    FormField,
    echo,
    engine_errors,
    form_fields,
    read_data,
)
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.routes.child_edit import may_edit
from app.web.routes.panel_cohorts import PAGE_ROLES as COHORT_PAGE_ROLES
from app.web.templating import render
from notifications.meetings import pack_meetings
from panels import exports, permissions, record
from services import audit, cohorts
from services.access import CHILD_EDIT_ROLES, Principal, child_refusal
from services.care_record.view import child_record
from services.caseload import team_social_workers
from services.children import DuplicateReference, create_child, get_child, search_children
from services.clock import today
from services.deadlines import deadlines_to_confirm
from services.journeys import AccessDenied, AlreadyActive
from services.users import user_names
from states.deadline_kinds import PANEL_PACK
from states.deadline_kinds import label as deadline_label
from workflow.definition import JourneyDefinition
from workflow.errors import GuardFailed, InvalidData

router = APIRouter(include_in_schema=False)

# Banners the child page shows after a change to the child itself.
# "escalated" / "already_escalated": the chair's escalate-drift form (panel_escalate.py).
_CHILD_DONE = (
    "child-added",
    "child-changed",
    "no-change",
    "escalated",
    "already_escalated",
    "deadline-confirmed",  # deadline_confirm.py: a deadline from before the service
)

PAGE_SIZE = 50
MAX_QUERY = 100
STARTED_ON = "started_on"
STARTED_ON_LABEL = "Start date"


@router.get("/children")
def children(
    request: Request,
    services: Services,
    session: PageSession,
    page: Page = 1,
) -> HTMLResponse:
    """Children the user may see, by reference. Searching is a POST (:func:`search`)."""
    return _children_page(request, services, session.principal, "", page)


@router.post("/children")
def search(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> HTMLResponse:
    """Children found by reference or name, shown on the POST itself: a search by name in
    the address would put the child's name in browser history and access logs."""
    number = text(form, "page")
    return _children_page(
        request,
        services,
        session.principal,
        text(form, "q")[:MAX_QUERY],
        whole_number(number, 1, MAX_PAGE) or 1,
    )


def _children_page(
    request: Request, services: AppServices, principal: Principal, query: str, page: int
) -> HTMLResponse:
    page = min(max(page, 1), 100_000)
    # One more than a page, to know whether there is a next one.
    rows = search_children(
        services.engine,
        principal,
        q=query or None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "casework/children.html",
        {
            "children": rows[:PAGE_SIZE],
            "q": query,
            "page": page,
            "more": len(rows) > PAGE_SIZE,
            "page_href": lambda number: f"/children?{urlencode({'page': number})}",
            "can_add": _may_add(principal),
        },
    )


def _may_add(principal: Principal) -> bool:
    """Whether the user may record a new child (the service decides again on saving)."""
    return principal.sees_children and not principal.roles.isdisjoint(CHILD_EDIT_ROLES)


def _add_choices(services: AppServices, principal: Principal) -> child_form.ChildFormChoices:
    """What the add-a-child form offers this user (403 for a user who may not add one)."""
    if not _may_add(principal):
        raise HTTPException(status_code=403, detail="Your roles cannot record a child.")
    team_workers = (
        [(str(w.id), w.name) for w in team_social_workers(services.engine, principal.team)]
        if principal.team
        else []
    )
    return child_form.choices(principal, team_workers)


def _add_page(
    request: Request,
    principal: Principal,
    form_choices: child_form.ChildFormChoices,
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "casework/child_new.html",
        {
            "choices": form_choices,
            "legal_statuses": child_form.LEGAL_STATUSES,
            "values": child_form.echo(form),
            "errors": child_form.ordered(errors) if errors else FormErrors(),
            "team": principal.team,
        },
        status_code=status_code,
    )


@router.get("/children/new")
def new_child_form(request: Request, services: Services, session: PageSession) -> HTMLResponse:
    """The form to record a child."""
    principal = session.principal
    return _add_page(request, principal, _add_choices(services, principal))


@router.post("/children/new")
def add_child(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Record the child, then show their page; errors are shown next to the fields."""
    principal = session.principal
    form_choices = _add_choices(services, principal)
    errors = FormErrors()
    body = child_form.read(form, form_choices, errors, today=today())
    if body is not None:
        try:
            child_id = create_child(services.engine, body, principal)
        except DuplicateReference:
            errors.add("reference", "A child with this reference is already recorded")
        except InvalidData as exc:
            # The service checks the team and the allocated social worker.
            field = "worker" if "social worker" in exc.message.lower() else "team"
            errors.add(field, exc.message)
        else:
            return RedirectResponse(f"/children/{child_id}?done=child-added", status_code=303)
    return _add_page(request, principal, form_choices, form=form, errors=errors, status_code=422)


def _startable(
    services: AppServices, principal: Principal, team: str, active: set[str]
) -> list[JourneyDefinition]:
    """The journey types the user may start for a child of ``team`` (one active per type)."""
    if child_refusal(principal, team, write=True):
        return []
    out = []
    for journey_type in services.registry.types():
        jm = services.registry.current(journey_type)
        if jm is None or journey_type in active:
            continue
        if not principal.roles.isdisjoint(jm.definition.start.roles):
            out.append(jm.definition)
    return out


_DONE = {"event-recorded", "journey-started"}


@router.get("/children/{child_id:int}")
def child_page(
    request: Request,
    child_id: PathId,
    services: Services,
    session: PageSession,
    done: str | None = None,
) -> HTMLResponse:
    """A child's details and every journey: stage and diagram, actions open now and why
    others are not, deadlines and history."""
    principal = session.principal
    # One audit row for the page: the child, its journeys and their histories.
    with audit.one_read(services.engine, principal, "child_page"):
        child = get_child(services.engine, child_id, principal)  # 404 / 403 for others
        views = services.journeys.list_for_child(child_id, principal)
        histories = {v.id: services.journeys.history(v.id, principal) for v in views}
        in_cohorts = cohorts.child_cohorts(services.engine, child_id, principal)
        care_record = child_record(services.engine, child_id, principal)
        panel_record = record.child_record(services.engine, child_id, principal, current_only=True)
        before_service = [
            {**d, "label": deadline_label(d["kind"])}
            for d in deadlines_to_confirm(services.engine, child_id)
        ]
    people = user_names(
        services.engine,
        [child["allocated_social_worker_id"]]
        + [h["actor_id"] for entries in histories.values() for h in entries]
        + [d.owner_id for v in views for d in v.deadlines],
    )
    names = {user_id: name.display for user_id, name in people.items()}
    day = today()
    packs = pack_meetings(
        services.engine, (d.id for v in views for d in v.deadlines if d.kind == PANEL_PACK.key)
    )
    panels = [
        journey_panel(v, histories[v.id], services.registry, names, principal, day, packs)
        for v in sorted(views, key=lambda v: (v.status != "active", -v.id))
    ]
    recorded = last_recorded_by(panels, principal.user_id) if done in _DONE else None
    if done == "child-added":
        recorded = None
    active = {v.type for v in views if v.status == "active"}
    return render(
        request,
        "casework/child.html",
        {
            "child": child,
            "care_record": care_record,
            "worker": names.get(child["allocated_social_worker_id"] or 0),
            "panels": panels,
            "done": done if recorded or done in _CHILD_DONE else None,
            "recorded": recorded,
            "can_start": bool(_startable(services, principal, child["team"], active)),
            "can_edit": may_edit(principal, child["team"]),
            "may_refer": permissions.allows(principal, permissions.REFER_CASE),
            "panel_record": panel_record,
            "may_escalate": permissions.allows(principal, permissions.ESCALATE_DRIFT),
            "today": day,
            "in_cohorts": in_cohorts,
            "cohort_links": not principal.roles.isdisjoint(COHORT_PAGE_ROLES),
            "before_service": before_service,
            "before_service_keys": {(d["journey_id"], d["kind"], d["ref"]) for d in before_service},
            "may_confirm": may_edit(principal, child["team"]),
        },
    )


@router.get("/children/{child_id:int}/panel-record/{entry_id:int}.{ext}")
def panel_record_download(
    child_id: PathId, entry_id: PathId, ext: str, services: Services, session: PageSession
) -> Response:
    """One entry of the child's panel record as a one-page PDF or a Word document."""
    if ext not in ("pdf", "docx"):
        raise HTTPException(status_code=404, detail="No such download.")
    entry = record.record_entry(services.engine, entry_id, session.principal, export=ext)
    if entry.child_id != child_id:
        raise HTTPException(status_code=404, detail="No such entry on this child's record.")
    if ext == "pdf":
        body, media = exports.record_entry_pdf(entry), "application/pdf"
    else:
        body, media = exports.record_entry_docx(entry), exports.DOCX
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="panel-record-{entry_id}.{ext}"'},
    )


def _start_context(
    services: AppServices, child_id: int, principal: Principal
) -> tuple[dict[str, Any], list[JourneyDefinition]]:
    """The child and the journeys the user may start for it (403 when there are none)."""
    child = get_child(services.engine, child_id, principal)
    refusal = child_refusal(principal, child["team"], write=True)
    if refusal:
        raise AccessDenied(refusal)
    active = {j["type"] for j in child["journeys"] if j["status"] == "active"}
    types = _startable(services, principal, child["team"], active)
    if not types and not active:
        raise HTTPException(status_code=403, detail="Your roles cannot start a journey.")
    return child, types


def _start_page(
    request: Request,
    child: dict[str, Any],
    types: list[JourneyDefinition],
    chosen: JourneyDefinition | None,
    *,
    fields: list[FormField] | None = None,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "casework/start_journey.html",
        {
            "child": child,
            "types": [(d.type, d.title) for d in types],
            "descriptions": {d.type: d.description for d in types},
            "chosen": chosen,
            "fields": fields or [],
            "values": values or {},
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/children/{child_id:int}/journeys/new")
def start_journey_form(
    request: Request,
    child_id: PathId,
    services: Services,
    session: PageSession,
    type: str | None = None,
    chosen: str | None = None,
) -> HTMLResponse:
    """Start a journey: first its type, then its start date and any details it needs.
    (``chosen`` marks the first step's form as sent, so sending it with no type is an
    error rather than the empty form again.)"""
    child, types = _start_context(services, child_id, session.principal)
    definition = next((d for d in types if d.type == type), None)
    errors = FormErrors()
    if definition is None and (type is not None or chosen):
        errors.add("type", "Select a type of journey this child does not already have")
    if definition is None:
        return _start_page(
            request, child, types, None, errors=errors, status_code=422 if errors else 200
        )
    fields = form_fields(definition.start.fields, {})
    values = echo(None, fields)
    values[STARTED_ON] = date_parts(child["looked_after_since"] or today())
    return _start_page(request, child, types, definition, fields=fields, values=values)


@router.post("/children/{child_id:int}/journeys/new")
def start_journey(
    request: Request,
    child_id: PathId,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Start the chosen journey; errors are shown next to the fields, nothing is written."""
    principal = session.principal
    child, types = _start_context(services, child_id, principal)
    chosen = next((d for d in types if d.type == text(form, "type")), None)
    if chosen is None:
        errors = FormErrors()
        errors.add("type", "Select a type of journey this child does not already have")
        return _start_page(request, child, types, None, errors=errors, status_code=422)
    fields = form_fields(chosen.start.fields, {})
    errors = FormErrors()
    started_on = read_date(form, STARTED_ON, STARTED_ON_LABEL, errors)
    if started_on is not None and started_on > today():
        errors.add(f"{STARTED_ON}-day", f"{STARTED_ON_LABEL} must be today or in the past")
    data = read_data(form, fields, errors)
    values = echo(form, fields)
    values[STARTED_ON] = echo_date(form, STARTED_ON)
    if not errors:
        try:
            view = services.journeys.start(
                child_id, chosen.type, started_on=started_on, data=data, principal=principal
            )
        except AlreadyActive:
            errors.add("type", f"This child already has an active {chosen.title.lower()} journey")
        except (InvalidData, GuardFailed) as exc:
            engine_errors(exc, fields, errors, date_field=STARTED_ON)
        else:
            return RedirectResponse(
                f"/children/{child_id}?done=journey-started#journey-{view.id}", status_code=303
            )
    return _start_page(
        request, child, types, chosen, fields=fields, values=values, errors=errors, status_code=422
    )
