"""Care proceedings: from issue to a final order within 26 weeks (Children Act 1989, s.32).

The court may extend the timetable by up to 8 weeks at a time, with a reason. Court
directions (expert assessments and the like) are tracked as dated items. An interim care
order puts the child on the panel tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from states.deadline_kinds import opens
from states.roles import CASEWORK
from workflow.definition import (
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

STATUTORY_WEEKS = 26
MAX_EXTENSION_WEEKS = 8
OUTCOMES = (
    "care_order",
    "placement_order",
    "sgo",
    "cao",
    "supervision_order",
    "no_order",
    "withdrawn",
)
CARE_PLANS = (
    "adoption",
    "long_term_fostering",
    "placed_with_parents",
    "special_guardianship",
    "return_home",
    "residential",
)
_FOLLOW_ON_BY_PLAN = {
    "adoption": "adoption",
    "long_term_fostering": "long_term_fostering",
    "placed_with_parents": "placed_with_parents",
    "special_guardianship": "sgo",
}


def _timetable_end(ctx: Context) -> date | None:
    issued = ctx.date_of("issued_on")
    if issued is None:
        return None
    weeks = STATUTORY_WEEKS + int(ctx.journey_data.get("extension_weeks", 0))
    return issued + timedelta(weeks=weeks)


def _extend(ctx: Context) -> dict[str, Any]:
    weeks = int(ctx.event_data["weeks"])
    extensions = [
        *ctx.journey_data.get("extensions", []),
        {"weeks": weeks, "on": ctx.occurred_on.isoformat()},
    ]
    return {
        "extension_weeks": int(ctx.journey_data.get("extension_weeks", 0)) + weeks,
        "extensions": extensions,
    }


def _add_direction(ctx: Context) -> dict[str, Any]:
    directions = list(ctx.journey_data.get("directions", []))
    directions.append(
        {
            "ref": str(len(directions) + 1),
            "direction": ctx.event_data["direction"],
            "due_on": ctx.event_data["due_on"].isoformat(),
            "made_on": ctx.occurred_on.isoformat(),
            "completed_on": None,
        }
    )
    return {"directions": directions}


def _latest_direction_ref(ctx: Context) -> str:
    return str(ctx.journey_data["directions"][-1]["ref"])


def _latest_direction_due(ctx: Context) -> date | None:
    return date.fromisoformat(ctx.journey_data["directions"][-1]["due_on"])


def _complete_direction(ctx: Context) -> dict[str, Any]:
    ref = ctx.event_data["direction_ref"]
    directions = [
        {**d, "completed_on": ctx.occurred_on.isoformat()} if d["ref"] == ref else d
        for d in ctx.journey_data.get("directions", [])
    ]
    return {"directions": directions}


def _direction_is_open(ctx: Context) -> str | None:
    ref = ctx.event_data.get("direction_ref")
    if ref is None:
        return None
    for d in ctx.journey_data.get("directions", []):
        if d["ref"] == ref:
            if d["completed_on"] is not None:
                return f"Direction {ref} is already complete."
            if ctx.occurred_on < date.fromisoformat(d["made_on"]):
                return f"Direction {ref} cannot be completed before it was made ({d['made_on']})."
            return None
    return f"There is no court direction {ref}."


def _direction_due_after_made(ctx: Context) -> str | None:
    due = ctx.event_data.get("due_on")
    if due is not None and due < ctx.occurred_on:
        return "A court direction cannot be due before the date it was made."
    return None


def _hearing_not_in_past(ctx: Context) -> str | None:
    hearing = ctx.event_data.get("hearing_date")
    if hearing is not None and hearing < ctx.occurred_on:
        return "The final hearing date cannot be before the date it was listed."
    return None


def suggest_next(data: Mapping[str, Any]) -> str | None:
    """The follow-on journey a conclusion points to (care order + plan of adoption -> adoption)."""
    outcome = data.get("outcome")
    if outcome == "placement_order":
        return "adoption"
    if outcome == "care_order":
        return _FOLLOW_ON_BY_PLAN.get(str(data.get("care_plan")))
    return None


DEFINITION = JourneyDefinition(
    type="care_proceedings",
    version=1,
    title="Care proceedings",
    description="Proceedings to a final order within 26 weeks, with extensions and directions.",
    suggest_next=suggest_next,
    states=(
        State("issued", "Proceedings issued"),
        State("ico_made", "Interim care order made"),
        State("final_evidence_filed", "Final evidence filed"),
        State("final_hearing_listed", "Final hearing listed"),
        State("concluded", "Proceedings concluded", final=True),
    ),
    start=Event(
        "start",
        (),
        "issued",
        CASEWORK,
        label="record that proceedings were issued",
        fields=(Field("court", "string"), Field("case_number", "string")),
        record_date_as="issued_on",
        deadlines=(opens("proceedings_26_weeks", _timetable_end),),
    ),
    events=(
        Event(
            "make_ico",
            ("issued",),
            "ico_made",
            CASEWORK,
            label="record the interim care order",
            record_date_as="ico_made_on",
        ),
        Event(
            "file_final_evidence",
            ("issued", "ico_made"),
            "final_evidence_filed",
            CASEWORK,
            label="record that final evidence was filed",
            record_date_as="final_evidence_filed_on",
        ),
        Event(
            "list_final_hearing",
            ("final_evidence_filed",),
            "final_hearing_listed",
            CASEWORK,
            label="record the final hearing date",
            fields=(Field("hearing_date", "date", required=True),),
            guards=(_hearing_not_in_past,),
            deadlines=(opens("final_hearing", lambda ctx: ctx.date_of("hearing_date")),),
        ),
        Event(
            "conclude",
            ("*",),
            "concluded",
            CASEWORK,
            label="record the conclusion of proceedings",
            fields=(
                Field("outcome", "choice", required=True, choices=OUTCOMES),
                Field("care_plan", "choice", choices=CARE_PLANS),
            ),
            record_date_as="concluded_on",
            deadlines=(MeetDeadline("proceedings_26_weeks"), MeetDeadline("final_hearing")),
        ),
        Event(
            "extend_timetable",
            ("*",),
            None,
            CASEWORK,
            label="record an extension of the timetable",
            fields=(
                Field("weeks", "integer", required=True, minimum=1, maximum=MAX_EXTENSION_WEEKS),
                Field("reason", "text", required=True),
            ),
            facts=_extend,
            deadlines=(opens("proceedings_26_weeks", _timetable_end),),
        ),
        Event(
            "add_direction",
            ("*",),
            None,
            CASEWORK,
            label="add a court direction",
            fields=(
                Field("direction", "text", required=True),
                Field("due_on", "date", required=True),
            ),
            guards=(_direction_due_after_made,),
            facts=_add_direction,
            deadlines=(opens("court_direction", _latest_direction_due, ref=_latest_direction_ref),),
        ),
        Event(
            "complete_direction",
            ("*",),
            None,
            CASEWORK,
            label="mark a court direction complete",
            fields=(Field("direction_ref", "string", required=True),),
            guards=(_direction_is_open,),
            facts=_complete_direction,
            deadlines=(
                MeetDeadline(
                    "court_direction", ref=lambda ctx: str(ctx.event_data["direction_ref"])
                ),
            ),
        ),
    ),
)
