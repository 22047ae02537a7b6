"""The care record's import: the SSDA903 return uploaded by a system administrator."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, UploadFile, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal, Services, require_roles
from app.api.params import Page, PathId, QueryDate
from app.api.responses import READ, WRITE, errors
from services.allocation import allocate_child
from services.care_record import lists
from services.care_record.importer import import_return
from services.care_record.queue import get_queued, queue_import
from services.care_record.view import Coded, child_record
from states.roles import SYSADMIN

router = APIRouter(prefix="/care-record", tags=["care record"])
child_router = APIRouter(prefix="/children", tags=["care record"])


class CodeOut(BaseModel):
    """A code of the SSDA903 return and its words."""

    code: str = Field(description="The return's code, e.g. C1")
    label: str = Field(description="What it means, e.g. Interim care order")


class EpisodeOut(BaseModel):
    """One episode of care; ``end`` is null while it is open."""

    start: date
    end: date | None
    legal_status: CodeOut
    placement: CodeOut
    reason_new: CodeOut
    reason_ceased: CodeOut | None
    started_care: bool = Field(description="The first episode of a period of care")
    moved: bool = Field(description="The child moved placement when this episode began")
    legal_status_changed: bool
    left_care: bool = Field(description="The child left care when this episode ended")


class ReviewOut(BaseModel):
    """A looked-after review and how the child took part."""

    held_on: date
    participation: CodeOut | None


class AdoptionDecisionOut(BaseModel):
    """A decision that the child should be placed for adoption, and its reversal if any."""

    decided_on: date
    ceased_on: date | None
    reason_ceased: CodeOut | None


class AdoptionMatchOut(BaseModel):
    """Adoption matching: the date of the decision and the date matched."""

    decided_on: date
    matched_on: date


class AdoptionDecisionsOut(BaseModel):
    """The child's adoption decisions: should be placed for adoption, and matching."""

    should_be_placed: list[AdoptionDecisionOut]
    matching: list[AdoptionMatchOut]


class CareRecordOut(BaseModel):
    """A child's care record from the SSDA903 return, withdrawn episodes left out."""

    child_id: int
    return_child_id: str | None = Field(description="The return's child id; null: no record")
    current_legal_status: CodeOut | None
    current_placement: CodeOut | None
    episodes: list[EpisodeOut]
    withdrawn_episodes: int = Field(description="Episodes a newer extract withdrew (not listed)")
    reviews: list[ReviewOut]
    adoption_decisions: AdoptionDecisionsOut


def _code(value: Coded | None) -> dict[str, str] | None:
    return None if value is None else asdict(value)


@child_router.get("/{child_id}/record", response_model=CareRecordOut, responses=errors(*READ))
def get_care_record(child_id: PathId, services: Services, principal: CurrentPrincipal) -> Any:
    """The child's care record: episodes (legal status, placement, reasons, each code with
    its label), reviews and adoption decisions, oldest first. The same team and role rules
    as the child; the read is audited."""
    view = child_record(services.engine, child_id, principal)
    return {
        "child_id": view.child_id,
        "return_child_id": view.return_child_id,
        "current_legal_status": _code(view.current_legal_status),
        "current_placement": _code(view.current_placement),
        "episodes": [asdict(e) for e in view.episodes],
        "withdrawn_episodes": view.withdrawn_episodes,
        "reviews": [asdict(r) for r in view.reviews],
        "adoption_decisions": {
            "should_be_placed": [asdict(d) for d in view.adoption_decisions],
            "matching": [asdict(m) for m in view.adoption_matches],
        },
    }


class AllocationIn(BaseModel):
    """The team and social worker an unallocated child is given."""

    model_config = ConfigDict(extra="forbid")
    team: str = Field(min_length=1, max_length=100, description="A team's name")
    social_worker_id: int = Field(ge=1, le=2_147_483_647, description="A user in that team")
    expected_version: int = Field(ge=0, le=2_147_483_647, description="The child's version")


class AllocationOut(BaseModel):
    """The child as allocated."""

    child_id: int
    team: str
    social_worker_id: int
    version: int


@child_router.post("/{child_id}/allocation", response_model=AllocationOut, responses=errors(*WRITE))
def allocate(
    child_id: PathId, body: AllocationIn, services: Services, principal: CurrentPrincipal
) -> Any:
    """Allocate a child the import left in no team to a team and a social worker of it
    (service managers any team, team managers their own), as the /children/{id}/allocate
    page does: version-checked (409 when stale or already allocated), audited."""
    allocate_child(
        services.engine,
        principal,
        child_id,
        team=body.team,
        social_worker_id=body.social_worker_id,
        expected_version=body.expected_version,
    )
    return {
        "child_id": child_id,
        "team": body.team,
        "social_worker_id": body.social_worker_id,
        "version": body.expected_version + 1,
    }


_MAX_FILES = 20


def _safe_name(name: str | None, number: int) -> str:
    """The upload's own file name without any folder (a browser may send a path)."""
    base = Path((name or "").replace("\\", "/")).name.strip()
    return base or f"upload-{number}.csv"


class ImportQueuedOut(BaseModel):
    """The answer to an import: queued, and where to read its status and report."""

    queued_id: int
    status: str = Field(description="queued")
    link: str = Field(description="The queued import's status and report (also Location)")


@router.post(
    "/imports",
    responses={
        200: {
            "description": "The dry run's report",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        202: {"description": "Queued", "model": ImportQueuedOut},
        **errors(400, 401, 403, 409, 422),
    },
    status_code=status.HTTP_200_OK,
)
def import_ssda903(
    services: Services,
    principal: CurrentPrincipal,
    files: list[UploadFile],
    la: Annotated[str | None, Form(max_length=100)] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Import the uploaded SSDA903 CSV tables (system administrators).

    The import runs out of the request: the files (their bytes and SHA-256) are recorded as
    a queued import and the answer is 202 with its link (``Location``), where its status
    (queued, running, done, failed) and, once done, its report are read; the scheduler runs
    queued imports one at a time. With ``dry_run`` the report (200) says what the import
    would do and nothing is written: that stays in the request. The tables are recognised
    by their columns, so the files may be named anything. A regional file of several
    authorities without ``la`` is refused (422 on a dry run; the queued import's error
    otherwise) naming them.
    """
    require_roles(principal, SYSADMIN)
    if not files or len(files) > _MAX_FILES:
        raise HTTPException(
            status_code=422,
            detail=f"Upload between 1 and {_MAX_FILES} CSV files.",
        )
    if not dry_run:
        uploads = [(upload.filename or "", upload.file.read()) for upload in files]
        queue_id = queue_import(services.engine, principal, uploads, la=la or None)
        link = f"/api/v1/care-record/imports/queue/{queue_id}"
        return JSONResponse(
            {"queued_id": queue_id, "status": "queued", "link": link},
            status_code=status.HTTP_202_ACCEPTED,
            headers={"Location": link},
        )
    folder = Path(tempfile.mkdtemp(prefix="ssda903-"))
    try:
        paths: list[str] = []
        names: dict[str, str] = {}
        for number, upload in enumerate(files, start=1):
            name = _safe_name(upload.filename, number)
            # A folder per file: two uploads may share a name (two years' header.csv).
            path = folder / str(number) / name
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(str(path))
            names[str(path)] = name
        report = import_return(
            services.engine,
            paths,
            la=la or None,
            actor=principal.user_id,
            dry_run=True,
            names=names,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return JSONResponse(jsonable_encoder(report.as_dict()))


class QueuedImportOut(BaseModel):
    """A queued import: its status and, once run, its report or error."""

    id: int
    status: str = Field(description="queued, running, done or failed")
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    files: list[dict[str, Any]] = Field(description="Each file's name and SHA-256")
    import_id: int | None
    report: dict[str, Any] | None = Field(description="The import's report, once done")
    error: str | None = Field(description="Why it failed, if it did")


@router.get(
    "/imports/queue/{queue_id}",
    response_model=QueuedImportOut,
    responses=errors(401, 403, 404, 422),
)
def queued_import(
    services: Services, principal: CurrentPrincipal, queue_id: PathId
) -> dict[str, Any]:
    """A queued import's status; its report once the scheduler has run it (system
    administrators)."""
    require_roles(principal, SYSADMIN)
    return get_queued(services.engine, principal, queue_id)


class ToConfirmOut(BaseModel):
    """A child on the "to confirm" list: why, the fact that put the child there, since when."""

    child_id: int
    reference: str
    reason: str = Field(description="The reason's name, e.g. ico_without_proceedings")
    fact: str = Field(description="The fact in words, and what to record")
    since: date
    journey_id: int | None = Field(
        default=None, description="The journey to act on, where the row names one"
    )
    deadlines: int = Field(
        default=0,
        description="For deadlines from before the service: how many wait (each recorded "
        "at /api/v1/deadlines/{id}/confirmation)",
    )


class ToConfirmListOut(BaseModel):
    """One page of the "to confirm" list on a date."""

    as_of: date
    total: int = Field(description="Rows on the list in all (every page): a child once per fact")
    page: int
    page_size: int
    children: list[ToConfirmOut]


class DisagreementOut(BaseModel):
    """A child whose care record and a journey a person moved disagree: both sides."""

    child_id: int
    reference: str
    reason: str = Field(description="The reason's name, e.g. care_ended_planning_open")
    record: str = Field(description="What the latest imported record says")
    journey: str = Field(description="Where the journey stands")
    journey_id: int
    journey_type: str
    since: date = Field(description="The day the record's fact began")


class DisagreementListOut(BaseModel):
    """One page of the "record and journeys disagree" list on a date."""

    as_of: date
    total: int
    page: int
    page_size: int
    children: list[DisagreementOut]


class NothingToConfirmIn(BaseModel):
    """That there is nothing to confirm for one reason, and why."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=50, description="The reason the child is on the list")
    note: str = Field(min_length=1, max_length=lists.NOTE_MAX, description="Why not")


class NothingToConfirmOut(BaseModel):
    """A recorded "nothing to confirm"."""

    id: int
    child_id: int
    reason: str
    since: date
    version: int


@router.get("/to-confirm", response_model=ToConfirmListOut, responses=errors(401, 403, 422))
def to_confirm(
    services: Services,
    principal: CurrentPrincipal,
    as_of: QueryDate | None = None,
    page: Page = 1,
) -> Any:
    """Children for whom the return cannot say enough (an interim care order with no care
    proceedings journey; adopted on the record with the adoption journey still open; deadlines from
    before the service, one row per child), each with the fact that put them
    there: a social worker sees
    their team's, a service manager the authority's. Paged; the read is audited."""
    found = lists.to_confirm(services.engine, principal, as_of=as_of, page=page)
    return _page_of(
        found,
        [
            {
                "child_id": r.child_id,
                "reference": r.reference,
                "reason": r.reason,
                "fact": r.fact,
                "since": r.since,
                "journey_id": r.journey_id,
                "deadlines": r.deadlines,
            }
            for r in found.rows
        ],
    )


@router.post(
    "/to-confirm/{child_id}/nothing-to-confirm",
    response_model=NothingToConfirmOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 409, 422),
)
def nothing_to_confirm(
    child_id: PathId, body: NothingToConfirmIn, services: Services, principal: CurrentPrincipal
) -> Any:
    """Record that there is nothing to confirm for the child on the list for ``reason``
    (a social worker or team manager of the child's team, a service manager), with why: the
    child leaves the list for that fact. 404 when the child is not on it; 409 when done."""
    out = lists.dismiss(services.engine, principal, child_id, reason=body.reason, note=body.note)
    return asdict(out)


@router.get("/disagreements", response_model=DisagreementListOut, responses=errors(401, 403, 422))
def disagreements(
    services: Services,
    principal: CurrentPrincipal,
    as_of: QueryDate | None = None,
    page: Page = 1,
) -> Any:
    """Children whose latest imported care record and a journey a person moved disagree
    (legal status, care ended, placement with parents ended), both shown. The same team
    rules as for children; paged; the read is audited."""
    found = lists.disagreements(services.engine, principal, as_of=as_of, page=page)
    return _page_of(
        found,
        [
            {
                "child_id": r.child_id,
                "reference": r.reference,
                "reason": r.reason,
                "record": r.record,
                "journey": r.journey,
                "journey_id": r.journey_id,
                "journey_type": r.journey_type,
                "since": r.since,
            }
            for r in found.rows
        ],
    )


def _page_of(found: Any, children: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a care-record work list, as both lists' endpoints answer it."""
    return {
        "as_of": found.as_of,
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "children": children,
    }
