"""Reunification: a looked-after child's return home, assessed under Schedule 3 / the
placement with parents provisions (Care Planning, Placement and Case Review (England)
Regulations 2010, Part 4 and Schedule 3).

The assessment of the parent's suitability follows Schedule 3. Its due date is the one the
care plan sets, except where the child was placed with the parent before the assessment
(an immediate placement, regulation 20): then it must be completed within 10 working days
of the placement. The nominated officer decides; after the return home a review follows
within 3 months (the placed-with-parents review interval) before the plan closes.
"""

from __future__ import annotations

from datetime import date

from states.deadline_kinds import opens
from states.placed_with_parents import REVIEW_MONTHS
from states.roles import CASEWORK, DECISION_MAKER, IRO
from states.rules import months_after, not_before_recorded
from workflow.calendar import add_working_days
from workflow.definition import (
    Branch,
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

IMMEDIATE_PLACEMENT_WORKING_DAYS = 10  # reg 20
ASSESSMENT_KINDS = ("schedule_3", "placement_with_parents")
DECISIONS = ("return_home", "not_proceeding")


def _assessment_due(ctx: Context) -> date | None:
    placed = ctx.date_of("placed_before_assessment_on")
    if placed is not None:
        return add_working_days(placed, IMMEDIATE_PLACEMENT_WORKING_DAYS)
    return ctx.date_of("assessment_due")


def _a_due_date(ctx: Context) -> str | None:
    if ctx.preview:
        return None
    if ctx.get("placed_before_assessment_on") is None and ctx.get("assessment_due") is None:
        return (
            "Give the date the care plan sets for the assessment, or the date the child was "
            "placed before it (regulation 20: 10 working days)."
        )
    return None


def _placed_not_before_start(ctx: Context) -> str | None:
    placed = ctx.date_of("placed_before_assessment_on")
    if placed is not None and placed > ctx.occurred_on:
        return "A placement before the assessment cannot be dated after the assessment started."
    return None


def _returns_home(ctx: Context) -> bool:
    return ctx.event_data.get("decision") == "return_home"


DEFINITION = JourneyDefinition(
    type="reunification",
    version=1,
    title="Reunification",
    description="A return home assessed under Schedule 3, decided, reviewed after the return.",
    states=(
        State("assessment_started", "Assessment started"),
        State("assessed", "Assessment complete"),
        State("decided", "Return home agreed"),
        State("returned_home", "Returned home"),
        State("post_return_review", "Reviewed after the return"),
        State("closed", "Reunification complete", final=True, secured=True),
        State("not_proceeding", "Not proceeding", final=True),
    ),
    start=Event(
        "start",
        (),
        "assessment_started",
        CASEWORK,
        label="start the reunification assessment",
        fields=(
            Field("assessment_kind", "choice", required=True, choices=ASSESSMENT_KINDS),
            Field("assessment_due", "date", label="Date the care plan sets for the assessment"),
            Field(
                "placed_before_assessment_on",
                "date",
                label="Placed with the parent before the assessment on (regulation 20)",
            ),
        ),
        guards=(_a_due_date, _placed_not_before_start),
        record_date_as="assessment_started_on",
        deadlines=(opens("reunification_assessment", _assessment_due),),
    ),
    events=(
        Event(
            "complete_assessment",
            ("assessment_started",),
            "assessed",
            CASEWORK,
            label="record the completed assessment",
            fields=(Field("summary", "text", required=True),),
            record_date_as="assessed_on",
            deadlines=(MeetDeadline("reunification_assessment"),),
        ),
        Event(
            "decide",
            ("assessed",),
            (Branch("decided", when=_returns_home), Branch("not_proceeding")),
            DECISION_MAKER,
            label="record the nominated officer's decision",
            fields=(
                Field("decision", "choice", required=True, choices=DECISIONS),
                Field("reason", "text", required=True),
            ),
            record_date_as="decided_on",
        ),
        Event(
            "return_home",
            ("decided",),
            "returned_home",
            CASEWORK,
            label="record the return home",
            guards=(not_before_recorded("decided_on", "decision"),),
            record_date_as="returned_home_on",
            deadlines=(
                opens("post_return_review", months_after("returned_home_on", REVIEW_MONTHS)),
            ),
        ),
        Event(
            "hold_post_return_review",
            ("returned_home",),
            "post_return_review",
            (*CASEWORK, IRO),
            label="record the review after the return",
            fields=(Field("notes", "text"),),
            guards=(not_before_recorded("returned_home_on", "return home"),),
            record_date_as="post_return_review_on",
            deadlines=(MeetDeadline("post_return_review"),),
        ),
        Event(
            "close",
            ("post_return_review",),
            "closed",
            CASEWORK,
            label="close the reunification plan",
            record_date_as="closed_on",
        ),
        Event(
            "stop",
            ("*",),
            "not_proceeding",
            CASEWORK,
            label="record that the return home is not going ahead",
            fields=(Field("reason", "text", required=True),),
            record_date_as="stopped_on",
        ),
    ),
)
