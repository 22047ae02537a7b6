"""Journeys: read one, fire an event, read its history; and the journey types."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.api.deps import CurrentPrincipal, Services, call_db
from app.api.params import PathId
from app.api.render import journey_json, json_response
from app.api.responses import READ, WRITE, errors
from services.clock import today
from services.schemas import EventIn, HistoryEntry, JourneyOut
from services.users import user_names
from workflow import fields
from workflow.diagram import mermaid

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
    view = await services.journeys.fire_async(
        journey_id,
        event=body.event,
        expected_version=body.expected_version,
        occurred_on=body.occurred_on or today(),
        data=body.data,
        principal=principal,
    )
    return json_response(journey_json(view))


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
