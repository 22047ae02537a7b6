"""Deadlines across the caseload."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.api.deps import CurrentPrincipal, Services
from services.deadlines import list_deadlines
from services.schemas import DeadlineListItem

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


@router.get("", response_model=list[DeadlineListItem])
def deadlines(
    services: Services,
    principal: CurrentPrincipal,
    due_before: date | None = None,
    status: Literal["open", "met", "cancelled", "any"] = "open",
    team: str | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
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
