"""The cohorts the panels track (issue 13 item 7): each cohort's rule, and its children on a date.

The rules live in ``services.cohorts``; these routes only translate HTTP. The same role and
team rules as for children apply: a social worker sees their team's children only, and each
read of a cohort's children is audited (``read.cohort``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict

from app.api.deps import CurrentPrincipal, Services
from app.api.params import BodyDate, PathId, QueryDate
from app.api.responses import READ, errors
from services import cohorts

router = APIRouter(tags=["cohorts"])

CohortName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,49}$", description="A cohort's name")]


class CohortOut(BaseModel):
    """A cohort: its name, title and rule in words."""

    name: str
    title: str
    rule: str


class CohortChildOut(BaseModel):
    """A child in a cohort: by reference, since when and why."""

    child_id: int
    reference: str
    since: date | None
    why: str


class CohortChildrenOut(BaseModel):
    """A cohort's children on a date."""

    name: str
    as_of: date
    children: list[CohortChildOut]


class CarerApprovalIn(BaseModel):
    """The day a connected person was approved as the child's foster carer."""

    model_config = ConfigDict(extra="forbid")

    approved_on: BodyDate


class CarerApprovalOut(BaseModel):
    """A recorded carer approval."""

    id: int
    child_id: int
    approved_on: date


@router.get("/cohorts", response_model=list[CohortOut], responses=errors(401))
def list_cohorts(principal: CurrentPrincipal) -> list[CohortOut]:
    """Every cohort the panels can track: its name (as presets name it), title and rule."""
    del principal  # any signed-in user may read the rules; they name no child
    return [CohortOut(name=c.name, title=c.title, rule=c.rule) for c in cohorts.COHORTS]


@router.get("/cohorts/{name}", response_model=CohortChildrenOut, responses=errors(*READ))
def cohort_children(
    name: CohortName,
    services: Services,
    principal: CurrentPrincipal,
    as_of: QueryDate | None = None,
) -> CohortChildrenOut:
    """The children of one cohort as of ``as_of`` (default today) that you may see, each by
    reference, with the date they came into it and why."""
    found = cohorts.cohort_children(services.engine, name, principal, as_of=as_of)
    return CohortChildrenOut(
        name=found.cohort.name,
        as_of=found.as_of,
        children=[
            CohortChildOut(child_id=c.child_id, reference=c.reference, since=c.since, why=c.why)
            for c in found.children
        ],
    )


@router.post(
    "/children/{child_id}/carer-approvals",
    response_model=CarerApprovalOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 409, 422),
)
def record_carer_approval(
    child_id: PathId, body: CarerApprovalIn, services: Services, principal: CurrentPrincipal
) -> CarerApprovalOut:
    """Record the day a connected person was approved as the child's foster carer (panel
    administrator or chair): it takes the child off ``connected_person_16_weeks`` for the
    placement it falls in. The same day twice is a 409."""
    out = cohorts.record_carer_approval(services.engine, child_id, body.approved_on, principal)
    return CarerApprovalOut(id=out.id, child_id=out.child_id, approved_on=out.approved_on)
