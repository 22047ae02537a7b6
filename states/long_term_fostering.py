"""Long-term fostering: matching a child with long-term carers, to the ADM's approval.

A pack goes to panel only when the checklist for the placement kind is complete (documents
A to C of the Leicestershire ToR) and it is in by the panel's pack deadline.
"""

from __future__ import annotations

from datetime import timedelta

from states.checklists import BY_PLACEMENT_KIND, COMPLETE_IN_WORDS, MAINSTREAM, Checklist
from states.roles import ADM, CASEWORK, PANEL_CHAIR
from workflow.definition import Context, Event, Field, JourneyDefinition, State

PLACEMENT_KINDS = tuple(BY_PLACEMENT_KIND)
_ALL_ITEMS = tuple(dict.fromkeys(k for c in BY_PLACEMENT_KIND.values() for k in c.item_keys))


def _checklist(ctx: Context) -> Checklist:
    return BY_PLACEMENT_KIND.get(str(ctx.journey_data.get("placement_kind")), MAINSTREAM)


def _checklist_complete(ctx: Context) -> str | None:
    if ctx.preview:
        return None
    checklist = _checklist(ctx)
    answers = ctx.event_data.get("checklist") or {}
    unknown = [k for k in answers if k not in checklist.item_keys]
    if unknown:
        return f"Checklist {checklist.key} has no items {', '.join(unknown)}."
    missing = checklist.missing(answers)
    if missing:
        return (
            f"Checklist {checklist.key} ({checklist.title}) is incomplete: "
            f"{', '.join(missing)} not answered {COMPLETE_IN_WORDS}."
        )
    return None


def _pack_on_time(ctx: Context) -> str | None:
    panel_date = ctx.event_data.get("panel_date")
    if panel_date is None:
        return None
    due = panel_date - timedelta(days=ctx.policy.pack_lead_days)
    if ctx.occurred_on > due:
        return (
            f"The pack is late: for the panel on {panel_date.isoformat()} it was due by "
            f"{due.isoformat()}; offer it to the next panel."
        )
    return None


_REASON = Field("reason", "text", required=True)

DEFINITION = JourneyDefinition(
    type="long_term_fostering",
    version=1,
    title="Long-term fostering match",
    description="Long-term match through the matching meeting, the panel and the ADM.",
    states=(
        State("plan_agreed", "Long-term fostering plan agreed"),
        State("matching_meeting_held", "Matching meeting held"),
        State("pack_submitted", "Pack submitted to panel"),
        State("deferred", "Deferred by panel"),
        State("panel_recommended", "Recommended by panel"),
        State("approved", "Approved by the ADM", final=True, secured=True),
        State("disrupted", "Placement disrupted", final=True),
        State("closed", "Closed", final=True),
    ),
    start=Event(
        "start",
        (),
        "plan_agreed",
        CASEWORK,
        label="record the long-term fostering plan",
        fields=(Field("placement_kind", "choice", required=True, choices=PLACEMENT_KINDS),),
    ),
    events=(
        Event(
            "hold_matching_meeting",
            ("plan_agreed",),
            "matching_meeting_held",
            CASEWORK,
            label="record the matching meeting",
            fields=(Field("carers_reference", "string"),),
            record_date_as="matching_meeting_on",
        ),
        Event(
            "submit_pack",
            ("matching_meeting_held", "deferred"),
            "pack_submitted",
            CASEWORK,
            label="submit the pack to panel",
            fields=(
                Field("panel_date", "date", required=True),
                Field("checklist", "checklist", required=True, choices=_ALL_ITEMS),
            ),
            guards=(_checklist_complete, _pack_on_time),
            record_date_as="pack_submitted_on",
        ),
        Event(
            "recommend",
            ("pack_submitted",),
            "panel_recommended",
            (PANEL_CHAIR,),
            label="record the panel's recommendation",
            fields=(Field("recommendation", "text"),),
            record_date_as="recommended_on",
        ),
        Event(
            "defer",
            ("pack_submitted",),
            "deferred",
            (PANEL_CHAIR,),
            label="defer the decision",
            fields=(_REASON,),
        ),
        Event(
            "approve",
            ("panel_recommended",),
            "approved",
            (ADM,),
            label="approve the long-term match",
            record_date_as="approved_on",
        ),
        Event(
            "disrupt",
            ("*",),
            "disrupted",
            CASEWORK,
            label="record a disruption",
            fields=(_REASON,),
        ),
        Event("close", ("*",), "closed", CASEWORK, label="close the journey", fields=(_REASON,)),
    ),
)
