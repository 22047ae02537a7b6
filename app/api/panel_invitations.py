"""REST API of a published agenda's invitations, under ``/api/v1/panel`` (issue 14 item 2):
publishing (the panel administrator), the invitations sent, a member's apologies and
representative, who holds each seat, and a child's IRO and supervising social worker.
The service checks the roles; the routes translate HTTP."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal
from app.api.panel import Panel, answer
from app.api.params import PathId
from app.api.responses import CHANGE, READ, WRITE, errors
from panels.results import Invitation, InvitationDetail, Publication
from services.schemas import RecordId

router = APIRouter(prefix="/panel", tags=["panel"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApologiesIn(_In):
    note: str = Field(default="", max_length=500)


class RepresentativeIn(_In):
    representative: str = Field(min_length=1, max_length=200)


class SeatIn(_In):
    member_key: str = Field(min_length=1, max_length=50)
    user_id: RecordId


class InviteesIn(_In):
    iro_id: RecordId | None = None
    supervising_social_worker_id: RecordId | None = None


class InviteesOut(BaseModel):
    iro_id: int | None
    supervising_social_worker_id: int | None


@router.post(
    "/meetings/{meeting_id}/publish", response_model=Publication, responses=errors(*CHANGE)
)
def publish(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Publish the built agenda: each item's people are invited to its slot and the members
    to the meeting (inbox and email with a calendar invitation); publishing again tells only
    those whose slot changed. The panel administrator only."""
    return answer(panel.publish_agenda(meeting_id, principal))


@router.get(
    "/meetings/{meeting_id}/invitations",
    response_model=list[Invitation],
    responses=errors(*READ),
)
def invitations(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Every invitation the meeting's publishing sent, with its uid and sequence."""
    return answer(panel.meeting_invitations(meeting_id, principal))


@router.get(
    "/invitations/{invitation_id}", response_model=InvitationDetail, responses=errors(*READ)
)
def invitation(invitation_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """A member's invitation to a meeting (the member's own, or the administrator's view)."""
    return answer(panel.invitation_detail(invitation_id, principal))


@router.post(
    "/invitations/{invitation_id}/apologies",
    response_model=InvitationDetail,
    responses=errors(*WRITE),
)
def apologies(
    invitation_id: PathId, body: ApologiesIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """The invited member sends apologies (recorded on the attendance) and is asked for a
    representative."""
    return answer(panel.send_apologies(invitation_id, principal, note=body.note))


@router.post(
    "/invitations/{invitation_id}/representative",
    response_model=InvitationDetail,
    responses=errors(*WRITE),
)
def representative(
    invitation_id: PathId, body: RepresentativeIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """The member who sent apologies names who represents the seat."""
    return answer(
        panel.name_representative(invitation_id, principal, representative=body.representative)
    )


@router.post("/seats", response_model=dict[str, int], responses=errors(*WRITE))
def seat(body: SeatIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Name who holds a seat of the panel (the administrator); answers every seat named."""
    return answer(panel.assign_seat(principal, member_key=body.member_key, user_id=body.user_id))


@router.post("/children/{child_id}/invitees", response_model=InviteesOut, responses=errors(*WRITE))
def invitees(
    child_id: PathId, body: InviteesIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Record the child's IRO and supervising social worker, whom a published agenda invites
    to the child's slot (the child's caseworkers or the administrator)."""
    return answer(
        panel.record_invitees(
            child_id,
            principal,
            iro_id=body.iro_id,
            supervising_social_worker_id=body.supervising_social_worker_id,
        )
    )
