"""Recording a journey event from a form: its data, the date it happened, and the journey
version the page was read at (so a change made meanwhile by someone else is refused, never
overwritten).

A post is one service call (``JourneyService.record``): one write transaction checks the
access, the event, the roles, the version, the input and the journey's rules, and records
the event or comes back with the refusal and the journey as it now is. This page only reads
the form when the service asks, and words the refusals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import AppServices, Services
from app.api.params import PathId, whole_number
from app.web.child_view import event_label, next_stages
from app.web.deps import CheckedForm, PageSession
from app.web.event_forms import (
    OCCURRED_ON,
    OCCURRED_ON_LABEL,
    FormField,
    echo,
    engine_errors,
    form_fields,
    read_input,
)
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.templating import render
from services.access import Principal
from services.children import get_child
from services.clock import today
from services.journeys import JourneyView, PostedEvent
from workflow.definition import Event, JourneyDefinition
from workflow.engine import find_event
from workflow.errors import RoleNotAllowed, StaleVersion, UnknownEvent

router = APIRouter(include_in_schema=False)

STALE_MESSAGE = (
    "Someone else changed this journey while you were on this page. Nothing has been saved. "
    "Check the journey's current stage below and try again."
)


@router.get("/journeys/{journey_id}")
def journey(journey_id: PathId, services: Services, session: PageSession) -> Response:
    """A journey is shown on its child's page (notices link here by journey)."""
    view = services.journeys.get(journey_id, session.principal)
    return RedirectResponse(f"/children/{view.child_id}#journey-{view.id}", status_code=303)


def _event(services: AppServices, view: JourneyView, event: str) -> tuple[JourneyDefinition, Event]:
    """The journey's definition and its event ``event`` (the service has checked it)."""
    definition = services.registry.get(view.type, view.definition_version).definition
    return definition, find_event(definition, event)


@contextmanager
def _page_refusals() -> Iterator[None]:
    """The service's refusals of the event itself, as this page words them: an unknown
    event is a 404, roles the event does not allow a 403 naming the roles that may."""
    try:
        yield
    except UnknownEvent as exc:
        raise HTTPException(status_code=404, detail="This journey has no such action.") from exc
    except RoleNotAllowed as exc:
        roles = ", ".join(r.replace("_", " ") for r in exc.roles)
        raise HTTPException(status_code=403, detail=f"Only {roles} may do this.") from exc


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
    request: Request, journey_id: PathId, event: str, services: Services, session: PageSession
) -> HTMLResponse:
    """The form for one event of a journey, at the journey's current version."""
    principal = session.principal
    with _page_refusals():
        view = services.journeys.for_event(journey_id, event, principal)  # 404 / 403 for others
    definition, ev = _event(services, view, event)
    option = next((o for o in view.available_events if o.event == event), None)
    if option is None:
        raise HTTPException(
            status_code=409,
            detail="This action is not available at the journey's current stage.",
        )
    if not option.allowed:
        raise HTTPException(status_code=409, detail=" ".join(option.reasons))
    return _page(request, services, principal, view, definition, ev)


class _PostedForm:
    """Reads the posted form when the service asks: only then are the event's fields known
    (the journey's definition version) and the journey's data they depend on."""

    def __init__(self, form: FormData) -> None:
        self.form = form
        self.errors = FormErrors()
        self.fields: list[FormField] = []

    def __call__(self, ev: Event, journey_data: Mapping[str, Any]) -> PostedEvent:
        version = whole_number(text(self.form, "expected_version"), 0)
        if version is None:
            raise HTTPException(
                status_code=400, detail="The form is missing the journey's version."
            )
        occurred_on = read_date(self.form, OCCURRED_ON, OCCURRED_ON_LABEL, self.errors)
        self.fields = form_fields(ev.fields, journey_data)
        data = read_input(self.form, self.fields, self.errors)
        return PostedEvent(version, occurred_on, data, complete=not self.errors)


@router.post("/journeys/{journey_id}/events/{event}")
def record_event(
    request: Request,
    journey_id: PathId,
    event: str,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Record the event: state, history and deadlines change together, or nothing does.

    One service call checks and records it in one transaction; a refusal comes back with
    the journey as it is now, and the form is shown again with what was typed.
    """
    principal = session.principal
    posted = _PostedForm(form)
    with _page_refusals():
        attempt = services.journeys.record(
            journey_id, event=event, principal=principal, read=posted
        )
    view = attempt.view
    if attempt.refusal is None:
        return RedirectResponse(
            f"/children/{view.child_id}?done=event-recorded#journey-{view.id}", status_code=303
        )
    definition, ev = _event(services, view, event)
    if isinstance(attempt.refusal, StaleVersion):
        # What was typed is shown again, at the version and stage the journey now has.
        return _page(
            request,
            services,
            principal,
            view,
            definition,
            ev,
            form=form,
            stale=True,
            status_code=409,
        )
    errors = posted.errors
    engine_errors(attempt.refusal, posted.fields, errors, date_label=OCCURRED_ON_LABEL)
    return _page(
        request,
        services,
        principal,
        view,
        definition,
        ev,
        form=form,
        errors=errors,
        status_code=422,
    )
