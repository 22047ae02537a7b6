"""HTTP API of notifications: the inbox, escalations and the breach register (/api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal, Services
from app.api.params import Limit, Offset, PathId, QueryDate, TextQuery
from app.api.render import json_response
from app.api.responses import (
    WRITE,
    Acknowledged,
    BreachOut,
    EscalationOut,
    NotificationOut,
    errors,
)
from notifications import service
from services.clock import today

notifications_router = APIRouter(prefix="/notifications", tags=["notifications"])
escalations_router = APIRouter(prefix="/escalations", tags=["escalations"])
breaches_router = APIRouter(prefix="/breaches", tags=["escalations"])


class Acknowledgement(BaseModel):
    """What the acknowledger says was done or will be done."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=2000)


class ReadReceipt(BaseModel):
    """A notification marked read."""

    id: int
    read_at: datetime


@notifications_router.get("", response_model=list[NotificationOut], responses=errors(401, 403, 422))
def my_notifications(
    services: Services,
    principal: CurrentPrincipal,
    unread: bool = False,
    group: Annotated[
        Literal["none", "deadline"],
        Query(
            description=(
                "`none` (the default): every notice, newest first. `deadline`: the inbox "
                "page's grouping, one line per deadline with its latest step (the step that "
                "fell due last), `earlier` notices of it before that and `unread_notices` "
                "of it unread; an event notice (no deadline) is a line of its own. With "
                "`unread=true` a grouped line is kept while any of its notices is unread. "
                "`limit` and `offset` then count lines."
            )
        ),
    ] = "none",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Your in-app notifications (reminders, escalations and event notices), newest first;
    with `group=deadline`, one line per deadline as the inbox page shows them."""
    if group == "deadline":
        lines = service.grouped_inbox(
            services.engine,
            principal,
            services.settings.base_url,
            unread_only=unread,
            limit=limit,
            offset=offset,
        )
        # The page's ``unread`` is a count; here it is named apart from the ``unread`` filter.
        for line in lines:
            line["unread_notices"] = line.pop("unread")
        return json_response(lines)
    return json_response(
        service.inbox(
            services.engine,
            principal,
            services.settings.base_url,
            unread_only=unread,
            limit=limit,
            offset=offset,
        )
    )


@notifications_router.post(
    "/{notice_id}/read", response_model=ReadReceipt, responses=errors(401, 403, 404, 422)
)
def read_notification(notice_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """Mark one of your notifications read."""
    return {"id": notice_id, "read_at": service.mark_read(services.engine, notice_id, principal)}


@escalations_router.get("", response_model=list[EscalationOut], responses=errors(401, 403, 422))
def escalations(
    services: Services,
    principal: CurrentPrincipal,
    status: Literal["open", "acknowledged", "resolved", "all"] = "open",
    limit: Limit = 200,
    offset: Offset = 0,
    as_of: QueryDate | None = None,
) -> Response:
    """Escalations for managers: a team manager sees their team's, others see all.
    ``working_days_overdue`` counts to ``as_of`` (default today): give the date a sweep was
    run for (``permanence remind --as-of``) to read its escalations as of that day."""
    return json_response(
        service.list_escalations(
            services.engine,
            principal,
            status=status,
            as_of=as_of or today(),
            limit=limit,
            offset=offset,
        )
    )


@escalations_router.post(
    "/{notice_id}/acknowledge",
    response_model=EscalationOut | Acknowledged,
    responses=errors(*WRITE),
)
def acknowledge(
    notice_id: PathId, body: Acknowledgement, services: Services, principal: CurrentPrincipal
) -> Response:
    """Acknowledge an escalation with a comment (its recipient or a more senior manager)."""
    service.acknowledge(services.engine, notice_id, principal, body.comment)
    found = service.list_escalations(
        services.engine, principal, status="all", as_of=today(), notice_id=notice_id
    )
    return json_response(found[0] if found else {"id": notice_id, "status": "acknowledged"})


@breaches_router.get("", response_model=list[BreachOut], responses=errors(401, 403, 422))
def breach_register(
    services: Services,
    principal: CurrentPrincipal,
    as_of: QueryDate | None = None,
    team: TextQuery = None,
    status: Literal["open", "met_late", "all"] = "all",
    limit: Limit = 500,
    offset: Offset = 0,
) -> Response:
    """Every missed deadline: days late, met late or still open, escalations and answers."""
    return json_response(
        service.breaches(
            services.engine,
            principal,
            as_of=as_of or today(),
            team=team,
            status=status,
            limit=limit,
            offset=offset,
        )
    )


ROUTERS = (notifications_router, escalations_router, breaches_router)
