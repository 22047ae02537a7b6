"""Referrals: a social worker refers one of their team's journeys to a meeting, completes
the pack (checklist, documents, funding request) and can withdraw it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app.api.params import PathId, QueryId, whole_number
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.routes import panel_pack as pack
from app.web.routes.panel_common import (
    Panel,
    banner,
    done_redirect,
    journey_words,
    readable,
    refusal,
    require_rule,
)
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import REFER_CASE, WITHDRAW_REFERRAL, allows
from panels.results import Meeting
from panels.service import PanelService
from services import audit
from services.access import Principal
from services.clock import today
from services.journeys import JourneyView
from states.checklists import ANSWER_CHOICES, ANSWER_LABELS
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

# The case picker lists at most this many journeys (a team's caseload fits many times over).
PICKER_LIMIT = 500
OPEN_STATUSES = ("awaiting_pack", "accepted", "listed")


def _meetings(panel: PanelService, principal: Principal) -> list[Meeting]:
    return [
        m
        for m in panel.list_meetings(principal, today(), today() + timedelta(days=366))
        if m.status == "scheduled"
    ]


def _new_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    journey: JourneyView | None,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = session.principal
    context: dict[str, Any] = {
        "journey": journey,
        "words": journey_words(panel.registry),
        "errors": errors or FormErrors(),
    }
    if journey is None:
        context["journeys"] = panel.referable_journeys(principal, PICKER_LIMIT)
        context["picker_limit"] = PICKER_LIMIT
    else:
        kinds = panel.config.decision_types_for(journey.type)
        context["decision_types"] = panel.config.decision_types_for(journey.type, journey.state)
        context["other_types"] = [dt for dt in kinds if dt not in context["decision_types"]]
        context["meetings"] = _meetings(panel, principal)
        context["closed"] = journey.status != "active"
    context["values"] = values or {"meeting": "next"}
    return render(request, "panel/referral_new.html", context, status_code=status_code)


def _back_dated(form: FormData, name: str, label: str, errors: FormErrors) -> date | None:
    """An optional earlier date typed on the form (blank: today, as the service takes it)."""
    day = read_date(form, name, label, errors, required=False)
    if day is not None and day > today():
        errors.add(f"{name}-day", f"{label} must be today or in the past")
        return None
    return day


@router.get("/panel/referrals/new")
def new_referral(
    request: Request, session: PageSession, panel: Panel, journey_id: QueryId | None = None
) -> HTMLResponse:
    """Refer a case: pick one of your team's journeys, then the decision and the meeting."""
    require_rule(session, REFER_CASE)
    journey = panel.journeys.get(journey_id, session.principal) if journey_id else None
    return _new_page(request, panel, session, journey)


@router.post("/panel/referrals")
def refer(request: Request, session: PageSession, form: CheckedForm, panel: Panel) -> Response:
    """Refer the journey for a decision at the chosen (or the next) meeting."""
    require_rule(session, REFER_CASE)
    principal = session.principal
    journey_id = whole_number(text(form, "journey_id"))
    if journey_id is None:
        errors = FormErrors()
        errors.add("journey_id", "Select the case to refer")
        return _new_page(request, panel, session, None, errors=errors, status_code=400)
    journey = panel.journeys.get(journey_id, principal)
    values: dict[str, Any] = {
        "decision_type": text(form, "decision_type"),
        "meeting": text(form, "meeting"),
        "referred_on": echo_date(form, "referred_on"),
    }
    errors = FormErrors()
    referred_on = _back_dated(form, "referred_on", "Date of the referral", errors)
    offered = {dt.key for dt in panel.config.decision_types_for(journey.type, journey.state)}
    if values["decision_type"] not in offered:
        errors.add("decision_type", "Select the decision the panel is asked for")
    meetings = {str(m.id) for m in _meetings(panel, principal)}
    if values["meeting"] != "next" and values["meeting"] not in meetings:
        errors.add("meeting", "Select a meeting from the list")
    status_code = 400
    if not errors:
        meeting_id = None if values["meeting"] == "next" else int(values["meeting"])
        try:
            made = panel.refer(
                principal,
                journey_id=journey.id,
                decision_type=values["decision_type"],
                meeting_id=meeting_id,
                referred_on=referred_on,
            )
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, "decision_type", exc)
            status_code = exc.status_code
        else:
            return done_redirect(f"/panel/referrals/{made.id}", "referred")
    return _new_page(
        request, panel, session, journey, errors=errors, values=values, status_code=status_code
    )


def _referral_page(
    request: Request,
    panel: PanelService,
    session: WebSession,
    referral_id: int,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = session.principal
    # One audit row for the page: the referral with its pack, and the journey it is for.
    with audit.one_read(panel.engine, principal, "referral_page"):
        ref = panel.get_referral(referral_id, principal)
        journey = panel.journeys.get(ref.journey_id, principal)
    dt = panel.config.decision_type(ref.decision_type)
    funding = bool(dt and dt.funding_scheme)
    shown: dict[str, Any] = {f"checklist-{k}": v for k, v in ref.checklist.items()}
    shown.update(pack.funding_values(ref.funding))
    shown["documents"] = ref.documents
    shown.update(values or {})
    # The pack is for those who refer; the panel administrator may also withdraw.
    refers = allows(principal, REFER_CASE)
    # The service's words as the page shows them: dates in words, checklist items by text.
    wording = {i.key: i.text for i in ref.checklist_items}
    return render(
        request,
        "panel/referral.html",
        {
            "ref": ref,
            "reason": readable(ref.reason, wording),
            "history": [{**h, "note": readable(h.get("note"), wording)} for h in ref.history],
            "journey": journey,
            "title": dt.title if dt else ref.decision_type,
            "words": journey_words(panel.registry),
            "funding": funding,
            "answers": ANSWER_CHOICES,
            "answer_labels": ANSWER_LABELS,
            "questions": pack.FUNDING_QUESTIONS,
            "ticks": pack.TICKS,
            "yes_no": pack.YES_NO,
            "school_types": pack.SCHOOL_TYPES,
            "quote_rows": range(1, pack.QUOTE_ROWS + 1),
            "can_submit": ref.status == "awaiting_pack" and refers,
            "can_withdraw": ref.status in OPEN_STATUSES and allows(principal, WITHDRAW_REFERRAL),
            "values": shown,
            "errors": errors or FormErrors(),
            **banner(request.query_params.get("done")),
        },
        status_code=status_code,
    )


@router.get("/panel/referrals/{referral_id}")
def referral(
    request: Request, referral_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """A referral: its meeting, pack deadline, checklist, why it is (not) listable."""
    return _referral_page(request, panel, session, referral_id)


@router.post("/panel/referrals/{referral_id}/pack")
def submit_pack(
    request: Request, referral_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Submit the pack. Late or incomplete: offered the next meeting, with the reason."""
    require_rule(session, REFER_CASE)
    principal = session.principal
    before = panel.get_referral(referral_id, principal)
    dt = panel.config.decision_type(before.decision_type)
    errors = FormErrors()
    checklist = pack.read_checklist(form, before.checklist_items, errors)
    documents = pack.read_documents(form, before.documents_expected)
    funding = pack.read_funding(form, errors) if dt and dt.funding_scheme else None
    submitted_on = _back_dated(form, "submitted_on", "Date the pack was submitted", errors)
    status_code = 400
    if not errors:
        try:
            after = panel.submit_pack(
                principal,
                referral_id,
                checklist=checklist,
                documents=documents,
                funding=funding,
                submitted_on=submitted_on,
            )
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, "pack", exc)
            status_code = exc.status_code
        else:
            if after.status == "awaiting_pack":
                code = "pack_incomplete"
            elif after.meeting_id != before.meeting_id:
                code = "pack_late"
            else:
                code = "pack_accepted"
            return done_redirect(f"/panel/referrals/{referral_id}", code)
    values: dict[str, Any] = {k: text(form, k) for k in form if k != "documents"}
    values["documents"] = form.getlist("documents")
    values["submitted_on"] = echo_date(form, "submitted_on")
    return _referral_page(
        request,
        panel,
        session,
        referral_id,
        errors=errors,
        values=values,
        status_code=status_code,
    )


@router.post("/panel/referrals/{referral_id}/withdraw")
def withdraw(
    request: Request, referral_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Withdraw the referral, saying why; its pack deadline is cancelled."""
    require_rule(session, WITHDRAW_REFERRAL)
    errors = FormErrors()
    reason = text(form, "withdraw_reason")
    if not reason:
        errors.add("withdraw_reason", "Enter why the referral is withdrawn")
    elif len(reason) > 500:
        errors.add("withdraw_reason", "The reason must be 500 characters or fewer")
    status_code = 400
    if not errors:
        try:
            panel.withdraw_referral(session.principal, referral_id, reason)
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, "withdraw_reason", exc)
            status_code = exc.status_code
        else:
            return done_redirect(f"/panel/referrals/{referral_id}", "withdrawn")
    values = {"withdraw_reason": reason}
    return _referral_page(
        request,
        panel,
        session,
        referral_id,
        errors=errors,
        values=values,
        status_code=status_code,
    )
