"""The pure engine (workflow/engine.py): ``plan_start``, ``plan_event`` and ``options`` on
small definitions built here. No database, no app: each test plans on plain data.

The definition is a made-up "application" journey, so that nothing here depends on a real
journey's rules: draft -> submitted -> approved | rejected, with an internal ``note`` event, a
``withdraw`` from anywhere, and an ``escalate`` whose destination depends on where it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pytest

from workflow.definition import (
    ANY_OPEN_STATE,
    Branch,
    CancelDeadline,
    ChildFacts,
    Context,
    Event,
    Field,
    JourneyDefinition,
    MeetDeadline,
    OpenDeadline,
    Policy,
    State,
)
from workflow.engine import (
    OCCURRED_ON,
    Actor,
    DeadlineChange,
    EventOption,
    JourneySnapshot,
    TransitionPlan,
    check_role,
    find_event,
    input_errors,
    options,
    plan_event,
    plan_start,
)
from workflow.errors import (
    EventNotAvailable,
    FieldError,
    GuardFailed,
    InvalidData,
    JourneyClosed,
    RoleNotAllowed,
    StaleVersion,
    UnknownEvent,
)
from workflow.machines import JourneyMachine

TODAY = date(2026, 3, 18)
STARTED = date(2026, 1, 5)
CHILD = ChildFacts(id=7, looked_after_since=date(2025, 12, 1), legal_status="care_order")
POLICY = Policy()
WRITER = Actor(1, frozenset({"writer"}))
APPROVER = Actor(2, frozenset({"approver"}))
BOTH = Actor(3, frozenset({"writer", "approver"}))
NOBODY = Actor(4, frozenset({"reader"}))


def _after(days: int) -> Any:
    """A date rule: ``days`` after the event's date."""
    return lambda ctx: ctx.occurred_on + timedelta(days=days)


def _needs_summary(ctx: Context) -> str | None:
    # Judges what the journey already knows, so it speaks in a preview too.
    if not ctx.journey_data.get("summary"):
        return "A summary must be recorded first."
    return None


def _needs_reason_when_late(ctx: Context) -> str | None:
    # Judges the event's own input: quiet in a preview, where there is none yet.
    if ctx.preview:
        return None
    submit_by = ctx.date_of("submit_by")
    if submit_by and ctx.occurred_on > submit_by and not ctx.event_data.get("reason"):
        return "A late submission needs a reason."
    return None


def _resubmit_by(ctx: Context) -> date | None:
    # Rules see the journey after the event: its new state and the date it just recorded.
    revised = ctx.date_of("revised_on")
    if ctx.state != "draft" or revised is None:
        return None
    return revised + timedelta(days=30)


def _approved(ctx: Context) -> bool:
    return ctx.event_data.get("verdict") == "yes"


START = Event(
    "start",
    (),
    "draft",
    ("writer",),
    fields=(Field("summary", "string"), Field("pages", "integer", minimum=1)),
    deadlines=(OpenDeadline("first_draft", _after(10), owner_role="clerk"),),
)
SUBMIT = Event(
    "submit",
    ("draft",),
    "submitted",
    ("writer",),
    label="submit the application",
    fields=(Field("decide_by", "date", required=True), Field("reason", "text")),
    guards=(_needs_summary, _needs_reason_when_late),
    deadlines=(
        MeetDeadline("first_draft"),
        OpenDeadline("decision", lambda ctx: ctx.date_of("decide_by"), owner_role="approver"),
    ),
    record_date_as="submitted_on",
)
DECIDE = Event(
    "decide",
    ("submitted",),
    # Both branches apply to a "yes": the first one listed wins.
    (Branch("approved", when=_approved), Branch("rejected", when=lambda ctx: True)),
    ("approver",),
    fields=(Field("verdict", "choice", required=True, choices=("yes", "no")),),
    deadlines=(MeetDeadline("decision"), OpenDeadline("appeal", _after(28), owner_role="clerk")),
    facts=lambda ctx: {"decided": ctx.event_data["verdict"]},
)
NOTE = Event(
    "note",
    (ANY_OPEN_STATE,),
    None,
    ("writer", "approver"),
    fields=(Field("text", "text"), Field("decide_by", "date")),
    deadlines=(
        OpenDeadline("decision", lambda ctx: ctx.event_data.get("decide_by"), owner_role="clerk"),
    ),
)
ESCALATE = Event(
    "escalate",
    ("draft", "submitted"),
    (Branch("submitted", source="draft"), Branch("approved", source="submitted")),
    ("approver",),
)
NO_WAY = Event(
    "no_way",
    ("draft",),
    (Branch("approved", when=lambda ctx: False),),
    ("writer",),
)
REVISE = Event(
    "revise",
    ("submitted",),
    "draft",
    ("writer",),
    # Meets the decision that was due, then opens a new one of the same kind: a new
    # deadline, not a move of the old one (the order of the rules matters).
    deadlines=(
        MeetDeadline("decision"),
        OpenDeadline("decision", _after(14), owner_role="clerk"),
        CancelDeadline("missing_kind"),
        OpenDeadline("resubmission", lambda ctx: _resubmit_by(ctx), owner_role="clerk"),
    ),
    record_date_as="revised_on",
)
WITHDRAW = Event(
    "withdraw",
    (ANY_OPEN_STATE,),
    "withdrawn",
    ("writer",),
    fields=(Field("outcome", "choice", choices=("withdrawn_by_family", "withdrawn_by_court")),),
    deadlines=(CancelDeadline("decision"),),
)
TAGGED = Event(
    "tag",
    (ANY_OPEN_STATE,),
    None,
    ("writer",),
    fields=(Field("item", "string", required=True),),
    deadlines=(
        OpenDeadline(
            "chase", _after(5), owner_role="clerk", ref=lambda ctx: str(ctx.event_data["item"])
        ),
        MeetDeadline("chase", ref=lambda ctx: "old-" + str(ctx.event_data["item"])),
    ),
)

DEFINITION = JourneyDefinition(
    type="application",
    version=1,
    title="Application",
    states=(
        State("draft", "Draft"),
        State("submitted", "Submitted"),
        State("approved", "Approved", final=True, secured=True),
        State("rejected", "Rejected", final=True),
        State("withdrawn", "Withdrawn", final=True),
    ),
    start=START,
    events=(SUBMIT, DECIDE, NOTE, ESCALATE, NO_WAY, REVISE, WITHDRAW, TAGGED),
)
MACHINE = JourneyMachine.build(DEFINITION)


def _journey(
    state: str = "draft",
    *,
    data: Mapping[str, Any] | None = None,
    deadlines: Mapping[tuple[str, str], date] | None = None,
    closed: bool = False,
) -> JourneySnapshot:
    return JourneySnapshot(
        state=state,
        closed=closed,
        started_on=STARTED,
        data={"summary": "Two siblings"} if data is None else data,
        child=CHILD,
        open_deadlines=deadlines or {},
    )


def _plan(
    event: str,
    journey: JourneySnapshot | None = None,
    *,
    on: date = TODAY,
    data: Mapping[str, Any] | None = None,
    actor: Actor = BOTH,
) -> TransitionPlan:
    return plan_event(
        MACHINE,
        journey or _journey(),
        event=event,
        occurred_on=on,
        data=data,
        actor=actor,
        today=TODAY,
        policy=POLICY,
    )


# -- starting ---------------------------------------------------------------------------------


def test_plan_start_enters_the_initial_state_with_its_data_and_first_deadline() -> None:
    plan = plan_start(
        MACHINE,
        started_on=STARTED,
        data={"summary": " Two siblings ", "pages": "3"},
        actor=WRITER,
        child=CHILD,
        today=TODAY,
        policy=POLICY,
    )
    assert (plan.event, plan.from_state, plan.to_state) == ("start", None, "draft")
    assert plan.occurred_on == STARTED
    assert plan.event_data == {"summary": "Two siblings", "pages": 3}
    assert plan.journey_data == {"summary": "Two siblings", "pages": 3}
    assert plan.deadline_changes == (
        DeadlineChange("open", "first_draft", "", STARTED + timedelta(days=10), owner_role="clerk"),
    )
    assert (plan.closes, plan.outcome) == (False, None)


def test_plan_start_refuses_a_role_a_future_date_and_invalid_data() -> None:
    def start(**kw: Any) -> TransitionPlan:
        args: dict[str, Any] = {
            "started_on": STARTED,
            "data": {},
            "actor": WRITER,
            "child": CHILD,
            "today": TODAY,
            "policy": POLICY,
        }
        return plan_start(MACHINE, **{**args, **kw})

    with pytest.raises(RoleNotAllowed) as role:
        start(actor=APPROVER)
    assert role.value.message == "Only writer may start."
    assert role.value.roles == ("writer",)
    with pytest.raises(InvalidData) as future:
        start(started_on=TODAY + timedelta(days=1))
    assert future.value.message == "An event cannot be future-dated."
    assert [e.code for e in future.value.field_errors] == ["in_the_future"]
    with pytest.raises(InvalidData) as invalid:
        start(data={"pages": 0, "colour": "red"})
    assert invalid.value.message == "The journey's data is not valid."
    assert invalid.value.field_errors == (
        FieldError("colour", "unknown_field", "unknown field 'colour'"),
        FieldError("pages", "too_small", "pages must be at least 1"),
    )


# -- refusals, in the order the engine checks them --------------------------------------------


def test_an_unknown_event_is_refused_with_the_events_there_are() -> None:
    for name in ("no_such_event", "start"):  # a running journey cannot be started again
        with pytest.raises(UnknownEvent) as refused:
            _plan(name)
        assert refused.value.message == f"application has no event {name!r}."
        assert refused.value.details["events"] == [e.name for e in DEFINITION.events]
        assert refused.value.status_code == 422


def test_a_closed_journey_takes_no_event() -> None:
    with pytest.raises(JourneyClosed):
        _plan("note", _journey("draft", closed=True), data={"text": "x"})
    with pytest.raises(JourneyClosed) as refused:
        _plan("note", _journey("approved", closed=True), data={"text": "x"})
    assert refused.value.body() == {
        "error": "journey_closed",
        "message": "The journey is closed (state approved); no event can be recorded.",
        "state": "approved",
        "available_events": [],
    }


def test_an_event_not_offered_in_the_state_names_those_that_are() -> None:
    with pytest.raises(EventNotAvailable) as refused:
        _plan("decide", _journey("draft"), data={"verdict": "yes"})
    assert refused.value.message == "decide is not available in state draft."
    assert refused.value.details == {
        "state": "draft",
        "available_events": ["submit", "note", "escalate", "no_way", "withdraw", "tag"],
    }
    assert refused.value.status_code == 409


def test_a_role_the_event_does_not_allow_is_refused_naming_who_may() -> None:
    with pytest.raises(RoleNotAllowed) as refused:
        _plan("submit", actor=APPROVER, data={"decide_by": "2026-04-01"})
    assert refused.value.message == "Only writer may submit the application."
    assert refused.value.roles == ("writer",)
    # The API's body is what it was: the roles are for Python callers only.
    assert refused.value.body() == {
        "error": "role_not_allowed",
        "message": "Only writer may submit the application.",
    }
    with pytest.raises(RoleNotAllowed) as unlabelled:
        _plan("decide", _journey("submitted"), actor=NOBODY, data={"verdict": "yes"})
    assert unlabelled.value.message == "Only approver may decide."


def test_the_state_is_checked_before_the_role() -> None:
    with pytest.raises(EventNotAvailable):
        _plan("decide", _journey("draft"), actor=NOBODY)


def test_a_future_date_is_refused_before_the_data() -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(InvalidData) as refused:
        _plan("submit", on=tomorrow, data={"decide_by": "never"})
    assert refused.value.message == "An event cannot be future-dated."
    assert refused.value.field_errors == (
        FieldError(
            OCCURRED_ON, "in_the_future", "occurred_on 2026-03-19 is after today (2026-03-18)"
        ),
    )
    assert refused.value.body()["errors"] == ["occurred_on 2026-03-19 is after today (2026-03-18)"]
    assert _plan("note", on=TODAY).occurred_on == TODAY  # today itself is allowed


def test_a_date_before_the_journey_started_is_refused() -> None:
    with pytest.raises(InvalidData) as refused:
        _plan("note", on=STARTED - timedelta(days=1))
    assert refused.value.message == "An event cannot be dated before the journey started."
    assert refused.value.field_errors == (
        FieldError(
            OCCURRED_ON,
            "before_start",
            "occurred_on 2026-01-04 is before the journey started (2026-01-05)",
        ),
    )
    assert _plan("note", on=STARTED).occurred_on == STARTED


def test_invalid_data_comes_back_as_structured_field_errors() -> None:
    with pytest.raises(InvalidData) as refused:
        _plan("submit", data={"decide_by": "soon", "reason": "r" * 5001, "colour": "red"})
    assert refused.value.message == "The event's data is not valid."
    assert refused.value.field_errors == (
        FieldError("colour", "unknown_field", "unknown field 'colour'"),
        FieldError("decide_by", "not_a_date", "decide_by must be a date (YYYY-MM-DD)"),
        FieldError("reason", "too_long", "reason must be at most 5000 characters"),
    )
    assert refused.value.body() == {
        "error": "invalid_data",
        "message": "The event's data is not valid.",
        "errors": [e.message for e in refused.value.field_errors],
    }
    with pytest.raises(InvalidData) as missing:
        _plan("submit", data=None)
    assert missing.value.field_errors == (
        FieldError("decide_by", "required", "decide_by is required"),
    )


def test_guards_give_every_reason_in_order() -> None:
    late = {"submit_by": "2026-03-01"}  # and the event is recorded on TODAY, after it
    with pytest.raises(GuardFailed) as refused:
        _plan("submit", _journey(data=late), data={"decide_by": "2026-04-01"})
    reasons = ("A summary must be recorded first.", "A late submission needs a reason.")
    assert refused.value.reasons == reasons
    assert refused.value.body() == {
        "error": "guard_failed",
        "message": "The event is not allowed: " + " ".join(reasons),
        "reasons": list(reasons),
    }
    # Each guard on its own: the reason given satisfies the second.
    with pytest.raises(GuardFailed) as one:
        _plan("submit", _journey(data=late), data={"decide_by": "2026-04-01", "reason": "x"})
    assert one.value.reasons == ("A summary must be recorded first.",)
    on_time = _plan(
        "submit",
        _journey(data={**late, "summary": "s"}),
        on=date(2026, 3, 1),
        data={"decide_by": "2026-04-01"},
    )
    assert on_time.to_state == "submitted"
    plan = _plan(
        "submit",
        _journey(data={**late, "summary": "s"}),
        data={"decide_by": "2026-04-01", "reason": "Delayed"},
    )
    assert plan.to_state == "submitted"


def test_guards_see_the_clean_data() -> None:
    seen: list[Mapping[str, Any]] = []

    def spy(ctx: Context) -> str | None:
        seen.append(ctx.event_data)
        return None

    definition = JourneyDefinition(
        type="spied",
        version=1,
        title="Spied",
        states=(State("a", "A"),),
        start=Event("start", (), "a", ("writer",)),
        events=(
            Event("go", ("a",), None, ("writer",), fields=(Field("on", "date"),), guards=(spy,)),
        ),
    )
    plan_event(
        JourneyMachine.build(definition),
        _journey("a"),
        event="go",
        occurred_on=TODAY,
        data={"on": "2026-03-01"},
        actor=WRITER,
        today=TODAY,
        policy=POLICY,
    )
    assert seen == [{"on": date(2026, 3, 1)}]


# -- where an event leads ---------------------------------------------------------------------


def test_the_first_branch_that_applies_wins() -> None:
    submitted = _journey("submitted", deadlines={("decision", ""): date(2026, 4, 1)})
    assert _plan("decide", submitted, data={"verdict": "yes"}).to_state == "approved"
    assert _plan("decide", submitted, data={"verdict": "no"}).to_state == "rejected"


def test_no_branch_applying_is_a_guard_failure() -> None:
    with pytest.raises(GuardFailed) as refused:
        _plan("no_way")
    assert refused.value.reasons == ("no destination applies",)
    assert refused.value.message == "No destination applies to this event with the data given."


def test_a_branch_limited_to_a_source_applies_only_from_it() -> None:
    assert _plan("escalate", _journey("draft")).to_state == "submitted"
    assert _plan("escalate", _journey("submitted")).to_state == "approved"
    assert ESCALATE.destinations_from("draft") == ("submitted",)


def test_an_internal_event_keeps_the_state_and_records_its_data() -> None:
    plan = _plan("note", _journey("submitted"), data={"text": "Called the family"})
    assert (plan.from_state, plan.to_state) == ("submitted", "submitted")
    assert plan.journey_data == {"summary": "Two siblings", "text": "Called the family"}
    assert plan.event_data == {"text": "Called the family"}
    assert (plan.closes, plan.outcome) == (False, None)


# -- deadlines ---------------------------------------------------------------------------------


def test_an_event_meets_one_deadline_and_opens_another_with_its_owner() -> None:
    journey = _journey(deadlines={("first_draft", ""): date(2026, 1, 15)})
    plan = _plan("submit", journey, data={"decide_by": "2026-04-01"})
    assert plan.deadline_changes == (
        DeadlineChange("meet", "first_draft", "", date(2026, 1, 15)),
        DeadlineChange("open", "decision", "", date(2026, 4, 1), owner_role="approver"),
    )


def test_meeting_or_cancelling_a_deadline_that_is_not_open_changes_nothing() -> None:
    plan = _plan("submit", _journey(deadlines={}), data={"decide_by": "2026-04-01"})
    assert [c.action for c in plan.deadline_changes] == ["open"]
    assert _plan("withdraw", _journey(deadlines={})).deadline_changes == ()


def test_an_open_deadline_moves_when_its_due_date_changes_and_stays_when_it_does_not() -> None:
    journey = _journey("submitted", deadlines={("decision", ""): date(2026, 4, 1)})
    moved = _plan("note", journey, data={"decide_by": "2026-04-15"})
    assert moved.deadline_changes == (
        DeadlineChange(
            "move",
            "decision",
            "",
            date(2026, 4, 15),
            previous_due_on=date(2026, 4, 1),
            owner_role="clerk",
        ),
    )
    assert _plan("note", journey, data={"decide_by": "2026-04-01"}).deadline_changes == ()
    # A rule whose date is unknown leaves the deadline as it is.
    assert _plan("note", journey, data={"text": "no date"}).deadline_changes == ()


def test_rules_apply_in_order_so_meet_then_open_is_a_new_deadline_not_a_move() -> None:
    journey = _journey("submitted", deadlines={("decision", ""): date(2026, 4, 1)})
    plan = _plan("revise", journey)
    assert plan.deadline_changes == (
        DeadlineChange("meet", "decision", "", date(2026, 4, 1)),
        DeadlineChange("open", "decision", "", TODAY + timedelta(days=14), owner_role="clerk"),
        DeadlineChange("open", "resubmission", "", TODAY + timedelta(days=30), owner_role="clerk"),
    )


def test_deadlines_are_keyed_by_kind_and_ref() -> None:
    journey = _journey(
        deadlines={("chase", "old-report"): date(2026, 3, 1), ("chase", "report"): TODAY}
    )
    plan = _plan("tag", journey, data={"item": "report"})
    assert plan.deadline_changes == (
        DeadlineChange(
            "move",
            "chase",
            "report",
            TODAY + timedelta(days=5),
            previous_due_on=TODAY,
            owner_role="clerk",
        ),
        DeadlineChange("meet", "chase", "old-report", date(2026, 3, 1)),
    )
    assert plan.deadline_changes[0].as_json() == {
        "action": "move",
        "kind": "chase",
        "ref": "report",
        "due_on": "2026-03-23",
        "previous_due_on": "2026-03-18",
    }


def test_closing_cancels_every_deadline_left_open_after_the_rules() -> None:
    journey = _journey(
        "submitted",
        deadlines={("decision", ""): date(2026, 4, 1), ("chase", "report"): date(2026, 3, 20)},
    )
    plan = _plan("decide", journey, data={"verdict": "no"})
    assert plan.closes
    assert plan.deadline_changes == (
        DeadlineChange("meet", "decision", "", date(2026, 4, 1)),
        # Opened by the rules, then cancelled with the rest: a closed journey leaves
        # nothing open behind it.
        DeadlineChange("open", "appeal", "", TODAY + timedelta(days=28), owner_role="clerk"),
        DeadlineChange("cancel", "chase", "report", date(2026, 3, 20)),
        DeadlineChange("cancel", "appeal", "", TODAY + timedelta(days=28)),
    )


def test_a_cancel_rule_cancels_its_deadline() -> None:
    journey = _journey(deadlines={("decision", ""): date(2026, 4, 1)})
    plan = _plan("withdraw", journey)
    assert plan.deadline_changes == (DeadlineChange("cancel", "decision", "", date(2026, 4, 1)),)
    assert plan.deadline_changes[0].as_json() == {
        "action": "cancel",
        "kind": "decision",
        "due_on": "2026-04-01",
    }


# -- what the journey records -------------------------------------------------------------------


def test_record_date_as_keeps_the_events_date_in_the_journey() -> None:
    plan = _plan("submit", on=date(2026, 2, 2), data={"decide_by": "2026-04-01"})
    assert plan.journey_data == {
        "summary": "Two siblings",
        "decide_by": "2026-04-01",
        "submitted_on": "2026-02-02",
    }
    assert "submitted_on" not in plan.event_data


def test_an_events_facts_replace_its_data_in_the_journey() -> None:
    plan = _plan("decide", _journey("submitted"), data={"verdict": "yes"})
    assert plan.journey_data == {"summary": "Two siblings", "decided": "yes"}
    assert plan.event_data == {"verdict": "yes"}


def test_event_data_is_stored_as_json_with_dates_as_iso_strings() -> None:
    plan = _plan("note", data={"decide_by": date(2026, 4, 1)})
    assert plan.event_data == {"decide_by": "2026-04-01"}
    assert plan.journey_data["decide_by"] == "2026-04-01"


def test_closing_records_the_outcome_given_or_else_the_final_state() -> None:
    given = _plan("withdraw", data={"outcome": "withdrawn_by_court"})
    assert (given.to_state, given.closes, given.outcome) == (
        "withdrawn",
        True,
        "withdrawn_by_court",
    )
    assert _plan("withdraw").outcome == "withdrawn"
    approved = _plan("decide", _journey("submitted"), data={"verdict": "yes"})
    assert (approved.closes, approved.outcome) == (True, "approved")


# -- options: what a page offers ---------------------------------------------------------------


def _options(
    journey: JourneySnapshot, actor: Actor = BOTH, refusal: str | None = None
) -> list[EventOption]:
    return options(MACHINE, journey, actor=actor, today=TODAY, policy=POLICY, refusal=refusal)


def test_options_list_the_states_events_with_guards_quiet_on_missing_input() -> None:
    # Late, and no reason typed yet: the guard on the reason waits for the input.
    late = _journey(data={"summary": "Two siblings", "submit_by": "2026-01-31"})
    offered = _options(late)
    assert [o.event for o in offered] == ["submit", "note", "escalate", "no_way", "withdraw", "tag"]
    assert all(o.allowed and o.reasons == () for o in offered)


def test_options_give_the_reasons_a_guard_finds_in_what_is_known() -> None:
    submit = next(o for o in _options(_journey(data={})) if o.event == "submit")
    assert submit == EventOption("submit", False, ("A summary must be recorded first.",))


def test_options_say_which_roles_may_and_add_a_refusal_to_every_event() -> None:
    by_event = {o.event: o for o in _options(_journey(), actor=APPROVER)}
    assert by_event["submit"].reasons == ("Only writer may submit the application.",)
    assert by_event["escalate"].allowed
    refused = _options(_journey(), actor=WRITER, refusal="This child belongs to another team.")
    assert all(not o.allowed for o in refused)
    assert refused[0].reasons == ("This child belongs to another team.",)
    assert next(o for o in refused if o.event == "escalate").reasons == (
        "This child belongs to another team.",
        "Only approver may escalate.",
    )


def test_a_closed_journey_offers_nothing() -> None:
    assert _options(_journey("approved", closed=True)) == []
    # Whatever its state says (a state that a later definition version made final, say).
    assert _options(_journey("draft")) != []
    assert _options(_journey("draft", closed=True)) == []


def test_options_preview_with_no_event_data_as_of_today() -> None:
    seen: list[Context] = []

    def spy(ctx: Context) -> str | None:
        seen.append(ctx)
        return None

    definition = JourneyDefinition(
        type="spied",
        version=1,
        title="Spied",
        states=(State("a", "A"),),
        start=Event("start", (), "a", ("writer",)),
        events=(Event("go", ("a",), None, ("writer",), guards=(spy,)),),
    )
    options(
        JourneyMachine.build(definition), _journey("a"), actor=WRITER, today=TODAY, policy=POLICY
    )
    assert len(seen) == 1
    ctx = seen[0]
    assert (ctx.preview, dict(ctx.event_data), ctx.occurred_on) == (True, {}, TODAY)
    assert ctx.journey_data == {"summary": "Two siblings"}


# -- the steps a form asks for on their own ------------------------------------------------------


def test_find_event_and_check_role_are_the_engines_own_checks() -> None:
    assert find_event(DEFINITION, "decide") is DECIDE
    with pytest.raises(UnknownEvent):
        find_event(DEFINITION, "start")
    check_role(DECIDE, APPROVER)  # allowed: nothing raised
    with pytest.raises(RoleNotAllowed) as refused:
        check_role(DECIDE, WRITER)
    assert refused.value.roles == ("approver",)


def test_input_errors_give_a_future_date_and_the_fields_problems_together() -> None:
    problems = input_errors(
        SUBMIT, occurred_on=TODAY + timedelta(days=2), data={"reason": 5}, today=TODAY
    )
    assert [(p.field, p.code) for p in problems] == [
        (OCCURRED_ON, "in_the_future"),
        ("decide_by", "required"),
        ("reason", "not_text"),
    ]
    # No date (the form could not read it), and what depends on the journey is not judged.
    assert (
        input_errors(SUBMIT, occurred_on=None, data={"decide_by": "2026-04-01"}, today=TODAY) == ()
    )
    assert (
        input_errors(
            SUBMIT, occurred_on=date(1999, 1, 1), data={"decide_by": "2026-04-01"}, today=TODAY
        )
        == ()
    )


def test_stale_version_keeps_the_current_version_for_callers_and_in_its_body() -> None:
    stale = StaleVersion("The journey has changed.", current_version=4)
    assert stale.current_version == 4
    assert stale.body() == {
        "error": "stale_version",
        "message": "The journey has changed.",
        "current_version": 4,
    }
    race = StaleVersion("Changed just now.")
    assert race.current_version is None
    assert race.body() == {"error": "stale_version", "message": "Changed just now."}
