"""Permanence planning: every child in care needs a permanence plan by the second review.

Looked-after reviews: the first within 20 working days of becoming looked after, the second
within 3 months of the first, then at intervals of no more than 6 months (Care Planning,
Placement and Case Review (England) Regulations 2010, reg 33).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from states.deadline_kinds import opens
from states.roles import CASEWORK, IRO, PANEL_CHAIR
from workflow.calendar import add_months, add_working_days
from workflow.definition import (
    Branch,
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

PLANS = (
    "return_home_family_network",
    "adoption",
    "special_guardianship",
    "child_arrangements_order",
    "long_term_fostering",
    "residential",
    "placed_with_parents",
)
CEASED_REASONS = (
    "returned_home",
    "adopted",
    "special_guardianship_order",
    "child_arrangements_order",
    "turned_18",
    "transferred",
    "other",
)

_OPEN = ("awaiting_first_review", "awaiting_second_review", "plan_required", "plan_recorded")


def _after_review(ctx: Context) -> dict[str, Any]:
    held = int(ctx.journey_data.get("reviews_held", 0)) + 1
    facts: dict[str, Any] = {"reviews_held": held, "last_review_on": ctx.occurred_on.isoformat()}
    if held == 1:
        facts["first_review_on"] = ctx.occurred_on.isoformat()
    return facts


def _second_review_due(ctx: Context) -> date | None:
    if ctx.journey_data.get("reviews_held") != 1:
        return None
    return add_months(ctx.occurred_on, 3)


def _later_review_due(ctx: Context) -> date | None:
    if int(ctx.journey_data.get("reviews_held", 0)) < 2:
        return None
    return add_months(ctx.occurred_on, 6)


def _plan_due(ctx: Context) -> date | None:
    """By the second review: its statutory date, or the day it was held if that was earlier."""
    if ctx.journey_data.get("primary_plan"):
        return None
    first = ctx.date_of("first_review_on")
    if first is None:
        return None
    statutory = add_months(first, 3)
    if int(ctx.journey_data.get("reviews_held", 0)) >= 2:
        return min(statutory, ctx.occurred_on)
    return statutory


def _review_not_before_previous(ctx: Context) -> str | None:
    previous = ctx.journey_data.get("last_review_on") or ctx.journey_data.get("looked_after_since")
    if previous and ctx.occurred_on < date.fromisoformat(previous):
        return f"A review cannot be dated before {previous} (the previous review or care start)."
    return None


def _contingency_differs(ctx: Context) -> str | None:
    primary, contingency = (
        ctx.event_data.get("primary_plan"),
        ctx.event_data.get("contingency_plan"),
    )
    if primary and contingency and primary == contingency:
        return "The contingency plan must differ from the primary plan."
    return None


def _start_facts(ctx: Context) -> dict[str, Any]:
    return {"looked_after_since": ctx.occurred_on.isoformat(), "reviews_held": 0}


def _first_review_due(ctx: Context) -> date | None:
    return add_working_days(ctx.occurred_on, 20)


DEFINITION = JourneyDefinition(
    type="permanence_planning",
    version=1,
    title="Permanence planning",
    description="From becoming looked after to a permanence plan recorded by the second review.",
    states=(
        State("awaiting_first_review", "Awaiting first looked-after review"),
        State("awaiting_second_review", "Awaiting second looked-after review"),
        State("plan_required", "Permanence plan overdue"),
        State("plan_recorded", "Permanence plan recorded"),
        State("ceased", "No longer looked after", final=True),
    ),
    start=Event(
        "start",
        (),
        "awaiting_first_review",
        CASEWORK,
        label="start permanence planning",
        facts=_start_facts,
        deadlines=(opens("first_review", _first_review_due),),
    ),
    events=(
        Event(
            "hold_review",
            _OPEN,
            (
                Branch("awaiting_second_review", source="awaiting_first_review"),
                Branch("plan_required", source="awaiting_second_review"),
                Branch("plan_required", source="plan_required"),
                Branch("plan_recorded", source="plan_recorded"),
            ),
            (*CASEWORK, IRO),
            label="record a looked-after review",
            fields=(Field("notes", "text"),),
            guards=(_review_not_before_previous,),
            facts=_after_review,
            deadlines=(
                MeetDeadline("first_review"),
                MeetDeadline("second_review"),
                MeetDeadline("review"),
                opens("second_review", _second_review_due),
                opens("review", _later_review_due),
                opens("permanence_plan", _plan_due),
            ),
        ),
        Event(
            "record_permanence_plan",
            _OPEN,
            "plan_recorded",
            # The chair records a plan the panel approves (CYPF ToR: the meeting approves
            # permanence plans; issue 14 item 6).
            (*CASEWORK, PANEL_CHAIR),
            label="record the permanence plan",
            fields=(
                Field("primary_plan", "choice", required=True, choices=PLANS),
                Field("contingency_plan", "choice", required=True, choices=PLANS),
                Field("notes", "text"),
            ),
            guards=(_contingency_differs,),
            record_date_as="plan_recorded_on",
            deadlines=(MeetDeadline("permanence_plan"),),
        ),
        Event(
            "cease_looked_after",
            ("*",),
            "ceased",
            CASEWORK,
            label="record that the child is no longer looked after",
            fields=(Field("reason", "choice", required=True, choices=CEASED_REASONS),),
            record_date_as="ceased_on",
        ),
    ),
)
