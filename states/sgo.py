"""Special guardianship: the support plan and its sign-off, to the order.

Who may sign off depends on the additional funding asked for above the means-tested
assessment (the scheme of delegation: its limits are configuration, see :func:`delegation`).
Additional funding needs three quotes before it can be approved, except for support inside
a commissioned placement. Prospective special guardians give feedback on the plan before it
goes to court.
"""

from __future__ import annotations

from datetime import date

from states.deadline_kinds import opens
from states.roles import CASEWORK, PANEL_CHAIR, SERVICE_DIRECTOR, SERVICE_MANAGER, TEAM_MANAGER
from workflow.definition import (
    Bands,
    Branch,
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

REQUIRED_QUOTES = 3
# The name the scheme of delegation goes by in the policy (and a panel's funding scheme).
DELEGATION_SCHEME = "sgo"
SIGNERS = (TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR)

_PLAN_FIELDS = (
    Field("means_tested_amount", "decimal", minimum=0, label="Means-tested allowance (£/year)"),
    Field(
        "additional_funding",
        "decimal",
        required=True,
        minimum=0,
        label="Additional funding above the means-tested assessment (£/year)",
    ),
    Field("quotes_received", "integer", minimum=0, label="Quotes received"),
    Field("commissioned_placement", "boolean", label="Support inside a commissioned placement"),
)


def _amount(ctx: Context) -> float:
    return float(ctx.get("additional_funding") or 0)


def signers_for(ctx: Context) -> tuple[str, ...]:
    """The roles the scheme of delegation allows to sign off this plan's funding."""
    return ctx.policy.approvers(DELEGATION_SCHEME, _amount(ctx))


def delegation(team_manager_limit: float, service_manager_limit: float) -> Bands:
    """The SGO scheme of delegation with the configured limits: a team manager signs off up
    to the first, a service manager up to the second, the service director above."""
    return (
        (team_manager_limit, (TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR)),
        (service_manager_limit, (SERVICE_MANAGER, SERVICE_DIRECTOR)),
        (None, (SERVICE_DIRECTOR,)),
    )


def _within_delegation(ctx: Context) -> str | None:
    allowed = signers_for(ctx)
    if ctx.actor_roles.isdisjoint(allowed):
        return (
            f"Additional funding of £{_amount(ctx):,.2f} must be signed off by "
            f"{' or '.join(allowed) or 'nobody'} under the scheme of delegation."
        )
    return None


def _three_quotes(ctx: Context) -> str | None:
    if _amount(ctx) <= 0 or ctx.get("commissioned_placement"):
        return None
    quotes = int(ctx.get("quotes_received") or 0)
    if quotes < REQUIRED_QUOTES:
        return (
            f"Additional funding needs {REQUIRED_QUOTES} quotes before it can be approved; "
            f"{quotes} received."
        )
    return None


# The quotes and the commissioned placement as the sign-off gives them. At panel the source
# is the funding form in the pack (already checked there): the panel's decision passes its
# count here, so the plan's own "quotes received" is not entered a second time.
SIGN_OFF_FIELDS = (
    Field("quotes_received", "integer", minimum=0, label="Quotes received"),
    Field("commissioned_placement", "boolean", label="Support inside a commissioned placement"),
)

# What another journey funded under this scheme of delegation reuses (child arrangements
# orders): the plan's funding fields and the sign-off rules, kept here in one place.
PLAN_FIELDS = _PLAN_FIELDS
FUNDING_GUARDS = (_within_delegation, _three_quotes)


def _asks_for_changes(ctx: Context) -> bool:
    return bool(ctx.event_data.get("asks_for_changes"))


def _filing_due(ctx: Context) -> date | None:
    return ctx.date_of("court_filing_due")


DEFINITION = JourneyDefinition(
    type="sgo",
    version=1,
    title="Special guardianship support plan",
    description="SGO assessment and support plan, signed off within the scheme of delegation.",
    states=(
        State("proposed", "Special guardianship proposed"),
        State("assessment_in_progress", "Assessment in progress"),
        State("support_plan_drafted", "Support plan drafted"),
        State("awaiting_panel", "Awaiting panel sign-off"),
        State("returned", "Returned for amendment"),
        State("signed_off", "Support plan signed off"),
        State("shared_with_carers", "Shared with the prospective special guardians"),
        State("submitted_to_court", "Submitted to court"),
        State("order_made", "Special guardianship order made", final=True, secured=True),
        State("not_made", "Order not made", final=True),
        State("withdrawn", "Withdrawn", final=True),
    ),
    start=Event(
        "start",
        (),
        "proposed",
        CASEWORK,
        label="propose special guardianship",
        fields=(
            Field("carers_reference", "string"),
            Field("court_filing_due", "date", label="Date the court expects the plan"),
        ),
        deadlines=(opens("sgo_court_filing", _filing_due),),
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
            fields=_PLAN_FIELDS,
            record_date_as="plan_drafted_on",
        ),
        Event(
            "submit_to_panel",
            ("support_plan_drafted",),
            "awaiting_panel",
            CASEWORK,
            label="submit the plan for sign-off",
            record_date_as="submitted_to_panel_on",
        ),
        Event(
            "sign_off",
            ("awaiting_panel",),
            "signed_off",
            SIGNERS,
            label="sign off the support plan",
            guards=(_within_delegation, _three_quotes),
            fields=SIGN_OFF_FIELDS,
            # A preset's scheme of delegation names who signs off (Wirral: the chair, as
            # the panel, for a plan that costs nothing); SIGNERS is the shared default.
            roles_scheme=DELEGATION_SCHEME,
            record_date_as="signed_off_on",
        ),
        Event(
            "return_for_amendment",
            ("awaiting_panel",),
            "returned",
            (*SIGNERS, PANEL_CHAIR),
            label="return the plan for amendment",
            fields=(Field("reason", "text", required=True),),
        ),
        Event(
            "amend_plan",
            ("returned",),
            "support_plan_drafted",
            CASEWORK,
            label="amend the support plan",
            fields=_PLAN_FIELDS,
        ),
        # Torbay: the prospective special guardians' feedback comes before final submission;
        # feedback asking for changes returns the plan for amendment.
        Event(
            "record_carers_feedback",
            ("support_plan_drafted", "awaiting_panel"),
            (
                Branch("returned", when=_asks_for_changes),
                Branch("support_plan_drafted", source="support_plan_drafted"),
                Branch("awaiting_panel", source="awaiting_panel"),
            ),
            CASEWORK,
            label="record the prospective special guardians' feedback",
            fields=(
                Field("carers_feedback", "text", required=True),
                Field("asks_for_changes", "boolean", label="The feedback asks for changes"),
            ),
            record_date_as="carers_feedback_on",
        ),
        Event(
            "share_with_carers",
            ("signed_off",),
            "shared_with_carers",
            CASEWORK,
            label="record the carers' feedback on the plan",
            fields=(Field("carers_feedback", "text", required=True),),
            record_date_as="shared_with_carers_on",
        ),
        Event(
            "submit_to_court",
            ("shared_with_carers",),
            "submitted_to_court",
            CASEWORK,
            label="submit the plan to court",
            record_date_as="submitted_to_court_on",
            deadlines=(MeetDeadline("sgo_court_filing"),),
        ),
        Event(
            "make_order",
            ("submitted_to_court",),
            "order_made",
            CASEWORK,
            label="record the special guardianship order",
            record_date_as="order_made_on",
        ),
        Event(
            "refuse_order",
            ("submitted_to_court",),
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
            label="withdraw the special guardianship plan",
            fields=(Field("reason", "text", required=True),),
        ),
    ),
)
