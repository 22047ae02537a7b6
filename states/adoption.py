"""Adoption tracking, from a plan of adoption being considered to the adoption order.

Timeliness (adoption scorecard thresholds): A1, becoming looked after to moving in with the
adoptive family, 426 days; A2, placement order to the ADM's match decision, 121 days.
An adoption application may not be made until the child has lived with the adopters for
10 weeks (Adoption and Children Act 2002, s.42(2)).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from states.deadline_kinds import opens
from states.roles import ADM, CASEWORK
from workflow.definition import (
    ChildFacts,
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    State,
)

A1_DAYS = 426
A2_DAYS = 121
LIVED_WITH_ADOPTERS_BEFORE_APPLICATION = timedelta(weeks=10)


def _a1_due(ctx: Context) -> date | None:
    since = ctx.child.looked_after_since
    return None if since is None else since + timedelta(days=A1_DAYS)


def _a2_due(ctx: Context) -> date | None:
    order = ctx.date_of("placement_order_on")
    return None if order is None else order + timedelta(days=A2_DAYS)


def _ten_weeks_with_adopters(ctx: Context) -> str | None:
    placed = ctx.date_of("placed_on")
    if placed is None:
        return "The date the child moved in with the adopters is not recorded."
    earliest = placed + LIVED_WITH_ADOPTERS_BEFORE_APPLICATION
    if ctx.occurred_on < earliest:
        lived = (ctx.occurred_on - placed).days
        return (
            f"The child has lived with the adopters for {lived} days; an adoption application "
            f"cannot be made before 10 weeks, on or after {earliest.isoformat()}."
        )
    return None


def measures(data: Mapping[str, Any], child: ChildFacts, as_of: date) -> dict[str, Any]:
    """A1 and A2 in days (so far, if not yet reached) against their thresholds."""
    out: dict[str, Any] = {}
    if child.looked_after_since:
        end = date.fromisoformat(data["placed_on"]) if data.get("placed_on") else as_of
        days = (end - child.looked_after_since).days
        out["A1"] = {
            "days": days,
            "threshold": A1_DAYS,
            "complete": "placed_on" in data,
            "within_threshold": days <= A1_DAYS,
        }
    if data.get("placement_order_on"):
        start = date.fromisoformat(data["placement_order_on"])
        end = (
            date.fromisoformat(data["match_approved_on"])
            if data.get("match_approved_on")
            else as_of
        )
        days = (end - start).days
        out["A2"] = {
            "days": days,
            "threshold": A2_DAYS,
            "complete": "match_approved_on" in data,
            "within_threshold": days <= A2_DAYS,
        }
    return out


_REASON = Field("reason", "text", required=True)

DEFINITION = JourneyDefinition(
    type="adoption",
    version=1,
    title="Adoption",
    description="Adoption tracking from plan to adoption order, with A1 and A2 timeliness.",
    measures=measures,
    states=(
        State("plan_considered", "Adoption plan being considered"),
        State("raa_linked", "Linked with the regional adoption agency; family finding"),
        State("cpr_complete", "Child Permanence Report complete"),
        State("sbpfa_decided", "ADM: should be placed for adoption"),
        State("placement_order_granted", "Placement order granted"),
        State("match_proposed", "Match proposed"),
        State("match_approved", "Match approved by the ADM"),
        State("placed", "Living with the adoptive family"),
        State("application_lodged", "Adoption order applied for"),
        State("adopted", "Adopted", final=True, secured=True),
        State("closed", "Adoption plan changed", final=True),
    ),
    start=Event(
        "start",
        (),
        "plan_considered",
        CASEWORK,
        label="start adoption tracking",
        deadlines=(opens("a1_moved_in", _a1_due),),
    ),
    events=(
        Event(
            "link_raa",
            ("plan_considered",),
            "raa_linked",
            CASEWORK,
            label="link with the regional adoption agency",
            fields=(Field("raa", "string", required=True, label="Regional adoption agency"),),
            record_date_as="raa_linked_on",
        ),
        Event(
            "complete_cpr",
            ("raa_linked",),
            "cpr_complete",
            CASEWORK,
            label="complete the Child Permanence Report",
            record_date_as="cpr_completed_on",
        ),
        Event(
            "decide_sbpfa",
            ("cpr_complete",),
            "sbpfa_decided",
            (ADM,),
            label="decide the child should be placed for adoption",
            fields=(Field("notes", "text"),),
            record_date_as="sbpfa_decided_on",
        ),
        Event(
            "grant_placement_order",
            ("sbpfa_decided",),
            "placement_order_granted",
            CASEWORK,
            label="record the placement order",
            fields=(Field("court", "string"),),
            record_date_as="placement_order_on",
            deadlines=(opens("a2_match_decision", _a2_due),),
        ),
        Event(
            "propose_match",
            ("placement_order_granted",),
            "match_proposed",
            CASEWORK,
            label="propose a match",
            fields=(Field("adopters_reference", "string", required=True),),
            record_date_as="match_proposed_on",
        ),
        Event(
            "reject_match",
            ("match_proposed",),
            "placement_order_granted",
            (ADM, *CASEWORK),
            label="reject the proposed match",
            fields=(_REASON,),
        ),
        Event(
            "approve_match",
            ("match_proposed",),
            "match_approved",
            (ADM,),
            label="approve the match",
            record_date_as="match_approved_on",
            deadlines=(MeetDeadline("a2_match_decision"),),
        ),
        Event(
            "move_in",
            ("match_approved",),
            "placed",
            CASEWORK,
            label="record the child moving in with the adopters",
            record_date_as="placed_on",
            deadlines=(MeetDeadline("a1_moved_in"),),
        ),
        Event(
            "lodge_application",
            ("placed",),
            "application_lodged",
            CASEWORK,
            label="record the adoption application",
            guards=(_ten_weeks_with_adopters,),
            record_date_as="application_lodged_on",
        ),
        Event(
            "grant_adoption_order",
            ("application_lodged",),
            "adopted",
            CASEWORK,
            label="record the adoption order",
            record_date_as="adoption_order_on",
        ),
        Event(
            "change_plan",
            ("*",),
            "closed",
            CASEWORK,
            label="change the plan away from adoption",
            fields=(_REASON,),
        ),
    ),
)
