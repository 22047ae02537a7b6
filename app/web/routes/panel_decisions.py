"""Recording a decision on an agenda item: the Panel Decisions template (outcome, whether
the placement will meet the child's needs, resources agreed, notes), the data the
outcome's journey event needs, actions with owner and due date, and when the case comes
back. ``PanelService.decide`` fires the journey event in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app.api.params import PathId, whole_number
from app.web.deps import CheckedForm, PageSession
from app.web.forms import FormErrors, date_parts, echo_date, read_date, text
from app.web.routes.panel_common import (
    Panel,
    done_redirect,
    journey_words,
    refusal,
    require_rule,
    source_label,
)
from app.web.session import WebSession
from app.web.templating import render
from panels.permissions import RECORD_DECISION, allows, outcome_rule
from panels.results import AgendaItem, MeetingDetail
from panels.service import TRACKING_OUTCOMES, PanelService
from services import audit
from states.roles import PANEL_ADMIN, SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER
from workflow.definition import Field
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

ACTION_ROWS = 3
OWNERS = (
    (SOCIAL_WORKER, "Allocated social worker"),
    (TEAM_MANAGER, "Team manager"),
    (SERVICE_MANAGER, "Service manager"),
    (PANEL_ADMIN, "Panel administrator"),
)
MEETS_NEEDS = (
    ("will", "Will meet the child's needs"),
    ("will_not", "Will not meet the child's needs"),
)
# Filled in from the decision's notes by the service; not asked twice.
_FROM_NOTES = frozenset({"reason", "recommendation"})
_LIMITS = {
    "resources_child": 2000,
    "resources_carers": 2000,
    "notes": 4000,
    "exception_reason": 2000,
}


@dataclass(frozen=True)
class Choice:
    """An outcome the decider can record, with the event data it asks for."""

    key: str
    label: str
    event: str | None
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Decision:
    """What the form needs to know about the item being decided."""

    meeting: MeetingDetail
    item: AgendaItem
    title: str
    choices: tuple[Choice, ...]
    funding: bool
    review_default: int | None


def _decision(panel: PanelService, session: WebSession, meeting_id: int, item_id: int) -> Decision:
    """The decision form's contents, read as one audit row (the agenda and the referral)."""
    with audit.one_read(panel.engine, session.principal, "decision_page"):
        return _read_decision(panel, session, meeting_id, item_id)


def _read_decision(
    panel: PanelService, session: WebSession, meeting_id: int, item_id: int
) -> Decision:
    principal = session.principal
    meeting = panel.get_meeting(meeting_id, principal)
    item = meeting.agenda.item(item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such item on this agenda.")
    if item.status == "rolled":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "The item was rolled to the next meeting: record its decision there.",
        )
    part = panel.config.part(item.part)
    review_default = part.review_weeks if part else None
    if item.referral_id is None:
        # A tracked child's outcome fires no event: the chair's to record.
        choices = tuple(Choice(k, v, None, ()) for k, v in TRACKING_OUTCOMES.items())
        if not allows(principal, outcome_rule(None)):
            choices = ()
        title = source_label(item.source, item.cohorts)
        return Decision(meeting, item, title, choices, False, review_default)
    referral = panel.get_referral(item.referral_id, principal)
    dt = panel.config.decision_type(referral.decision_type)
    assert dt is not None  # a referral's decision type is the panel's own
    jm = panel.registry.current(dt.journey_type)
    out = []
    for o in dt.outcomes:
        ev = jm.definition.event(o.event) if jm and o.event else None
        # Offered only to a role that may record it: the event's roles as the panel's
        # policy gives them (the ADM's approval, a signer under the scheme of delegation),
        # a funding scheme's roles for a funding outcome; the chair when none.
        if not allows(principal, outcome_rule(panel.outcome_roles(dt, o))):
            continue
        fields = tuple(
            f
            for f in (ev.fields if ev else ())
            if f.name not in _FROM_NOTES and f.type != "checklist"
        )
        out.append(Choice(o.key, o.label, o.event, fields))
    return Decision(meeting, item, dt.title, tuple(out), bool(dt.funding_scheme), review_default)


def _field_name(choice: Choice, f: Field) -> str:
    return f"ev-{choice.key}-{f.name}"


def _page(
    request: Request,
    panel: PanelService,
    d: Decision,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if values is None:
        values = {f"action-{n}-due": date_parts(None) for n in range(1, ACTION_ROWS + 1)}
        for c in d.choices:
            values.update(
                {_field_name(c, f): date_parts(None) for f in c.fields if f.type == "date"}
            )
    return render(
        request,
        "panel/decision.html",
        {
            "meeting": d.meeting,
            "item": d.item,
            "title": d.title,
            "words": journey_words(panel.registry),
            "choices": d.choices,
            "field_name": _field_name,
            "funding": d.funding,
            "review_default": d.review_default,
            "review_choices": panel.config.review_weeks_choices,
            "meets_needs": MEETS_NEEDS,
            "owners": OWNERS,
            "action_rows": range(1, ACTION_ROWS + 1),
            "values": values,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/panel/meetings/{meeting_id}/items/{item_id}/decision")
def decision_form(
    request: Request, meeting_id: PathId, item_id: PathId, session: PageSession, panel: Panel
) -> HTMLResponse:
    """The decision form for one agenda item."""
    require_rule(session, RECORD_DECISION)
    return _page(request, panel, _decision(panel, session, meeting_id, item_id))


def _event_value(form: FormData, name: str, f: Field, errors: FormErrors) -> Any:
    """One event field from the form, checked as the journey definition types it."""
    label = (f.label or f.name.replace("_", " ")).capitalize()
    if f.type == "date":
        return read_date(form, name, label, errors, required=f.required)
    raw = text(form, name)
    if f.type == "boolean":
        return raw == "yes"
    if not raw:
        if f.required:
            verb = "Select" if f.type == "choice" else "Enter"
            errors.add(name, f"{verb} {label.lower()}")
        return None
    if f.type == "choice" and raw not in f.choices:
        errors.add(name, f"Select {label.lower()} from the list")
    elif f.type == "integer":
        number = whole_number(raw.removeprefix("-"), 0)
        if number is None:
            errors.add(name, f"{label} must be a whole number")
            return None
        return -number if raw.startswith("-") else number
    elif f.type == "decimal":
        try:
            return str(Decimal(raw.replace(",", "").lstrip("£")))
        except InvalidOperation:
            errors.add(name, f"{label} must be a number")
            return None
    return raw


def _actions(form: FormData, errors: FormErrors) -> list[dict[str, Any]]:
    out = []
    owners = dict(OWNERS)
    for n in range(1, ACTION_ROWS + 1):
        description = text(form, f"action-{n}-description")
        typed_due = any(echo_date(form, f"action-{n}-due").values())
        if not description and not typed_due:
            continue
        if not description:
            errors.add(f"action-{n}-description", f"Enter what action {n} is")
        elif len(description) > 1000:
            errors.add(f"action-{n}-description", "An action must be 1000 characters or fewer")
        due: date | None = read_date(form, f"action-{n}-due", f"The due date of action {n}", errors)
        owner = text(form, f"action-{n}-owner") or SOCIAL_WORKER
        if owner not in owners:
            errors.add(f"action-{n}-owner", f"Select who owns action {n}")
        if description and due is not None:
            out.append({"description": description, "due_on": due.isoformat(), "owner_role": owner})
    return out


def _read(
    form: FormData, d: Decision, review_choices: list[int], errors: FormErrors
) -> dict[str, Any]:
    """The decision body ``PanelService.decide`` takes, or errors against their fields."""
    choices = {c.key: c for c in d.choices}
    outcome = text(form, "outcome")
    choice = choices.get(outcome)
    if choice is None:
        errors.add("outcome", "Select the panel's decision or recommendation")
    meets = text(form, "meets_needs")
    if meets and meets not in dict(MEETS_NEEDS):
        errors.add("meets_needs", "Select whether the placement will meet the child's needs")
    body: dict[str, Any] = {"outcome": outcome, "meets_needs": meets or None}
    for name, limit in _LIMITS.items():
        body[name] = text(form, name)
        if len(body[name]) > limit:
            errors.add(name, f"This must be {limit} characters or fewer")
    review = text(form, "review_weeks")
    body["review_weeks"] = None
    if review:
        weeks = whole_number(review)
        if weeks is None or weeks not in review_choices:
            errors.add("review_weeks", "Select when the case comes back to panel")
        else:
            body["review_weeks"] = weeks
    body["event_data"] = {}
    if choice is not None:
        for f in choice.fields:
            value = _event_value(form, _field_name(choice, f), f, errors)
            if value is not None:
                body["event_data"][f.name] = value.isoformat() if isinstance(value, date) else value
    body["actions"] = _actions(form, errors)
    return body


def _echo(form: FormData, d: Decision) -> dict[str, Any]:
    values: dict[str, Any] = {k: text(form, k) for k in form if isinstance(form.get(k), str)}
    for n in range(1, ACTION_ROWS + 1):
        values[f"action-{n}-due"] = echo_date(form, f"action-{n}-due")
    for c in d.choices:
        for f in c.fields:
            if f.type == "date":
                values[_field_name(c, f)] = echo_date(form, _field_name(c, f))
    return values


@router.post("/panel/meetings/{meeting_id}/items/{item_id}/decision")
def decide(
    request: Request,
    meeting_id: PathId,
    item_id: PathId,
    session: PageSession,
    form: CheckedForm,
    panel: Panel,
) -> Response:
    """Record the decision; the journey event fires and actions become deadlines."""
    require_rule(session, RECORD_DECISION)
    d = _decision(panel, session, meeting_id, item_id)
    errors = FormErrors()
    body = _read(form, d, panel.config.review_weeks_choices, errors)
    status_code = 400
    if not errors:
        try:
            panel.decide(item_id, session.principal, body)
        except EngineError as exc:
            if exc.status_code == 404:
                raise
            refusal(errors, "outcome", exc)
            status_code = exc.status_code
    if errors:
        return _page(
            request, panel, d, values=_echo(form, d), errors=errors, status_code=status_code
        )
    return done_redirect(f"/panel/meetings/{meeting_id}", "decision")
