"""Adoption walked through the HTTP API: stages, ADM decisions, A1/A2 and the 10-week rule.

The child became looked after on Monday 6 January 2025: A1 (426 days) is due on
8 March 2026. The placement order is dated 1 May 2025: A2 (121 days) is due on 30 August 2025.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import Api
from workflow.calendar import today_london

LOOKED_AFTER = "2025-01-06"
A1_DUE = "2026-03-08"
ORDER_ON = "2025-05-01"
A2_DUE = "2025-08-30"


def deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(x["kind"], x["due_on"], x["status"]) for x in journey["deadlines"]]


def by_kind(journey: dict[str, Any], kind: str) -> dict[str, Any]:
    [found] = [x for x in journey["deadlines"] if x["kind"] == kind]
    return dict(found)


def allowed(journey: dict[str, Any]) -> dict[str, bool]:
    return {o["event"]: o["allowed"] for o in journey["available_events"]}


def new_adoption(sw: Api) -> dict[str, Any]:
    child = sw.create_child(looked_after_since=LOOKED_AFTER)
    return sw.start(child["id"], "adoption", started_on="2025-02-03")


def to_placement_order(sw: Api, adm: Api) -> dict[str, Any]:
    journey = new_adoption(sw)
    journey = sw.fire(journey, "link_raa", "2025-02-10", {"raa": "Adoption North"})
    journey = sw.fire(journey, "complete_cpr", "2025-03-03")
    journey = adm.fire(journey, "decide_sbpfa", "2025-03-20", {"notes": "Agreed."})
    return sw.fire(journey, "grant_placement_order", ORDER_ON, {"court": "Liverpool FC"})


def to_placed(sw: Api, adm: Api) -> dict[str, Any]:
    journey = to_placement_order(sw, adm)
    journey = sw.fire(journey, "propose_match", "2025-07-01", {"adopters_reference": "AD-7"})
    journey = adm.fire(journey, "approve_match", "2025-07-15")
    return sw.fire(journey, "move_in", "2025-08-01")


def test_start_opens_a1_from_the_date_the_child_became_looked_after(sw: Api) -> None:
    journey = new_adoption(sw)
    assert journey["state"] == "plan_considered"
    assert journey["status"] == "active"
    assert journey["version"] == 1
    assert journey["started_on"] == "2025-02-03"
    # From looked_after_since (6 January), not from the journey's start (3 February).
    assert deadlines(journey) == [("a1_moved_in", A1_DUE, "open")]
    assert by_kind(journey, "a1_moved_in")["owner_role"] == "social_worker"
    a1 = journey["measures"]["A1"]
    assert a1["threshold"] == 426
    assert a1["complete"] is False
    assert a1["days"] == (today_london() - date(2025, 1, 6)).days
    assert "A2" not in journey["measures"]
    assert journey["suggested_next"] is None
    assert allowed(journey) == {"link_raa": True, "change_plan": True}


def test_whole_journey_to_adopted(sw: Api, adm: Api) -> None:
    journey = new_adoption(sw)
    journey = sw.fire(journey, "link_raa", "2025-02-10", {"raa": "Adoption North"})
    assert (journey["state"], journey["version"]) == ("raa_linked", 2)
    assert journey["data"]["raa"] == "Adoption North"
    assert journey["data"]["raa_linked_on"] == "2025-02-10"

    journey = sw.fire(journey, "complete_cpr", "2025-03-03")
    assert (journey["state"], journey["version"]) == ("cpr_complete", 3)
    assert allowed(journey) == {"decide_sbpfa": False, "change_plan": True}

    journey = adm.fire(journey, "decide_sbpfa", "2025-03-20")
    assert (journey["state"], journey["version"]) == ("sbpfa_decided", 4)
    assert journey["data"]["sbpfa_decided_on"] == "2025-03-20"

    journey = sw.fire(journey, "grant_placement_order", ORDER_ON, {"court": "Liverpool FC"})
    assert (journey["state"], journey["version"]) == ("placement_order_granted", 5)
    assert journey["data"]["placement_order_on"] == ORDER_ON
    assert deadlines(journey) == [
        ("a2_match_decision", A2_DUE, "open"),
        ("a1_moved_in", A1_DUE, "open"),
    ]
    a2 = by_kind(journey, "a2_match_decision")
    assert (a2["owner_role"], a2["owner_id"]) == ("adm", None)
    assert journey["measures"]["A2"]["complete"] is False
    assert journey["measures"]["A2"]["days"] == (today_london() - date(2025, 5, 1)).days

    journey = sw.fire(journey, "propose_match", "2025-06-02", {"adopters_reference": "AD-1"})
    assert (journey["state"], journey["version"]) == ("match_proposed", 6)
    assert allowed(journey) == {"reject_match": True, "approve_match": False, "change_plan": True}

    # A rejected match goes back to the placement order; A2 keeps running.
    journey = sw.fire(journey, "reject_match", "2025-06-20", {"reason": "Sibling needs."})
    assert (journey["state"], journey["version"]) == ("placement_order_granted", 7)
    assert by_kind(journey, "a2_match_decision")["status"] == "open"

    journey = sw.fire(journey, "propose_match", "2025-07-01", {"adopters_reference": "AD-7"})
    assert journey["data"]["adopters_reference"] == "AD-7"
    journey = adm.fire(journey, "approve_match", "2025-07-15")
    assert (journey["state"], journey["version"]) == ("match_approved", 9)
    a2 = by_kind(journey, "a2_match_decision")
    assert (a2["due_on"], a2["status"], a2["met_on"]) == (A2_DUE, "met", "2025-07-15")
    assert by_kind(journey, "a1_moved_in")["status"] == "open"

    journey = sw.fire(journey, "move_in", "2025-08-01")
    assert (journey["state"], journey["version"]) == ("placed", 10)
    a1 = by_kind(journey, "a1_moved_in")
    assert (a1["due_on"], a1["status"], a1["met_on"]) == (A1_DUE, "met", "2025-08-01")

    journey = sw.fire(journey, "lodge_application", "2025-10-10")
    assert (journey["state"], journey["version"]) == ("application_lodged", 11)
    journey = sw.fire(journey, "grant_adoption_order", "2026-01-15")
    assert journey["state"] == "adopted"
    assert journey["status"] == "closed"
    assert journey["closed_on"] == "2026-01-15"
    assert journey["outcome"] == "adopted"
    assert journey["version"] == 12
    assert journey["available_events"] == []
    assert journey["data"]["adoption_order_on"] == "2026-01-15"
    assert deadlines(journey) == [
        ("a2_match_decision", A2_DUE, "met"),
        ("a1_moved_in", A1_DUE, "met"),
    ]
    # A1: 6 January to 1 August 2025 is 207 days; A2: 1 May to 15 July 2025 is 75 days.
    assert journey["measures"] == {
        "A1": {"days": 207, "threshold": 426, "complete": True, "within_threshold": True},
        "A2": {"days": 75, "threshold": 121, "complete": True, "within_threshold": True},
    }
    # The view read back says the same.
    assert sw.reload(journey)["measures"] == journey["measures"]

    entries = sw.history(journey)
    assert [(e["event"], e["to_state"], e["actor"]) for e in entries] == [
        ("start", "plan_considered", "sw.north"),
        ("link_raa", "raa_linked", "sw.north"),
        ("complete_cpr", "cpr_complete", "sw.north"),
        ("decide_sbpfa", "sbpfa_decided", "adm"),
        ("grant_placement_order", "placement_order_granted", "sw.north"),
        ("propose_match", "match_proposed", "sw.north"),
        ("reject_match", "placement_order_granted", "sw.north"),
        ("propose_match", "match_proposed", "sw.north"),
        ("approve_match", "match_approved", "adm"),
        ("move_in", "placed", "sw.north"),
        ("lodge_application", "application_lodged", "sw.north"),
        ("grant_adoption_order", "adopted", "sw.north"),
    ]
    assert [e["journey_version"] for e in entries] == list(range(1, 13))
    assert entries[6]["data"] == {"reason": "Sibling needs."}
    assert entries[8]["data"] == {
        "deadlines": [{"action": "meet", "kind": "a2_match_decision", "due_on": A2_DUE}]
    }

    # A closed journey takes no more events.
    body = sw.fire(journey, "change_plan", "2026-01-20", {"reason": "Too late."}, expect=409)
    assert body["error"] == "journey_closed"
    assert body["state"] == "adopted"
    assert body["available_events"] == []
    assert sw.reload(journey)["version"] == 12


def test_measures_outside_thresholds(sw: Api, adm: Api) -> None:
    child = sw.create_child(looked_after_since="2024-01-02")
    journey = sw.start(child["id"], "adoption")
    assert journey["started_on"] == "2024-01-02"
    # A1 due 2 January 2024 + 426 days = 3 March 2025 (366 days to 2 January 2025, then 60).
    assert deadlines(journey) == [("a1_moved_in", "2025-03-03", "open")]
    journey = sw.fire(journey, "link_raa", "2024-02-01", {"raa": "Adoption North"})
    journey = sw.fire(journey, "complete_cpr", "2024-03-01")
    journey = adm.fire(journey, "decide_sbpfa", "2024-03-15")
    journey = sw.fire(journey, "grant_placement_order", "2024-05-01")
    # A2 due 1 May 2024 + 121 days = 30 August 2024.
    assert by_kind(journey, "a2_match_decision")["due_on"] == "2024-08-30"
    journey = sw.fire(journey, "propose_match", "2024-09-02", {"adopters_reference": "AD-2"})
    journey = adm.fire(journey, "approve_match", "2024-09-03")  # 125 days after the order
    # Met late is still met, on the day of the decision.
    a2 = by_kind(journey, "a2_match_decision")
    assert (a2["status"], a2["met_on"]) == ("met", "2024-09-03")
    journey = sw.fire(journey, "move_in", "2025-03-04")  # 427 days after care began
    assert journey["measures"] == {
        "A1": {"days": 427, "threshold": 426, "complete": True, "within_threshold": False},
        "A2": {"days": 125, "threshold": 121, "complete": True, "within_threshold": False},
    }


def test_a1_and_a2_on_exactly_the_threshold_are_within_it(sw: Api, adm: Api) -> None:
    child = sw.create_child(looked_after_since="2024-01-02")
    journey = sw.start(child["id"], "adoption")
    journey = sw.fire(journey, "link_raa", "2024-02-01", {"raa": "Adoption North"})
    journey = sw.fire(journey, "complete_cpr", "2024-03-01")
    journey = adm.fire(journey, "decide_sbpfa", "2024-03-15")
    journey = sw.fire(journey, "grant_placement_order", "2024-05-01")
    journey = sw.fire(journey, "propose_match", "2024-08-01", {"adopters_reference": "AD-3"})
    journey = adm.fire(journey, "approve_match", "2024-08-30")  # exactly 121 days
    journey = sw.fire(journey, "move_in", "2025-03-03")
    assert journey["measures"]["A1"] == {
        "days": 426,
        "threshold": 426,
        "complete": True,
        "within_threshold": True,
    }
    assert journey["measures"]["A2"]["days"] == 121
    assert journey["measures"]["A2"]["within_threshold"] is True


@pytest.mark.parametrize(
    ("event", "reach"),
    [("decide_sbpfa", "cpr_complete"), ("approve_match", "match_proposed")],
)
def test_adm_decisions_refused_to_a_social_worker(
    sw: Api, adm: Api, event: str, reach: str
) -> None:
    journey = new_adoption(sw)
    journey = sw.fire(journey, "link_raa", "2025-02-10", {"raa": "Adoption North"})
    journey = sw.fire(journey, "complete_cpr", "2025-03-03")
    if reach == "match_proposed":
        journey = adm.fire(journey, "decide_sbpfa", "2025-03-20")
        journey = sw.fire(journey, "grant_placement_order", ORDER_ON)
        journey = sw.fire(journey, "propose_match", "2025-06-02", {"adopters_reference": "AD-1"})
    assert journey["state"] == reach
    before_version = journey["version"]
    before_history = sw.history(journey)
    before_deadlines = deadlines(journey)

    option = next(o for o in journey["available_events"] if o["event"] == event)
    assert option["allowed"] is False
    assert option["reasons"][0].startswith("Only adm may ")

    body = sw.fire(journey, event, "2025-07-15", expect=403)
    assert body["error"] == "role_not_allowed"
    assert body["message"].startswith("Only adm may ")
    after = sw.reload(journey)
    assert after["version"] == before_version
    assert after["state"] == reach
    assert deadlines(after) == before_deadlines
    assert sw.history(journey) == before_history

    # The ADM may, with the same expected version: nothing was written by the refusal.
    decided = adm.fire(journey, event, "2025-07-15")
    assert decided["version"] == before_version + 1
    assert (
        decided["state"]
        == {"decide_sbpfa": "sbpfa_decided", "approve_match": "match_approved"}[event]
    )
    assert sw.history(journey)[-1]["actor"] == "adm"


def test_adm_cannot_do_the_casework(sw: Api, adm: Api) -> None:
    journey = new_adoption(sw)
    body = adm.fire(journey, "link_raa", "2025-02-10", {"raa": "Adoption North"}, expect=403)
    assert body["error"] == "role_not_allowed"
    assert body["message"] == (
        "Only social_worker, team_manager, service_manager may link with the regional "
        "adoption agency."
    )
    assert sw.reload(journey)["version"] == 1


def test_application_not_before_ten_weeks_with_the_adopters(sw: Api, adm: Api) -> None:
    journey = to_placed(sw, adm)
    assert journey["state"] == "placed"
    assert journey["data"]["placed_on"] == "2025-08-01"
    # 1 August + 70 days = 10 October 2025; 9 October is day 69.
    body = sw.fire(journey, "lodge_application", "2025-10-09", expect=422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == [
        "The child has lived with the adopters for 69 days; an adoption application cannot be "
        "made before 10 weeks, on or after 2025-10-10."
    ]
    after = sw.reload(journey)
    assert (after["state"], after["version"]) == ("placed", journey["version"])
    assert "application_lodged_on" not in after["data"]
    # The next day, day 70, is allowed.
    lodged = sw.fire(journey, "lodge_application", "2025-10-10")
    assert lodged["state"] == "application_lodged"
    assert lodged["version"] == journey["version"] + 1
    assert lodged["data"]["application_lodged_on"] == "2025-10-10"


def test_application_on_the_day_of_moving_in_is_refused(sw: Api, adm: Api) -> None:
    journey = to_placed(sw, adm)
    body = sw.fire(journey, "lodge_application", "2025-08-01", expect=422)
    assert body["reasons"] == [
        "The child has lived with the adopters for 0 days; an adoption application cannot be "
        "made before 10 weeks, on or after 2025-10-10."
    ]


def test_reject_match_needs_a_reason_and_returns_to_placement_order(sw: Api, adm: Api) -> None:
    journey = to_placement_order(sw, adm)
    journey = sw.fire(journey, "propose_match", "2025-06-02", {"adopters_reference": "AD-1"})
    body = sw.fire(journey, "reject_match", "2025-06-20", {}, expect=422)
    assert body["error"] == "invalid_data"
    assert body["errors"] == ["reason is required"]
    # The ADM may reject a match too.
    journey = adm.fire(journey, "reject_match", "2025-06-20", {"reason": "Not a good fit."})
    assert journey["state"] == "placement_order_granted"
    # Seen by the ADM: the casework events are offered but not to them.
    assert allowed(journey) == {"propose_match": False, "change_plan": False}
    assert allowed(sw.reload(journey)) == {"propose_match": True, "change_plan": True}
    assert deadlines(journey) == [
        ("a2_match_decision", A2_DUE, "open"),
        ("a1_moved_in", A1_DUE, "open"),
    ]
    # Approving a match that was rejected is not possible from here.
    body = adm.fire(journey, "approve_match", "2025-06-21", expect=409)
    assert body["error"] == "event_not_available"
    assert body["state"] == "placement_order_granted"
    assert body["available_events"] == ["propose_match", "change_plan"]


def test_change_plan_closes_and_cancels_open_deadlines(sw: Api, adm: Api) -> None:
    journey = to_placement_order(sw, adm)
    body = sw.fire(journey, "change_plan", "2025-06-10", {}, expect=422)
    assert body["errors"] == ["reason is required"]
    journey = sw.fire(
        journey, "change_plan", "2025-06-10", {"reason": "Plan changed to special guardianship."}
    )
    assert journey["state"] == "closed"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "closed"
    assert journey["closed_on"] == "2025-06-10"
    assert journey["version"] == 6
    assert journey["data"]["reason"] == "Plan changed to special guardianship."
    assert journey["available_events"] == []
    assert deadlines(journey) == [
        ("a2_match_decision", A2_DUE, "cancelled"),
        ("a1_moved_in", A1_DUE, "cancelled"),
    ]
    assert all(x["met_on"] is None for x in journey["deadlines"])
    last = sw.history(journey)[-1]
    assert (last["event"], last["from_state"], last["to_state"]) == (
        "change_plan",
        "placement_order_granted",
        "closed",
    )
    assert last["data"]["reason"] == "Plan changed to special guardianship."
    assert sorted(last["data"]["deadlines"], key=lambda c: c["kind"]) == [
        {"action": "cancel", "kind": "a1_moved_in", "due_on": A1_DUE},
        {"action": "cancel", "kind": "a2_match_decision", "due_on": A2_DUE},
    ]
    # Closed: no event at all, whoever fires it.
    for api, event, data in (
        (sw, "propose_match", {"adopters_reference": "AD-1"}),
        (sw, "change_plan", {"reason": "again"}),
        (adm, "approve_match", {}),
    ):
        body = api.fire(journey, event, "2025-06-11", data, expect=409)
        assert body["error"] == "journey_closed"
    assert sw.reload(journey)["version"] == 6
    # A new adoption journey may start for the child once this one is closed.
    again = sw.start(journey["child_id"], "adoption", started_on="2025-07-01")
    assert again["state"] == "plan_considered"


def test_change_plan_right_at_the_start(sw: Api) -> None:
    journey = new_adoption(sw)
    journey = sw.fire(journey, "change_plan", "2025-02-03", {"reason": "Returning home."})
    assert journey["state"] == "closed"
    assert deadlines(journey) == [("a1_moved_in", A1_DUE, "cancelled")]


def test_events_out_of_order_are_refused(sw: Api, adm: Api) -> None:
    journey = new_adoption(sw)
    body = sw.fire(journey, "move_in", "2025-03-01", expect=409)
    assert body["error"] == "event_not_available"
    assert body["state"] == "plan_considered"
    assert body["available_events"] == ["link_raa", "change_plan"]
    body = adm.fire(journey, "decide_sbpfa", "2025-03-01", expect=409)
    assert body["error"] == "event_not_available"
    body = sw.fire(journey, "link_raa", "2025-03-01", {}, expect=422)
    assert body["errors"] == ["raa is required"]
    assert sw.reload(journey)["version"] == 1


def test_a1_stops_counting_when_the_plan_changes(sw: Api) -> None:
    journey = new_adoption(sw)
    closed = sw.fire(journey, "change_plan", "2025-06-30", {"reason": "Return home agreed"})
    assert closed["status"] == "closed"
    # Looked after 2025-01-06 to the day the plan changed, not to today.
    assert closed["measures"]["A1"] == {
        "days": 175,
        "threshold": 426,
        "complete": False,
        "within_threshold": True,
    }
