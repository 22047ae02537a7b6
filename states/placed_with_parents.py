"""Placement with parents under a care order: reviewed every 3 months until discharge.

Placements over 12 months are flagged for drift scrutiny (the Wirral and Sefton ToRs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from states.deadline_kinds import opens
from states.roles import CASEWORK, IRO
from states.rules import months_after, not_before_recorded
from workflow.calendar import add_months
from workflow.definition import (
    ChildFacts,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

REVIEW_MONTHS = 3
DRIFT_MONTHS = 12
DISCHARGE_OUTCOMES = ("supervision_order", "no_order", "sgo", "cao")
_OPEN = ("placed", "discharge_planned", "discharge_applied")


def measures(data: Mapping[str, Any], child: ChildFacts, as_of: date) -> dict[str, Any]:
    """How long the child has been (or was) placed, and whether that calls for drift scrutiny.

    ``as_of`` is the day the journey closed once it has: an ended placement is not drifting.
    """
    placed = date.fromisoformat(data["placed_on"])
    ended = "discharged_on" in data or "placement_ended_on" in data
    return {
        "placed_days": (as_of - placed).days,
        "drift_flag": not ended and as_of > add_months(placed, DRIFT_MONTHS),
    }


DEFINITION = JourneyDefinition(
    type="placed_with_parents",
    version=1,
    title="Placed with parents",
    description="Placement with parents under a care order, reviewed 3-monthly to discharge.",
    measures=measures,
    states=(
        State("placed", "Placed with parents"),
        State("discharge_planned", "Discharge of the care order planned"),
        State("discharge_applied", "Discharge applied for"),
        State("discharged", "Care order discharged", final=True, secured=True),
        State("placement_ended", "Placement ended", final=True),
    ),
    start=Event(
        "start",
        (),
        "placed",
        CASEWORK,
        label="record the placement with parents",
        record_date_as="placed_on",
        deadlines=(
            opens("pwp_review", months_after("placed_on", REVIEW_MONTHS)),
            opens("pwp_drift_scrutiny", months_after("placed_on", DRIFT_MONTHS)),
        ),
    ),
    events=(
        Event(
            "hold_review",
            _OPEN,
            None,
            (*CASEWORK, IRO),
            label="record the 3-monthly review",
            fields=(Field("notes", "text"),),
            guards=(not_before_recorded("last_review_on", "previous review"),),
            record_date_as="last_review_on",
            deadlines=(
                MeetDeadline("pwp_review"),
                opens("pwp_review", months_after("last_review_on", REVIEW_MONTHS)),
            ),
        ),
        Event(
            "plan_discharge",
            ("placed",),
            "discharge_planned",
            CASEWORK,
            label="plan discharge of the care order",
            record_date_as="discharge_planned_on",
        ),
        Event(
            "apply_for_discharge",
            ("discharge_planned",),
            "discharge_applied",
            CASEWORK,
            label="record the discharge application",
            record_date_as="discharge_applied_on",
        ),
        Event(
            "discharge",
            ("discharge_applied",),
            "discharged",
            CASEWORK,
            label="record the discharge",
            fields=(Field("outcome", "choice", required=True, choices=DISCHARGE_OUTCOMES),),
            record_date_as="discharged_on",
        ),
        Event(
            "end_placement",
            ("*",),
            "placement_ended",
            CASEWORK,
            label="record the end of the placement",
            fields=(Field("reason", "text", required=True),),
            record_date_as="placement_ended_on",
        ),
    ),
)
