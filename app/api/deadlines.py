"""Deadlines across the caseload."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from app.api.deps import CurrentPrincipal, Services
from app.api.params import Limit, Offset, QueryDate, TextQuery
from app.api.responses import errors
from services.deadlines import list_deadlines
from services.schemas import DeadlineListItem

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
    """Deadlines you may see, soonest first; ``mine=true`` for those you own."""
    return list_deadlines(
        services.engine,
        principal,
        due_before=due_before,
        status=None if status == "any" else status,
        team=team,
        owner_id=principal.user_id if mine else None,
        limit=limit,
        offset=offset,
    )
