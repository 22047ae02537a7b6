"""REST API of the panel, under ``/api/v1/panel``. Every route authenticates; the service
checks the panel's named rules (``panels.permissions``: panel_admin schedules, builds
agendas and records minutes; the chair records decisions, reorders and pins; social
workers refer their own team's journeys). A body is the service's result
(``panels.results``) as ``to_json`` makes it; the routes' response models document them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal, Services
from app.api.params import (
    DATE_RANGE,
    WHEN,
    BodyDate,
    PathId,
    QueryDate,
    TextQuery,
    Year,
)
from app.api.render import json_response
from app.api.responses import (
    CHANGE,
    READ,
    WRITE,
    AnnualReportOut,
    FundingQuestion,
    PanelConfigOut,
    ThemesOut,
    errors,
)
from panels import exports, record
from panels.config import PanelConfigError, load_panel, preset_names
from panels.funding import QUESTIONS
from panels.results import (
    Action,
    Agenda,
    ChildRecordEntry,
    Circulation,
    Decision,
    DriftEscalation,
    ListedAction,
    Meeting,
    MeetingDetail,
    Minutes,
    MinutesApproval,
    MinutesRecord,
    MinutesReopened,
    RecordEntry,
    Referral,
    TrackerRow,
    to_json,
)
from panels.service import TRACKING_OUTCOMES, PanelService
from services.schemas import RecordId, Version
from workflow.errors import EngineError

router = APIRouter(prefix="/panel", tags=["panel"])


def get_panel(request: Request, services: Services) -> PanelService:
    """The process's panel service, built on first use from ``PERMANENCE_PANEL``."""
    panel: PanelService | None = getattr(request.app.state, "panel", None)
    if panel is None:
        try:
            config = load_panel(services.settings.panel)
        except PanelConfigError as exc:
            raise PanelMisconfigured(str(exc), problems=exc.problems) from None
        panel = PanelService(
            services.engine,
            services.registry,
            config,
            services.settings.policy(),
            email=services.settings.email_enabled,
            record_webhook=services.settings.record_webhook_enabled,
        )
        request.app.state.panel = panel
    return panel


Panel = Annotated[PanelService, Depends(get_panel)]


def answer(result: Any, status_code: int = 200) -> Response:
    """A panel result as the API's JSON body (``panels.results.to_json``)."""
    return json_response(to_json(result), status_code=status_code)


class PanelMisconfigured(EngineError):
    """PERMANENCE_PANEL names no valid configuration (run ``permanence panel check``)."""

    status_code = 500
    code = "panel_misconfigured"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateIn(_In):
    start: BodyDate | None = None
    months: int | None = Field(default=None, ge=1, le=24)


class MoveIn(_In):
    new_date: BodyDate
    reason: str = Field(min_length=1, max_length=500)
    # A past date needs this (422 past_date_unconfirmed otherwise); the reason is audited.
    confirm_past: bool = False


class RatifyIn(_In):
    meeting_id: int = Field(ge=1)  # the later, quorate meeting ratifying it
    ratified: bool
    reason: str = Field(default="", max_length=500)  # required when not ratified


class CancelIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class Seat(_In):
    member_key: str
    status: Literal["present", "apologies", "absent"]
    person: str = Field(default="", max_length=200)
    user_id: RecordId | None = None
    representative: str | None = Field(default=None, max_length=200)


class AttendanceIn(_In):
    entries: list[Seat]


class ReferIn(_In):
    journey_id: RecordId
    decision_type: str
    meeting_id: RecordId | None = None
    referred_on: BodyDate | None = None
    documents: list[str] = Field(default_factory=list)


class PackIn(_In):
    checklist: dict[str, str]
    documents: list[str] | None = None
    funding: dict[str, Any] | None = None
    submitted_on: BodyDate | None = None


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class BuildIn(_In):
    as_of: BodyDate | None = None


class OrderIn(_In):
    part: str
    item_ids: list[RecordId]


class PinIn(_In):
    pinned: bool = True


class ActionIn(_In):
    description: str = Field(min_length=1, max_length=1000)
    due_on: BodyDate
    owner_id: RecordId | None = None
    owner_role: str = "social_worker"


class DecisionIn(_In):
    outcome: str
    meets_needs: Literal["will", "will_not"] | None = None
    resources_child: str = Field(default="", max_length=2000)
    resources_carers: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)
    event_data: dict[str, Any] = Field(default_factory=dict)
    expected_version: Version | None = None
    review_weeks: int | None = Field(default=None, ge=1, le=104)
    exception_reason: str = ""
    actions: list[ActionIn] = Field(default_factory=list)


class EscalateIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class DoneIn(_In):
    done_on: BodyDate | None = None


class ApproveIn(_In):
    approved_on: BodyDate | None = None


class ReopenIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/config", response_model=PanelConfigOut, responses=errors(401))
def config(panel: Panel, principal: CurrentPrincipal) -> Response:
    """The running panel's configuration (schedule, parts, members, decision types...)."""
    del principal
    data = panel.config.model_dump(mode="json")
    data["tracking_outcomes"] = TRACKING_OUTCOMES
    return json_response(data)


@router.get("/presets", response_model=list[str], responses=errors(401))
def presets(principal: CurrentPrincipal) -> list[str]:
    """The presets shipped with the service, one per Terms of Reference."""
    del principal
    return preset_names()


@router.get("/funding-form", response_model=list[FundingQuestion], responses=errors(401))
def funding_form(principal: CurrentPrincipal) -> list[dict[str, str]]:
    """The Additional Funding Request form's questions."""
    del principal
    return [{"key": k, "question": q} for k, q in QUESTIONS]


@router.post(
    "/meetings/generate", response_model=list[Meeting], responses=errors(400, 401, 403, 422)
)
def generate(body: GenerateIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Plan the meetings of the forward planner (idempotent: existing meetings stay)."""
    return answer(panel.generate(principal, body.start, body.months))


@router.get("/meetings", response_model=list[Meeting], responses=errors(401, 403, 422))
def meetings(
    panel: Panel,
    principal: CurrentPrincipal,
    start: QueryDate | None = None,
    end: QueryDate | None = None,
) -> Response:
    """The forward planner."""
    return answer(panel.list_meetings(principal, start, end))


@router.get("/meetings/{meeting_id}", response_model=MeetingDetail, responses=errors(*READ))
def meeting(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """A meeting with attendance, agenda and its deadlines."""
    return answer(panel.get_meeting(meeting_id, principal))


@router.post("/meetings/{meeting_id}/move", response_model=MeetingDetail, responses=errors(*WRITE))
def move(meeting_id: PathId, body: MoveIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Move a meeting; its pack deadlines move with it."""
    return answer(
        panel.move_meeting(
            meeting_id,
            principal,
            new_date=body.new_date,
            reason=body.reason,
            confirm_past=body.confirm_past,
        )
    )


@router.post(
    "/meetings/{meeting_id}/cancel", response_model=MeetingDetail, responses=errors(*WRITE)
)
def cancel(
    meeting_id: PathId, body: CancelIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Cancel a meeting; its referrals go to the next one."""
    return answer(panel.cancel_meeting(meeting_id, principal, reason=body.reason))


@router.post(
    "/meetings/{meeting_id}/attendance", response_model=MeetingDetail, responses=errors(*WRITE)
)
def attendance(
    meeting_id: PathId, body: AttendanceIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Record who attended, apologies and representatives."""
    entries = [e.model_dump() for e in body.entries]
    return answer(panel.record_attendance(meeting_id, principal, entries))


@router.post("/referrals", status_code=201, response_model=Referral, responses=errors(*WRITE))
def refer(body: ReferIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Refer a journey to a meeting for a decision."""
    out = panel.refer(
        principal,
        journey_id=body.journey_id,
        decision_type=body.decision_type,
        meeting_id=body.meeting_id,
        referred_on=body.referred_on,
        documents=body.documents,
    )
    return answer(out, status_code=201)


@router.get("/referrals/{referral_id}", response_model=Referral, responses=errors(*READ))
def referral(referral_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """A referral, its pack and why it is (not) listable."""
    return answer(panel.get_referral(referral_id, principal))


@router.post("/referrals/{referral_id}/pack", response_model=Referral, responses=errors(*WRITE))
def pack(referral_id: PathId, body: PackIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Submit the pack: checklist answers, documents and (where asked) the funding form."""
    out = panel.submit_pack(
        principal,
        referral_id,
        checklist=body.checklist,
        documents=body.documents,
        funding=body.funding,
        submitted_on=body.submitted_on,
    )
    return answer(out)


@router.post("/referrals/{referral_id}/withdraw", response_model=Referral, responses=errors(*WRITE))
def withdraw(
    referral_id: PathId, body: WithdrawIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Withdraw a referral."""
    return answer(panel.withdraw_referral(principal, referral_id, body.reason))


@router.post("/meetings/{meeting_id}/agenda", response_model=Agenda, responses=errors(*WRITE))
def build(meeting_id: PathId, body: BuildIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Build (or rebuild) the agenda within each part's capacity."""
    return answer(panel.build_agenda(meeting_id, principal, as_of=body.as_of))


@router.get("/meetings/{meeting_id}/agenda", response_model=Agenda, responses=errors(*READ))
def agenda(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The agenda as built."""
    return answer(panel.get_meeting(meeting_id, principal).agenda)


@router.post("/meetings/{meeting_id}/agenda/order", response_model=Agenda, responses=errors(*WRITE))
def order(meeting_id: PathId, body: OrderIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The chair's order for a part."""
    return answer(panel.reorder(meeting_id, principal, part=body.part, item_ids=body.item_ids))


@router.post("/items/{item_id}/pin", response_model=Agenda, responses=errors(*WRITE))
def pin(item_id: PathId, body: PinIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Pin (or unpin) an item."""
    return answer(panel.pin(item_id, principal, pinned=body.pinned))


@router.post(
    "/decisions/{decision_id}/ratification", response_model=Decision, responses=errors(*WRITE)
)
def ratify(
    decision_id: PathId, body: RatifyIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Ratify (or not, with a reason) a decision recorded below quorum, at a later quorate
    meeting: ratified, its journey event fires now."""
    return answer(
        panel.ratify(
            decision_id,
            principal,
            meeting_id=body.meeting_id,
            ratified=body.ratified,
            reason=body.reason,
        )
    )


@router.post(
    "/items/{item_id}/decision", status_code=201, response_model=Decision, responses=errors(*WRITE)
)
def decide(
    item_id: PathId, body: DecisionIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Record a decision or recommendation; its journey event fires in the same transaction."""
    data = body.model_dump(mode="json")
    return answer(panel.decide(item_id, principal, data), status_code=201)


@router.post(
    "/items/{item_id}/escalate",
    status_code=201,
    response_model=DriftEscalation,
    responses={200: {"model": DriftEscalation}, **errors(*WRITE)},
)
def escalate_item(
    item_id: PathId, body: EscalateIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """The chair escalates drift on an agenda item's child to the service director, with
    the reason (201; 200 with ``created: false`` if it is escalated and not yet answered)."""
    result = panel.escalate_drift(principal, body.reason, item_id=item_id)
    return answer(result, status_code=201 if result.created else 200)


@router.post(
    "/children/{child_id}/escalate",
    status_code=201,
    response_model=DriftEscalation,
    responses={200: {"model": DriftEscalation}, **errors(*WRITE)},
)
def escalate_child(
    child_id: PathId, body: EscalateIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """The chair escalates a child's drift to the service director, with the reason (201;
    200 with ``created: false`` if the child's escalation is open already)."""
    result = panel.escalate_drift(principal, body.reason, child_id=child_id)
    return answer(result, status_code=201 if result.created else 200)


@router.get("/actions", response_model=list[ListedAction], responses=errors(401, 403, 422))
def actions(panel: Panel, principal: CurrentPrincipal, status: TextQuery = "open") -> Response:
    """Actions across meetings."""
    return answer(panel.list_actions(principal, status))


@router.post("/actions/{action_id}/done", response_model=Action, responses=errors(*WRITE))
def action_done(
    action_id: PathId, body: DoneIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Mark an action done."""
    return answer(panel.complete_action(action_id, principal, body.done_on))


@router.post("/meetings/{meeting_id}/minutes", response_model=Minutes, responses=errors(*CHANGE))
def draft_minutes(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Draft the minutes from what was recorded."""
    return answer(panel.draft_minutes(meeting_id, principal))


@router.post(
    "/meetings/{meeting_id}/minutes/approve",
    response_model=MinutesApproval,
    responses=errors(*WRITE),
)
def approve_minutes(
    meeting_id: PathId, body: ApproveIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Approve the minutes: entries to each child's record, tracker circulated."""
    return answer(panel.approve_minutes(meeting_id, principal, body.approved_on))


@router.post(
    "/meetings/{meeting_id}/minutes/reopen",
    response_model=MinutesReopened,
    responses=errors(*WRITE),
)
def reopen_minutes(
    meeting_id: PathId, body: ReopenIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Reopen approved minutes for a correction (with the reason): redraft and approve them
    again, and each child's record gets the next version of its entry."""
    return answer(panel.reopen_minutes(meeting_id, principal, body.reason))


@router.post(
    "/meetings/{meeting_id}/tracker/circulate",
    response_model=Circulation,
    responses=errors(*CHANGE),
)
def circulate_tracker(meeting_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Circulate the tracker again (once per meeting and day) to the team managers and
    social workers of the children the meeting discussed."""
    return answer(panel.circulate_tracker(meeting_id, principal))


@router.get(
    "/meetings/{meeting_id}/minutes",
    response_model=MinutesRecord,
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}, exports.DOCX: {}}},
        **errors(*CHANGE),
    },
)
def get_minutes(
    meeting_id: PathId,
    panel: Panel,
    principal: CurrentPrincipal,
    format: Literal["json", "html", "pdf", "docx"] = "json",
) -> Response:
    """The minutes as JSON, a printable HTML page, a PDF or a Word document."""
    minutes = panel.minutes(meeting_id, principal, export=None if format == "json" else format)
    if format == "html":
        return Response(exports.minutes_html(minutes), media_type="text/html; charset=utf-8")
    if format == "pdf":
        return Response(
            exports.minutes_pdf(minutes),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="minutes-{meeting_id}.pdf"'},
        )
    if format == "docx":
        return Response(
            exports.minutes_docx(minutes),
            media_type=exports.DOCX,
            headers={"Content-Disposition": f'attachment; filename="minutes-{meeting_id}.docx"'},
        )
    return answer(minutes)


@router.get(
    "/tracker",
    response_model=list[TrackerRow],
    responses={200: {"content": {"text/csv": {}, exports.XLSX: {}}}, **errors(401, 403, 422)},
)
def tracker(
    panel: Panel,
    principal: CurrentPrincipal,
    format: Literal["json", "csv", "xlsx"] = "json",
    as_of: QueryDate | None = None,
) -> Response:
    """Every child the panel follows, as JSON, CSV or XLSX."""
    rows = panel.tracker(principal, as_of, export=None if format == "json" else format)
    if format == "csv":
        return Response(
            exports.tracker_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="tracker.csv"'},
        )
    if format == "xlsx":
        return Response(
            exports.tracker_xlsx(rows, panel.config.panel.name),
            media_type=exports.XLSX,
            headers={"Content-Disposition": 'attachment; filename="tracker.xlsx"'},
        )
    return answer(rows)


@router.get(
    "/children/{child_id}/history", response_model=list[ChildRecordEntry], responses=errors(*READ)
)
def child_history(child_id: PathId, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The panel's entries in a child's record."""
    return answer(panel.child_history(child_id, principal))


@router.get(
    "/children/{child_id}/record", response_model=list[RecordEntry], responses=errors(*READ)
)
def child_record(child_id: PathId, services: Services, principal: CurrentPrincipal) -> Response:
    """The entries approved minutes wrote to a child's record, oldest meeting first (a
    corrected entry after the version it replaces, ``current`` false on that one)."""
    return answer(record.child_record(services.engine, child_id, principal))


@router.get(
    "/record-entries/{entry_id}",
    response_model=RecordEntry,
    responses={
        200: {"content": {"application/pdf": {}, exports.DOCX: {}}},
        **errors(*READ),
    },
)
def record_entry(
    entry_id: PathId,
    services: Services,
    principal: CurrentPrincipal,
    format: Literal["json", "pdf", "docx"] = "json",
) -> Response:
    """One entry of a child's record as JSON, a one-page PDF or a Word document."""
    entry = record.record_entry(
        services.engine, entry_id, principal, export=None if format == "json" else format
    )
    if format == "pdf":
        return Response(
            exports.record_entry_pdf(entry),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="panel-record-{entry_id}.pdf"'},
        )
    if format == "docx":
        return Response(
            exports.record_entry_docx(entry),
            media_type=exports.DOCX,
            headers={"Content-Disposition": f'attachment; filename="panel-record-{entry_id}.docx"'},
        )
    return answer(entry)


@router.get("/reports/themes", response_model=ThemesOut, responses=errors(401, 403, 422))
def themes(
    panel: Panel,
    principal: CurrentPrincipal,
    start: Annotated[date, DATE_RANGE, Query(alias="from", description=WHEN)],
    end: Annotated[date, DATE_RANGE, Query(alias="to", description=WHEN)],
) -> Response:
    """Themes: decisions, deferrals and reasons, packs not listed and why, breaches by kind."""
    return answer(panel.themes(principal, start, end))


@router.get("/reports/annual", response_model=AnnualReportOut, responses=errors(401, 403, 422))
def annual(panel: Panel, principal: CurrentPrincipal, year: Year) -> Response:
    """The annual report of activity and timeliness."""
    return answer(panel.annual_report(principal, year))
