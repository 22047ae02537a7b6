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
from app.api.render import json_response
from panels import exports
from panels.config import PanelConfigError, load_panel, preset_names
from panels.funding import QUESTIONS
from panels.results import (
    Action,
    Agenda,
    ChildRecordEntry,
    Circulation,
    Decision,
    ListedAction,
    Meeting,
    MeetingDetail,
    Minutes,
    MinutesApproval,
    MinutesRecord,
    Referral,
    TrackerRow,
    to_json,
)
from panels.service import TRACKING_OUTCOMES, PanelService
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
    start: date | None = None
    months: int | None = Field(default=None, ge=1, le=24)


class MoveIn(_In):
    new_date: date
    reason: str = Field(min_length=1, max_length=500)


class CancelIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class Seat(_In):
    member_key: str
    status: Literal["present", "apologies", "absent"]
    person: str = Field(default="", max_length=200)
    user_id: int | None = None
    representative: str | None = Field(default=None, max_length=200)


class AttendanceIn(_In):
    entries: list[Seat]


class ReferIn(_In):
    journey_id: int
    decision_type: str
    meeting_id: int | None = None
    referred_on: date | None = None
    documents: list[str] = []


class PackIn(_In):
    checklist: dict[str, str]
    documents: list[str] | None = None
    funding: dict[str, Any] | None = None
    submitted_on: date | None = None


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=500)


class BuildIn(_In):
    as_of: date | None = None


class OrderIn(_In):
    part: str
    item_ids: list[int]


class PinIn(_In):
    pinned: bool = True


class ActionIn(_In):
    description: str = Field(min_length=1, max_length=1000)
    due_on: date
    owner_id: int | None = None
    owner_role: str = "social_worker"


class DecisionIn(_In):
    outcome: str
    meets_needs: Literal["will", "will_not"] | None = None
    resources_child: str = Field(default="", max_length=2000)
    resources_carers: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)
    event_data: dict[str, Any] = {}
    expected_version: int | None = None
    review_weeks: int | None = Field(default=None, ge=1, le=104)
    exception_reason: str = ""
    actions: list[ActionIn] = []


class DoneIn(_In):
    done_on: date | None = None


class ApproveIn(_In):
    approved_on: date | None = None


@router.get("/config")
def config(panel: Panel, principal: CurrentPrincipal) -> Response:
    """The running panel's configuration (schedule, parts, members, decision types...)."""
    del principal
    data = panel.config.model_dump(mode="json")
    data["tracking_outcomes"] = TRACKING_OUTCOMES
    return json_response(data)


@router.get("/presets")
def presets(principal: CurrentPrincipal) -> list[str]:
    """The presets shipped with the service, one per Terms of Reference."""
    del principal
    return preset_names()


@router.get("/funding-form")
def funding_form(principal: CurrentPrincipal) -> list[dict[str, str]]:
    """The Additional Funding Request form's questions."""
    del principal
    return [{"key": k, "question": q} for k, q in QUESTIONS]


@router.post("/meetings/generate", response_model=list[Meeting])
def generate(body: GenerateIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Plan the meetings of the forward planner (idempotent: existing meetings stay)."""
    return answer(panel.generate(principal, body.start, body.months))


@router.get("/meetings", response_model=list[Meeting])
def meetings(
    panel: Panel, principal: CurrentPrincipal, start: date | None = None, end: date | None = None
) -> Response:
    """The forward planner."""
    return answer(panel.list_meetings(principal, start, end))


@router.get("/meetings/{meeting_id}", response_model=MeetingDetail)
def meeting(meeting_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """A meeting with attendance, agenda and its deadlines."""
    return answer(panel.get_meeting(meeting_id, principal))


@router.post("/meetings/{meeting_id}/move", response_model=MeetingDetail)
def move(meeting_id: int, body: MoveIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Move a meeting; its pack deadlines move with it."""
    return answer(
        panel.move_meeting(meeting_id, principal, new_date=body.new_date, reason=body.reason)
    )


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingDetail)
def cancel(meeting_id: int, body: CancelIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Cancel a meeting; its referrals go to the next one."""
    return answer(panel.cancel_meeting(meeting_id, principal, reason=body.reason))


@router.post("/meetings/{meeting_id}/attendance", response_model=MeetingDetail)
def attendance(
    meeting_id: int, body: AttendanceIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Record who attended, apologies and representatives."""
    entries = [e.model_dump() for e in body.entries]
    return answer(panel.record_attendance(meeting_id, principal, entries))


@router.post("/referrals", status_code=201, response_model=Referral)
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


@router.get("/referrals/{referral_id}", response_model=Referral)
def referral(referral_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """A referral, its pack and why it is (not) listable."""
    return answer(panel.get_referral(referral_id, principal))


@router.post("/referrals/{referral_id}/pack", response_model=Referral)
def pack(referral_id: int, body: PackIn, panel: Panel, principal: CurrentPrincipal) -> Response:
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


@router.post("/referrals/{referral_id}/withdraw", response_model=Referral)
def withdraw(
    referral_id: int, body: WithdrawIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Withdraw a referral."""
    return answer(panel.withdraw_referral(principal, referral_id, body.reason))


@router.post("/meetings/{meeting_id}/agenda", response_model=Agenda)
def build(meeting_id: int, body: BuildIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Build (or rebuild) the agenda within each part's capacity."""
    return answer(panel.build_agenda(meeting_id, principal, as_of=body.as_of))


@router.get("/meetings/{meeting_id}/agenda", response_model=Agenda)
def agenda(meeting_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The agenda as built."""
    return answer(panel.get_meeting(meeting_id, principal).agenda)


@router.post("/meetings/{meeting_id}/agenda/order", response_model=Agenda)
def order(meeting_id: int, body: OrderIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The chair's order for a part."""
    return answer(panel.reorder(meeting_id, principal, part=body.part, item_ids=body.item_ids))


@router.post("/items/{item_id}/pin", response_model=Agenda)
def pin(item_id: int, body: PinIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Pin (or unpin) an item."""
    return answer(panel.pin(item_id, principal, pinned=body.pinned))


@router.post("/items/{item_id}/decision", status_code=201, response_model=Decision)
def decide(item_id: int, body: DecisionIn, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Record a decision or recommendation; its journey event fires in the same transaction."""
    data = body.model_dump(mode="json")
    return answer(panel.decide(item_id, principal, data), status_code=201)


@router.get("/actions", response_model=list[ListedAction])
def actions(panel: Panel, principal: CurrentPrincipal, status: str | None = "open") -> Response:
    """Actions across meetings."""
    return answer(panel.list_actions(principal, status))


@router.post("/actions/{action_id}/done", response_model=Action)
def action_done(
    action_id: int, body: DoneIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Mark an action done."""
    return answer(panel.complete_action(action_id, principal, body.done_on))


@router.post("/meetings/{meeting_id}/minutes", response_model=Minutes)
def draft_minutes(meeting_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Draft the minutes from what was recorded."""
    return answer(panel.draft_minutes(meeting_id, principal))


@router.post("/meetings/{meeting_id}/minutes/approve", response_model=MinutesApproval)
def approve_minutes(
    meeting_id: int, body: ApproveIn, panel: Panel, principal: CurrentPrincipal
) -> Response:
    """Approve the minutes: entries to each child's record, tracker circulated."""
    return answer(panel.approve_minutes(meeting_id, principal, body.approved_on))


@router.post("/meetings/{meeting_id}/tracker/circulate", response_model=Circulation)
def circulate_tracker(meeting_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """Circulate the tracker again (once per meeting and day) to the team managers and
    social workers of the children the meeting discussed."""
    return answer(panel.circulate_tracker(meeting_id, principal))


@router.get(
    "/meetings/{meeting_id}/minutes",
    response_model=MinutesRecord,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def get_minutes(
    meeting_id: int,
    panel: Panel,
    principal: CurrentPrincipal,
    format: Literal["json", "html", "pdf"] = "json",
) -> Response:
    """The minutes as JSON, a printable HTML page, or a PDF."""
    minutes = panel.minutes(meeting_id, principal, export=None if format == "json" else format)
    if format == "html":
        return Response(exports.minutes_html(minutes), media_type="text/html; charset=utf-8")
    if format == "pdf":
        return Response(
            exports.minutes_pdf(minutes),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="minutes-{meeting_id}.pdf"'},
        )
    return answer(minutes)


@router.get(
    "/tracker",
    response_model=list[TrackerRow],
    responses={200: {"content": {"text/csv": {}, exports.XLSX: {}}}},
)
def tracker(
    panel: Panel,
    principal: CurrentPrincipal,
    format: Literal["json", "csv", "xlsx"] = "json",
    as_of: date | None = None,
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


@router.get("/children/{child_id}/history", response_model=list[ChildRecordEntry])
def child_history(child_id: int, panel: Panel, principal: CurrentPrincipal) -> Response:
    """The panel's entries in a child's record."""
    return answer(panel.child_history(child_id, principal))


@router.get("/reports/themes")
def themes(
    panel: Panel,
    principal: CurrentPrincipal,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> Response:
    """Themes: decisions, deferrals and reasons, packs not listed and why, breaches by kind."""
    return answer(panel.themes(principal, start, end))


@router.get("/reports/annual")
def annual(panel: Panel, principal: CurrentPrincipal, year: int) -> Response:
    """The annual report of activity and timeliness."""
    return answer(panel.annual_report(principal, year))
