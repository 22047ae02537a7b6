"""Children and the journeys started for them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.api.deps import CurrentPrincipal, Services
from app.api.params import Offset, PathId, SearchLimit, TextQuery
from app.api.render import journey_json, json_response
from app.api.responses import READ, WRITE, errors
from services import children
from services.schemas import (
    ChildCreate,
    ChildOut,
    ChildSearch,
    ChildUpdate,
    JourneyOut,
    JourneyStart,
)

router = APIRouter(prefix="/children", tags=["children"])


@router.post(
    "",
    response_model=ChildOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 409, 422),
)
def create_child(body: ChildCreate, services: Services, principal: CurrentPrincipal) -> Any:
    """Record a child in care."""
    child_id = children.create_child(services.engine, body, principal)
    return children.get_child(services.engine, child_id, principal)


@router.get("", response_model=list[ChildOut], responses=errors(401, 403, 422))
def list_children(
    services: Services,
    principal: CurrentPrincipal,
    team: TextQuery = None,
    q: Annotated[TextQuery, Query(description="Reference or name")] = None,
    limit: SearchLimit = 50,
    offset: Offset = 0,
) -> Any:
    """Children you may see, searchable by reference or name.

    A name in ``q`` ends up in proxy and server access logs with the address: prefer
    ``POST /children/search``, which takes the same search in its body.
    """
    return children.search_children(
        services.engine, principal, team=team, q=q, limit=limit, offset=offset
    )


@router.post("/search", response_model=list[ChildOut], responses=errors(400, 401, 403, 422))
def search_children(body: ChildSearch, services: Services, principal: CurrentPrincipal) -> Any:
    """Children you may see, by reference or name, with the search in the body: unlike
    ``GET /children?q=``, no child's name lands in an address, a browser's history or an
    access log on the way."""
    return children.search_children(
        services.engine,
        principal,
        team=body.team,
        q=body.q,
        limit=body.limit,
        offset=body.offset,
    )


@router.get("/{child_id}", response_model=ChildOut, responses=errors(*READ))
def get_child(child_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """One child with a summary of its journeys."""
    return children.get_child(services.engine, child_id, principal)


@router.patch("/{child_id}", response_model=ChildOut, responses=errors(*WRITE))
def update_child(
    child_id: PathId, body: ChildUpdate, services: Services, principal: CurrentPrincipal
) -> Any:
    """Change a child's details (send the ``version`` you loaded as ``expected_version``)."""
    children.update_child(services.engine, child_id, body, principal)
    return children.get_child(services.engine, child_id, principal)


@router.get("/{child_id}/journeys", response_model=list[JourneyOut], responses=errors(*READ))
def list_journeys(child_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """Every journey of a child, newest first."""
    views = services.journeys.list_for_child(child_id, principal)
    return json_response([journey_json(v) for v in views])


@router.post(
    "/{child_id}/journeys",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"model": JourneyOut}, **errors(*WRITE)},
)
def start_journey(
    child_id: PathId, body: JourneyStart, services: Services, principal: CurrentPrincipal
) -> Response:
    """Start a journey (``type`` from /journey-types) with its start date and data."""
    view = services.journeys.start(
        child_id, body.type, started_on=body.started_on, data=body.data, principal=principal
    )
    return json_response(journey_json(view), status_code=status.HTTP_201_CREATED)
