"""What the API answers, documented: the error body every refusal shares, the status codes
each operation can answer with, and typed models for the answers that were bare dicts
(notifications, escalations, breaches and the panel's configuration and reports).

The routes return plain data (``json_response``) on their hot paths; these models are the
contract the OpenAPI schema states, and ``tests/api/test_schemathesis.py`` checks every
answer against it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panels.config import PanelConfig


class ErrorOut(BaseModel):
    """Every refusal: a machine-readable code, a sentence for people, and what the
    refusal carries (the fields in error, the journey as it now is, the reasons...)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    errors: list[str] | None = Field(default=None, description="422: each problem found")


_WHY = {
    400: "The body cannot be read (not UTF-8 JSON, or a broken form).",
    401: "Not signed in: no token, or an invalid or expired one.",
    403: "Signed in, but your role or team may not do this.",
    404: "There is no such record (or it is not yours to know of).",
    409: "The record changed since you read it, or its state does not allow this now.",
    422: "The request is not valid: each problem is named.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route answering with these error codes."""
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}


# The sets most routes share: read one record, change one record (with a body: WRITE).
READ = (401, 403, 404, 422)
CHANGE = (401, 403, 404, 409, 422)
WRITE = (400, *CHANGE)


class NotificationOut(BaseModel):
    """One notice in your inbox: a reminder, an escalation or an event notice."""

    id: int
    category: str
    step: str
    message: str
    deadline_id: int | None
    deadline_kind: str | None
    due_on: date | None
    fire_on: date
    journey_id: int | None
    journey_type: str | None
    child_reference: str | None
    meeting_id: int | None
    link: str | None
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None
    # Only on a grouped line (``group=deadline``): the deadline's notices before this one,
    # and how many of its notices are unread.
    earlier: int | None = None
    unread_notices: int | None = None


class EscalationOut(BaseModel):
    """An escalation of a missed deadline, and its acknowledgement."""

    id: int
    status: str
    level: str
    step: str
    recipient_id: int
    recipient: str
    deadline_id: int | None
    deadline_kind: str | None
    deadline_label: str = Field(
        description="The deadline in words: a panel pack named by its meeting"
    )
    due_on: date | None
    escalated_on: date
    working_days_overdue: int | None
    journey_id: int | None
    journey_type: str | None
    child_reference: str | None
    team: str | None
    meeting_id: int | None
    meeting_date: date | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None
    # An escalation the panel raised: why and by whom (null for a missed deadline's).
    reason: str | None = None
    raised_by: str | None = None
    panel: str | None = None


class Acknowledged(BaseModel):
    """An acknowledged escalation you may no longer list."""

    id: int
    status: str


class BreachEscalation(BaseModel):
    """An escalation raised for a breached deadline."""

    id: int
    level: str
    recipient: str
    escalated_on: date
    for_due_on: date | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None


class BreachOut(BaseModel):
    """A missed deadline: still open past its date, or met after it."""

    deadline_id: int
    journey_id: int | None
    journey_type: str | None
    child_reference: str | None
    team: str | None
    meeting_id: int | None
    meeting_date: date | None
    kind: str
    ref: str
    deadline_label: str = Field(
        description="The deadline in words: a panel pack named by its meeting, a court "
        "direction by what was directed"
    )
    due_on: date
    status: str
    met_on: date | None
    owner: str | None
    days_late: int
    working_days_late: int
    escalations: list[BreachEscalation]
    reason: str | None = None


class PanelConfigOut(PanelConfig):
    """The running panel's configuration, and the outcomes the tracker follows."""

    tracking_outcomes: dict[str, str] = Field(description="outcome: its words")


class FundingQuestion(BaseModel):
    """A question of the Additional Funding Request form."""

    key: str
    question: str


class DeferralOut(BaseModel):
    """A deferred decision and its reason."""

    outcome: str
    reason: str


class ThemesOut(BaseModel):
    """Decisions, deferrals and reasons, packs not listed and why, items rolled over and
    deadlines breached, over a period."""

    model_config = ConfigDict(populate_by_name=True)

    panel: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    meetings: int
    cancelled: int
    decisions: dict[str, int]
    deferrals: list[DeferralOut]
    not_listed: dict[str, int]
    rolled_by_part: dict[str, int]
    breaches_by_kind: dict[str, int]


class TimelinessOut(BaseModel):
    """Per cent done on time (null: nothing to measure)."""

    minutes_on_time_pct: float | None
    packs_on_time_pct: float | None
    actions_done_on_time_pct: float | None


class AnnualReportOut(ThemesOut):
    """The panel's year: its themes, activity and timeliness."""

    year: int
    meetings_held: int
    children_discussed: int
    referrals: int
    timeliness: TimelinessOut
