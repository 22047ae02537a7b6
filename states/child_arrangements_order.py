"""Child arrangements order: a permanence plan with the child living with a relative or
friend under a child arrangements order (Children Act 1989, section 8).

The support plan's funding is signed off under the same scheme of delegation as special
guardianship (the Wirral ToR funds SGO and CAO applications alike): the SGO journey's scheme,
its thresholds and its three-quotes rule are reused, not copied.
"""

from __future__ import annotations

from typing import Any

from states import sgo
from states.roles import CASEWORK
from workflow.definition import Context, Event, Field, JourneyDefinition, State
from workflow.fields import to_json


def _amended(ctx: Context) -> dict[str, Any]:
    # A changed plan needs its funding signing off again.
    return {**to_json(ctx.event_data), "funding_agreed_on": None}


def _funding_agreed(ctx: Context) -> str | None:
    if not ctx.journey_data.get("funding_agreed_on"):
        return "The support plan's funding must be signed off before the application is made."
    return None


DEFINITION = JourneyDefinition(
    type="child_arrangements_order",
    version=1,
    title="Child arrangements order",
    description="CAO assessment and support plan, funded under the SGO scheme of delegation.",
    states=(
        State("proposed", "Child arrangements order proposed"),
        State("assessment_in_progress", "Assessment in progress"),
        State("support_plan_drafted", "Support plan drafted"),
        State("application_made", "Application made to court"),
        State("order_made", "Child arrangements order made", final=True, secured=True),
        State("not_made", "Order not made", final=True),
        State("withdrawn", "Withdrawn", final=True),
    ),
    start=Event(
        "start",
        (),
        "proposed",
        CASEWORK,
        label="propose a child arrangements order",
        fields=(Field("carers_reference", "string"),),
    ),
    events=(
        Event(
            "start_assessment",
            ("proposed",),
            "assessment_in_progress",
            CASEWORK,
            label="start the assessment",
            record_date_as="assessment_started_on",
        ),
        Event(
            "draft_support_plan",
            ("assessment_in_progress",),
            "support_plan_drafted",
            CASEWORK,
            label="record the draft support plan",
            fields=sgo.PLAN_FIELDS,
            record_date_as="plan_drafted_on",
        ),
        Event(
            "amend_plan",
            ("support_plan_drafted",),
            None,
            CASEWORK,
            label="amend the support plan",
            fields=sgo.PLAN_FIELDS,
            facts=_amended,
        ),
        Event(
            "sign_off_funding",
            ("support_plan_drafted",),
            None,
            sgo.SIGNERS,
            label="sign off the support plan's funding",
            guards=sgo.FUNDING_GUARDS,
            fields=sgo.SIGN_OFF_FIELDS,
            record_date_as="funding_agreed_on",
        ),
        Event(
            "make_application",
            ("support_plan_drafted",),
            "application_made",
            CASEWORK,
            label="record the application to court",
            guards=(_funding_agreed,),
            record_date_as="application_made_on",
        ),
        Event(
            "make_order",
            ("application_made",),
            "order_made",
            CASEWORK,
            label="record the child arrangements order",
            record_date_as="order_made_on",
        ),
        Event(
            "refuse_order",
            ("application_made",),
            "not_made",
            CASEWORK,
            label="record that the court made no order",
            fields=(Field("reason", "text"),),
        ),
        Event(
            "withdraw",
            ("*",),
            "withdrawn",
            CASEWORK,
            label="withdraw the child arrangements plan",
            fields=(Field("reason", "text", required=True),),
        ),
    ),
)
