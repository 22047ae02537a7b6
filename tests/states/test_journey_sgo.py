"""Special guardianship: the support plan, its sign-off under the scheme of delegation, the order.

Defaults of the scheme of delegation (services.config.Settings): no additional funding may be
signed off by a team manager, service manager or service director; up to £10,000 by a service
manager or service director; above that only by the service director.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, UserFactory

DELEGATION_5000 = (
    "Additional funding of £5,000.00 must be signed off by service_manager or "
    "service_director under the scheme of delegation."
)
DELEGATION_20000 = (
    "Additional funding of £20,000.00 must be signed off by service_director under the "
    "scheme of delegation."
)


@pytest.fixture
def sm(make_user: UserFactory) -> Api:
    """A service manager (sees every team)."""
    return make_user("sm", "service_manager")


@pytest.fixture
def sd(make_user: UserFactory) -> Api:
    """The service director."""
    return make_user("sd", "service_director")


def _deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(d["kind"], d["due_on"], d["status"], d["met_on"]) for d in journey["deadlines"]]


def _option(journey: dict[str, Any], event: str) -> dict[str, Any]:
    matches = [o for o in journey["available_events"] if o["event"] == event]
    assert len(matches) == 1, journey["available_events"]
    return dict(matches[0])


def _to_panel(sw: Api, funding: dict[str, Any], reference: str = "SGO-1") -> dict[str, Any]:
    """A journey awaiting panel sign-off with the plan's funding ``funding``."""
    child = sw.create_child(reference)
    journey = sw.start(
        child["id"],
        "sgo",
        "2025-09-01",
        {"carers_reference": "CARERS-7", "court_filing_due": "2026-03-31"},
    )
    journey = sw.fire(journey, "start_assessment", "2025-09-15")
    journey = sw.fire(journey, "draft_support_plan", "2025-11-03", funding)
    journey = sw.fire(journey, "submit_to_panel", "2025-11-10")
    assert journey["state"] == "awaiting_panel"
    return journey


def test_walk_to_order_made(sw: Api, tm: Api) -> None:
    child = sw.create_child("SGO-1")
    journey = sw.start(
        child["id"],
        "sgo",
        "2025-09-01",
        {"carers_reference": "CARERS-7", "court_filing_due": "2026-03-31"},
    )
    assert journey["state"] == "proposed"
    assert journey["status"] == "active"
    assert _deadlines(journey) == [("sgo_court_filing", "2026-03-31", "open", None)]

    journey = sw.fire(journey, "start_assessment", "2025-09-15")
    assert journey["state"] == "assessment_in_progress"
    journey = sw.fire(
        journey,
        "draft_support_plan",
        "2025-11-03",
        {"means_tested_amount": 8200, "additional_funding": 0},
    )
    assert journey["state"] == "support_plan_drafted"
    assert journey["data"]["additional_funding"] == 0
    journey = sw.fire(journey, "submit_to_panel", "2025-11-10")
    assert journey["state"] == "awaiting_panel"

    # No additional funding: the team manager may sign off.
    assert _option(tm.get(f"/journeys/{journey['id']}").json(), "sign_off") == {
        "event": "sign_off",
        "allowed": True,
        "reasons": [],
    }
    journey = tm.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"
    assert journey["data"]["signed_off_on"] == "2025-11-20"

    journey = sw.fire(
        journey, "share_with_carers", "2025-12-01", {"carers_feedback": "Happy with the plan."}
    )
    assert journey["state"] == "shared_with_carers"
    assert journey["data"]["carers_feedback"] == "Happy with the plan."

    journey = sw.fire(journey, "submit_to_court", "2026-01-05")
    assert journey["state"] == "submitted_to_court"
    assert _deadlines(journey) == [("sgo_court_filing", "2026-03-31", "met", "2026-01-05")]

    journey = sw.fire(journey, "make_order", "2026-02-16")
    assert journey["state"] == "order_made"
    assert journey["status"] == "closed"
    assert journey["closed_on"] == "2026-02-16"
    assert journey["outcome"] == "order_made"
    assert journey["available_events"] == []
    assert journey["version"] == 8

    history = sw.history(journey)
    assert [(h["event"], h["from_state"], h["to_state"], h["actor"]) for h in history] == [
        ("start", None, "proposed", "sw.north"),
        ("start_assessment", "proposed", "assessment_in_progress", "sw.north"),
        ("draft_support_plan", "assessment_in_progress", "support_plan_drafted", "sw.north"),
        ("submit_to_panel", "support_plan_drafted", "awaiting_panel", "sw.north"),
        ("sign_off", "awaiting_panel", "signed_off", "tm.north"),
        ("share_with_carers", "signed_off", "shared_with_carers", "sw.north"),
        ("submit_to_court", "shared_with_carers", "submitted_to_court", "sw.north"),
        ("make_order", "submitted_to_court", "order_made", "sw.north"),
    ]
    assert [h["occurred_on"] for h in history][-1] == "2026-02-16"


def test_return_for_amendment_goes_back_to_drafting(sw: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 0})
    # The reason is required.
    refused = tm.fire(journey, "return_for_amendment", "2025-11-18", expect=422)
    assert refused["errors"] == ["reason is required"]

    journey = tm.fire(
        journey, "return_for_amendment", "2025-11-18", {"reason": "Contact plan missing."}
    )
    assert journey["state"] == "returned"
    assert {o["event"] for o in journey["available_events"]} == {"amend_plan", "withdraw"}

    journey = sw.fire(
        journey,
        "amend_plan",
        "2025-11-25",
        {"additional_funding": 0, "means_tested_amount": 9000},
    )
    assert journey["state"] == "support_plan_drafted"
    assert journey["data"]["means_tested_amount"] == 9000
    journey = sw.fire(journey, "submit_to_panel", "2025-11-26")
    assert journey["state"] == "awaiting_panel"
    journey = tm.fire(journey, "sign_off", "2025-12-03")
    assert journey["state"] == "signed_off"
    events = [h["event"] for h in sw.history(journey)]
    assert events[-5:] == [
        "submit_to_panel",
        "return_for_amendment",
        "amend_plan",
        "submit_to_panel",
        "sign_off",
    ]


def test_refuse_order_ends_not_made(sw: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 0})
    journey = tm.fire(journey, "sign_off", "2025-11-20")
    journey = sw.fire(journey, "share_with_carers", "2025-12-01", {"carers_feedback": "Agreed."})
    journey = sw.fire(journey, "submit_to_court", "2026-01-05")
    journey = sw.fire(
        journey, "refuse_order", "2026-02-16", {"reason": "Court made a care order instead."}
    )
    assert journey["state"] == "not_made"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "not_made"
    assert journey["closed_on"] == "2026-02-16"
    # The filing deadline was met on submission and stays met.
    assert _deadlines(journey) == [("sgo_court_filing", "2026-03-31", "met", "2026-01-05")]
    sw.fire(journey, "make_order", "2026-02-17", expect=409)


def test_withdraw_needs_reason_and_cancels_the_filing_deadline(sw: Api) -> None:
    child = sw.create_child("SGO-W")
    journey = sw.start(child["id"], "sgo", "2025-09-01", {"court_filing_due": "2026-03-31"})
    refused = sw.fire(journey, "withdraw", "2025-10-01", expect=422)
    assert refused["errors"] == ["reason is required"]
    journey = sw.fire(journey, "withdraw", "2025-10-01", {"reason": "Carers withdrew."})
    assert journey["state"] == "withdrawn"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "withdrawn"
    assert _deadlines(journey) == [("sgo_court_filing", "2026-03-31", "cancelled", None)]


def test_withdraw_is_possible_from_every_open_state(sw: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 0})
    journey = tm.fire(journey, "sign_off", "2025-11-20")
    journey = sw.fire(journey, "share_with_carers", "2025-12-01", {"carers_feedback": "ok"})
    journey = sw.fire(journey, "submit_to_court", "2026-01-05")
    journey = sw.fire(journey, "withdraw", "2026-01-10", {"reason": "Plan changed."})
    assert journey["state"] == "withdrawn"


def test_team_manager_cannot_sign_off_5000_and_nothing_is_written(
    sw: Api, tm: Api, sm: Api
) -> None:
    journey = _to_panel(sw, {"additional_funding": 5000, "quotes_received": 3})
    before = sw.get(f"/journeys/{journey['id']}").json()

    # The team manager sees sign-off refused, with the delegation reason, before trying.
    assert _option(tm.get(f"/journeys/{journey['id']}").json(), "sign_off") == {
        "event": "sign_off",
        "allowed": False,
        "reasons": [DELEGATION_5000],
    }
    # The service manager is offered it.
    assert _option(sm.get(f"/journeys/{journey['id']}").json(), "sign_off")["allowed"] is True

    refused = tm.fire(journey, "sign_off", "2025-11-20", expect=422)
    assert refused["error"] == "guard_failed"
    assert refused["reasons"] == [DELEGATION_5000]

    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["version"] == before["version"] == 4
    assert after["state"] == "awaiting_panel"
    assert after["deadlines"] == before["deadlines"]
    assert len(sw.history(journey)) == 4

    journey = sm.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"
    assert sw.history(journey)[-1]["actor"] == "sm"


def test_limit_of_service_manager_is_inclusive(sw: Api, sm: Api, sd: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 10000, "quotes_received": 3})
    journey = sm.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"

    over = _to_panel(sw, {"additional_funding": 10000.01, "quotes_received": 3}, "SGO-2")
    refused = sm.fire(over, "sign_off", "2025-11-20", expect=422)
    assert refused["reasons"] == [
        "Additional funding of £10,000.01 must be signed off by service_director under the "
        "scheme of delegation."
    ]
    assert sd.fire(over, "sign_off", "2025-11-20")["state"] == "signed_off"


def test_20000_needs_the_service_director(sw: Api, tm: Api, sm: Api, sd: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 20000, "quotes_received": 3})
    for manager in (tm, sm):
        refused = manager.fire(journey, "sign_off", "2025-11-20", expect=422)
        assert refused["reasons"] == [DELEGATION_20000]
    assert _option(sm.get(f"/journeys/{journey['id']}").json(), "sign_off") == {
        "event": "sign_off",
        "allowed": False,
        "reasons": [DELEGATION_20000],
    }
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 4
    journey = sd.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"


def test_additional_funding_needs_three_quotes(sw: Api, sm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 5000, "quotes_received": 2})
    assert _option(sm.get(f"/journeys/{journey['id']}").json(), "sign_off") == {
        "event": "sign_off",
        "allowed": False,
        "reasons": ["Additional funding needs 3 quotes before it can be approved; 2 received."],
    }
    refused = sm.fire(journey, "sign_off", "2025-11-20", expect=422)
    assert refused["error"] == "guard_failed"
    assert refused["reasons"] == [
        "Additional funding needs 3 quotes before it can be approved; 2 received."
    ]
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 4


def test_no_quotes_recorded_counts_as_none(sw: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 5000})
    refused = tm.fire(journey, "sign_off", "2025-11-20", expect=422)
    # Both guards speak: wrong signer and no quotes.
    assert refused["reasons"] == [
        DELEGATION_5000,
        "Additional funding needs 3 quotes before it can be approved; 0 received.",
    ]


def test_commissioned_placement_needs_no_quotes(sw: Api, sm: Api) -> None:
    journey = _to_panel(
        sw, {"additional_funding": 5000, "quotes_received": 0, "commissioned_placement": True}
    )
    journey = sm.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"


def test_quotes_can_be_added_by_amending_the_plan(sw: Api, sm: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 5000, "quotes_received": 1})
    sm.fire(journey, "sign_off", "2025-11-20", expect=422)
    journey = sm.fire(journey, "return_for_amendment", "2025-11-20", {"reason": "Two more quotes."})
    journey = sw.fire(
        journey, "amend_plan", "2025-11-27", {"additional_funding": 5000, "quotes_received": 3}
    )
    journey = sw.fire(journey, "submit_to_panel", "2025-11-28")
    journey = sm.fire(journey, "sign_off", "2025-12-04")
    assert journey["state"] == "signed_off"
    assert journey["data"]["quotes_received"] == 3


def test_social_worker_cannot_sign_off(sw: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 0})
    option = _option(sw.get(f"/journeys/{journey['id']}").json(), "sign_off")
    assert option["allowed"] is False
    assert (
        "Only team_manager, service_manager, service_director may sign off the support plan."
        in option["reasons"]
    )
    refused = sw.fire(journey, "sign_off", "2025-11-20", expect=403)
    assert refused == {
        "error": "role_not_allowed",
        "message": "Only team_manager, service_manager, service_director may sign off the "
        "support plan.",
    }
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert (after["state"], after["version"]) == ("awaiting_panel", 4)
    assert len(sw.history(journey)) == 4


def test_carers_feedback_is_required_before_submission(sw: Api, tm: Api) -> None:
    journey = _to_panel(sw, {"additional_funding": 0})
    journey = tm.fire(journey, "sign_off", "2025-11-20")
    # Straight to court without the carers' feedback: not available.
    refused = sw.fire(journey, "submit_to_court", "2025-11-21", expect=409)
    assert refused["error"] == "event_not_available"
    assert refused["state"] == "signed_off"
    assert refused["available_events"] == ["share_with_carers", "withdraw"]
    # Sharing needs the feedback itself.
    refused = sw.fire(journey, "share_with_carers", "2025-11-21", expect=422)
    assert refused["errors"] == ["carers_feedback is required"]
    refused = sw.fire(journey, "share_with_carers", "2025-11-21", {"carers_feedback": "  "}, 422)
    assert refused["errors"] == ["carers_feedback is required"]
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 5


def test_draft_plan_requires_additional_funding(sw: Api) -> None:
    child = sw.create_child("SGO-D")
    journey = sw.start(child["id"], "sgo", "2025-09-01")
    journey = sw.fire(journey, "start_assessment", "2025-09-15")
    refused = sw.fire(journey, "draft_support_plan", "2025-11-03", {}, expect=422)
    assert refused["errors"] == ["additional_funding is required"]
    refused = sw.fire(
        journey, "draft_support_plan", "2025-11-03", {"additional_funding": -1}, expect=422
    )
    assert refused["errors"] == ["additional_funding must be at least 0"]


def test_without_filing_date_no_deadline_is_opened(sw: Api) -> None:
    child = sw.create_child("SGO-N")
    journey = sw.start(child["id"], "sgo", "2025-09-01")
    assert journey["deadlines"] == []
