"""Recording a journey event from a form: its data, the date it happened, and the journey
version the page was read at (so a change made meanwhile by someone else is refused, never
overwritten)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import AppServices, Services
from app.web.child_view import event_label, next_stages
from app.web.deps import CheckedForm, PageSession
from app.web.event_forms import (
    OCCURRED_ON,
    OCCURRED_ON_LABEL,
    echo,
    engine_errors,
    form_fields,
    read_data,
)
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.templating import render
from services.access import WRITE_ROLES, Principal
from services.children import get_child
from services.clock import today
from services.journeys import JourneyView
from workflow.definition import Event, JourneyDefinition
from workflow.errors import GuardFailed, InvalidData, StaleVersion

router = APIRouter(include_in_schema=False)

STALE_MESSAGE = (
    "Someone else changed this journey while you were on this page. Nothing has been saved. "
    "Check the journey's current stage below and try again."
)


@router.get("/journeys/{journey_id}")
def journey(journey_id: int, services: Services, session: PageSession) -> Response:
    """A journey is shown on its child's page (notices link here by journey)."""
    view = services.journeys.get(journey_id, session.principal)
    return RedirectResponse(f"/children/{view.child_id}#journey-{view.id}", status_code=303)


def _event(services: AppServices, view: JourneyView, event: str) -> tuple[JourneyDefinition, Event]:
    """The journey's definition and its event ``event`` (404 for an unknown one)."""
    definition = services.registry.get(view.type, view.definition_version).definition
    ev = definition.event(event)
    if ev is None or ev is definition.start:
        raise HTTPException(status_code=404, detail="This journey has no such action.")
    return definition, ev


def _refuse_unless_allowed(principal: Principal, ev: Event) -> None:
    """403 for a user whose roles may not record ``ev`` (read-only users included)."""
    if principal.roles.isdisjoint(WRITE_ROLES):
        raise HTTPException(status_code=403, detail="Your roles allow reading only.")
    if principal.roles.isdisjoint(ev.roles):
        raise HTTPException(
            status_code=403,
            detail=f"Only {', '.join(r.replace('_', ' ') for r in ev.roles)} may do this.",
        )


def _offered(view: JourneyView, event: str) -> bool:
    """Whether the journey's current stage offers ``event`` to this user now."""
    return any(o.event == event and o.allowed for o in view.available_events)


def _page(
    request: Request,
    services: AppServices,
    principal: Principal,
    view: JourneyView,
    definition: JourneyDefinition,
    ev: Event,
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    stale: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    fields = form_fields(ev.fields, view.data)
    values: dict[str, Any] = echo(form, fields)
    values[OCCURRED_ON] = echo_date(form, OCCURRED_ON) if form else date_parts(today())
    labels = {s.name: s.label for s in definition.states}
    destinations = [labels.get(d, d) for d in ev.destinations_from(view.state)]
    child = get_child(services.engine, view.child_id, principal)
    return render(
        request,
        "casework/event_form.html",
        {
            "view": view,
            "child": child,
            "event": ev.name,
            "title": event_label(ev, ev.name),
            "stage": labels.get(view.state, view.state),
            "destinations": list(dict.fromkeys(destinations)),
            "next_stages": next_stages(definition, view.state),
            "fields": fields,
            "values": values,
            "errors": errors or FormErrors(),
            "stale": stale,
            "stale_message": STALE_MESSAGE,
            # After a stale post the form is offered again, at the version now shown, only
            # if the current stage still offers the event.
            "show_form": _offered(view, ev.name),
            "occurred_on_label": OCCURRED_ON_LABEL,
        },
        status_code=status_code,
    )


@router.get("/journeys/{journey_id}/events/{event}")
def event_form(
    request: Request, journey_id: int, event: str, services: Services, session: PageSession
) -> HTMLResponse:
    """The form for one event of a journey, at the journey's current version."""
    principal = session.principal
    view = services.journeys.get(journey_id, principal)  # 404 / 403 for others
    definition, ev = _event(services, view, event)
    _refuse_unless_allowed(principal, ev)
    option = next((o for o in view.available_events if o.event == event), None)
    if option is None:
        raise HTTPException(
            status_code=409,
            detail="This action is not available at the journey's current stage.",
        )
    if not option.allowed:
        raise HTTPException(status_code=409, detail=" ".join(option.reasons))
    return _page(request, services, principal, view, definition, ev)


def _expected_version(form: FormData) -> int:
    raw = text(form, "expected_version")
    if not raw.isdigit():
        raise HTTPException(status_code=400, detail="The form is missing the journey's version.")
    return int(raw)


@router.post("/journeys/{journey_id}/events/{event}")
def record_event(
    request: Request,
    journey_id: int,
    event: str,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Record the event: state, history and deadlines change together, or nothing does."""
    principal = session.principal
    view = services.journeys.get(journey_id, principal)
    definition, ev = _event(services, view, event)
    _refuse_unless_allowed(principal, ev)

    def again(errors: FormErrors | None, status_code: int, stale: bool = False) -> HTMLResponse:
        current = services.journeys.get(journey_id, principal) if stale else view
        return _page(
            request,
            services,
            principal,
            current,
            definition,
            ev,
            form=form,
            errors=errors,
            stale=stale,
            status_code=status_code,
        )

    expected = _expected_version(form)
    if expected != view.version:
        return again(None, 409, stale=True)
    errors = FormErrors()
    occurred_on: date | None = read_date(form, OCCURRED_ON, OCCURRED_ON_LABEL, errors)
    if occurred_on is not None and occurred_on > today():
        errors.add(f"{OCCURRED_ON}-day", f"{OCCURRED_ON_LABEL} must be today or in the past")
    fields = form_fields(ev.fields, view.data)
    data = read_data(form, fields, errors)
    if errors or occurred_on is None:
        return again(errors, 422)
    try:
        after = services.journeys.fire(
            journey_id,
            event=event,
            expected_version=expected,
            occurred_on=occurred_on,
            data=data,
            principal=principal,
        )
    except StaleVersion:
        return again(None, 409, stale=True)
    except (InvalidData, GuardFailed) as exc:
        engine_errors(exc, fields, errors)
        return again(errors, 422)
    return RedirectResponse(
        f"/children/{after.child_id}?done=event-recorded#journey-{after.id}", status_code=303
    )
