"""Deadlines across the caseload."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from app.api.deps import CurrentPrincipal, Services
from app.api.params import Limit, Offset, PathId, QueryDate, TextQuery
from app.api.responses import READ, WRITE, errors
from notifications.meetings import deadline_names
from services.deadlines import confirm_deadline, deadline_to_confirm, list_deadlines
from services.schemas import (
    DeadlineConfirmation,
    DeadlineConfirmed,
    DeadlineListItem,
    DeadlineToConfirm,
)

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


@router.get("", response_model=list[DeadlineListItem], responses=errors(401, 403, 422))
def deadlines(
    services: Services,
    principal: CurrentPrincipal,
    due_before: QueryDate | None = None,
    status: Literal["open", "met", "cancelled", "any"] = "open",
    team: TextQuery = None,
    mine: bool = False,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    """Deadlines you may see, soonest first; ``mine=true`` for those you own. Each is named
    in words (``deadline_label``): a panel pack by its meeting."""
    rows = list_deadlines(
        services.engine,
        principal,
        due_before=due_before,
        status=None if status == "any" else status,
        team=team,
        owner_id=principal.user_id if mine else None,
        limit=limit,
        offset=offset,
    )
    names = deadline_names(services.engine, [(r["id"], r["kind"], r["ref"]) for r in rows])
    return [{**r, "deadline_label": names[r["id"]]} for r in rows]


@router.get(
    "/{deadline_id}/confirmation",
    response_model=DeadlineToConfirm,
    responses=errors(*READ),
)
def deadline_waiting(deadline_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """A deadline that fell due before the child's record entered the service (an imported
    journey's back-dated one, not a breach) and waits for someone to record what happened;
    404 once recorded. The child page lists them."""
    return deadline_to_confirm(services.engine, deadline_id, principal)


@router.post(
    "/{deadline_id}/confirmation",
    response_model=DeadlineConfirmed,
    responses=errors(*WRITE),
)
def record_confirmation(
    deadline_id: PathId,
    body: DeadlineConfirmation,
    services: Services,
    principal: CurrentPrincipal,
) -> Any:
    """Record that deadline met on ``met_on`` (then judged by that day: a breach if after
    its due date) or missed (an ordinary overdue deadline from now on: a breach, escalated
    by the sweep). The child's team's social workers and managers only; 409
    ``already_confirmed`` when someone recorded it first; audited."""
    return confirm_deadline(services.engine, deadline_id, principal, met_on=body.met_on)
