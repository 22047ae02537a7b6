"""Temporary approval of a connected person as foster carer (Care Planning, Placement and Case
Review (England) Regulations 2010, regulations 24 and 25).

A connected person (a relative, friend or other person connected with the child) may be
approved temporarily for up to 16 weeks from the child's placement while they are assessed
as a foster carer (reg 24). The fostering service's nominated officer may extend that once,
by up to 8 more weeks, with a reason, when the 16 weeks would end before the full
assessment has been decided (reg 25). The full assessment goes to the fostering panel and
the agency decision maker approves or not; if the child moves, the approval ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from states.deadline_kinds import opens
from states.roles import CASEWORK, DECISION_MAKER
from workflow.definition import Context, Event, Field, JourneyDefinition, MeetDeadline, State
from workflow.fields import to_json

TEMPORARY_WEEKS = 16  # reg 24(2)
MAX_EXTENSION_WEEKS = 8  # reg 25(2): once only
DEADLINE = "reg24_temporary_approval"
_OPEN = ("temporarily_approved", "extended", "at_fostering_panel")


def _expires(ctx: Context) -> date | None:
    """The day the temporary approval ends as recorded: 16 weeks from placement (calendar
    weeks: a bank holiday inside them moves nothing), plus the extension if one was made."""
    return ctx.date_of("approval_expires_on")


def _start_facts(ctx: Context) -> dict[str, Any]:
    expires = ctx.occurred_on + timedelta(weeks=TEMPORARY_WEEKS)
    return {
        **to_json(ctx.event_data),
        "placed_on": ctx.occurred_on.isoformat(),
        "approval_expires_on": expires.isoformat(),
    }


def _once_only(ctx: Context) -> str | None:
    if ctx.journey_data.get("extended_on"):
        return (
            "Regulation 25 allows one extension only; the approval was already extended on "
            f"{ctx.journey_data['extended_on']}."
        )
    return None


def _before_expiry(ctx: Context) -> str | None:
    expires = _expires(ctx)
    if expires is not None and ctx.occurred_on > expires:
        return (
            f"The temporary approval ended on {expires.isoformat()}: it can no longer be extended."
        )
    return None


def _extension_facts(ctx: Context) -> dict[str, Any]:
    weeks = int(ctx.event_data["weeks"])
    expires = _expires(ctx) or ctx.occurred_on  # the start always records it
    return {
        **to_json(ctx.event_data),
        "extended_on": ctx.occurred_on.isoformat(),
        "approval_expires_on": (expires + timedelta(weeks=weeks)).isoformat(),
    }


DEFINITION = JourneyDefinition(
    type="connected_person_approval",
    version=1,
    title="Connected person temporary approval",
    description=(
        "Regulation 24 temporary approval of a connected person as foster carer: 16 weeks, "
        "extendable once by up to 8 weeks under regulation 25, to the fostering panel."
    ),
    states=(
        State("temporarily_approved", "Temporarily approved (regulation 24)"),
        State("extended", "Approval extended (regulation 25)"),
        State("at_fostering_panel", "Full assessment at the fostering panel"),
        State("approved", "Approved as foster carer", final=True),
        State("not_approved", "Not approved", final=True),
        State("ended", "Ended: the child moved", final=True),
    ),
    start=Event(
        "start",
        (),
        "temporarily_approved",
        CASEWORK,
        label="record the placement with the connected person",
        fields=(Field("carers_reference", "string", label="Connected person's reference"),),
        facts=_start_facts,
        deadlines=(opens(DEADLINE, _expires),),
    ),
    events=(
        Event(
            "extend",
            ("temporarily_approved", "extended", "at_fostering_panel"),
            "extended",
            DECISION_MAKER,
            label="extend the temporary approval (regulation 25)",
            fields=(
                Field(
                    "weeks",
                    "integer",
                    required=True,
                    minimum=1,
                    maximum=MAX_EXTENSION_WEEKS,
                    label="Extension (weeks)",
                ),
                Field("reason", "text", required=True),
                Field("nominated_officer", "string", required=True, label="Nominated officer"),
            ),
            guards=(_once_only, _before_expiry),
            facts=_extension_facts,
            deadlines=(opens(DEADLINE, _expires),),
        ),
        Event(
            "refer_to_fostering_panel",
            ("temporarily_approved", "extended"),
            "at_fostering_panel",
            CASEWORK,
            label="refer the full assessment to the fostering panel",
            record_date_as="referred_to_panel_on",
        ),
        Event(
            "approve",
            ("at_fostering_panel",),
            "approved",
            DECISION_MAKER,
            label="approve the connected person as foster carer",
            record_date_as="approved_on",
            deadlines=(MeetDeadline(DEADLINE),),
        ),
        Event(
            "refuse_approval",
            ("at_fostering_panel",),
            "not_approved",
            DECISION_MAKER,
            label="record that the connected person is not approved",
            fields=(Field("reason", "text", required=True),),
            record_date_as="not_approved_on",
            deadlines=(MeetDeadline(DEADLINE),),
        ),
        Event(
            "end",
            _OPEN,
            "ended",
            CASEWORK,
            label="record that the child moved",
            fields=(Field("reason", "text", required=True),),
            record_date_as="ended_on",
        ),
    ),
)
