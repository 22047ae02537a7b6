"""Journeys: read one, fire an event, read its history; and the journey types."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import ValidationError
from starlette.types import Scope

from app.api.deps import AppServices, CurrentPrincipal, Services, call_db, principal_for_token
from app.api.params import MAX_INT, PathId
from app.api.render import journey_json, json_response
from app.api.responses import READ, WRITE, errors
from services.access import Principal
from services.clock import today
from services.schemas import EventIn, HistoryEntry, JourneyOut
from services.users import user_names
from workflow import fields
from workflow.diagram import mermaid
from workflow.errors import EngineError

router = APIRouter(tags=["journeys"])


@router.get("/journeys/{journey_id}", responses={200: {"model": JourneyOut}, **errors(*READ)})
async def get_journey(
    journey_id: PathId, services: Services, principal: CurrentPrincipal
) -> Response:
    """A journey: state, version, the events available now (and why not), deadlines."""
    view = await call_db(services, services.journeys.get, journey_id, principal)
    return json_response(journey_json(view))


@router.post(
    "/journeys/{journey_id}/events", responses={200: {"model": JourneyOut}, **errors(*WRITE)}
)
async def fire_event(
    journey_id: PathId, body: EventIn, services: Services, principal: CurrentPrincipal
) -> Response:
    """Record an event. ``expected_version`` must be the version you read, or 409."""
    return await _fire(services, journey_id, body, principal)


async def _fire(
    services: AppServices, journey_id: int, body: EventIn, principal: Principal
) -> Response:
    view = await services.journeys.fire_async(
        journey_id,
        event=body.event,
        expected_version=body.expected_version,
        occurred_on=body.occurred_on or today(),
        data=body.data,
        principal=principal,
    )
    return json_response(journey_json(view))


# The event route's path under the API's prefix, with an id that ``PathId`` takes as it is
# written (no sign, no leading zero, no more digits than the largest id has).
_EVENTS_PATH = re.compile(r"/api/v1/journeys/([1-9][0-9]{0,9})/events")


async def fire_event_shortcut(scope: Scope, body: bytes) -> Response | None:
    """The answer ``fire_event`` gives to ``POST /api/v1/journeys/{id}/events``, without
    the router and FastAPI's per-request work (route matching through the included
    routers, the dependency solver, the request and response wrappers: a fifth of a
    transition's server time in py-spy), or None when this request is not one it answers.

    It answers only what the route would take as it stands: a JSON body that parses into
    ``EventIn``, a path id in range, a bearer token naming a signed-in user; anything else
    (a 401, a 422 and their exact bodies) is left to the route, which reads the same
    request again. The same functions do the work: ``principal_for_token`` (the route's
    ``get_principal``), ``_fire`` and, for a refusal, the app's own ``EngineError``
    handler. ``app.request_gate`` calls it with the body it has already read (and checked
    for a NUL), inside the unhandled-error answer, so whatever else fails is answered as
    before.
    """
    if scope["method"] != "POST" or scope.get("root_path"):
        return None
    match = _EVENTS_PATH.fullmatch(scope["path"])
    if match is None or int(match[1]) > MAX_INT:
        return None
    app = scope["app"]
    if app.dependency_overrides or _content_type(scope) != b"application/json":
        return None
    token = _bearer_token(scope)
    if not token:
        return None
    services: AppServices = app.state.services
    try:
        principal = await principal_for_token(services, token)
        # As Starlette's ``Request.json`` reads it, then as FastAPI validates a body.
        event = EventIn.model_validate(json.loads(body))
    except (HTTPException, ValueError, ValidationError):
        return None
    try:
        return await _fire(services, int(match[1]), event, principal)
    except EngineError as exc:
        handler = next(
            app.exception_handlers[kind]
            for kind in type(exc).__mro__
            if kind in app.exception_handlers
        )
        response: Response = await handler(Request(scope), exc)
        return response


def _content_type(scope: Scope) -> bytes:
    """The request's media type, as FastAPI would read it only when it is exactly JSON."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            return bytes(value)
    return b""


def _bearer_token(scope: Scope) -> str | None:
    """The token of the first ``Authorization`` header, read as ``OAuth2PasswordBearer``
    reads it (scheme ``bearer`` in any case, the rest stripped)."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


@router.get(
    "/journeys/{journey_id}/history",
    response_model=list[HistoryEntry],
    responses=errors(*READ),
)
def history(journey_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """The journey's events, oldest first, with who recorded them and when."""
    entries = services.journeys.history(journey_id, principal)
    names = user_names(services.engine, (e["actor_id"] for e in entries))
    return [
        {**e, "actor": names[e["actor_id"]].username if e["actor_id"] in names else ""}
        for e in entries
    ]


@router.get("/journey-types", responses=errors(401))
def journey_types(services: Services, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Each journey type: states, events (sources, destination, roles, data) and a diagram."""
    del principal  # any signed-in user may read the definitions
    out = []
    for journey_type in services.registry.types():
        jm = services.registry.current(journey_type)
        assert jm is not None
        d = jm.definition
        out.append(
            {
                "type": d.type,
                "version": d.version,
                "title": d.title,
                "description": d.description,
                "initial": d.initial,
                "states": [
                    {"name": s.name, "label": s.label, "final": s.final, "secured": s.secured}
                    for s in d.states
                ],
                "start": {
                    "roles": list(d.start.roles),
                    "fields": [fields.describe(f) for f in d.start.fields],
                },
                "events": [
                    {
                        "event": e.name,
                        "label": e.label,
                        "sources": list(d.sources_of(e)),
                        "destination": e.destinations[0] if len(set(e.destinations)) == 1 else None,
                        "destinations": sorted(set(e.destinations)),
                        "internal": e.dest is None,
                        "roles": list(e.roles),
                        "fields": [fields.describe(f) for f in e.fields],
                    }
                    for e in d.events
                ],
                "mermaid": mermaid(d),
            }
        )
    return out
