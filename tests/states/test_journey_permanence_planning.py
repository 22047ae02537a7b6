"""Permanence planning walked through the HTTP API: reviews, the plan, and the dates.

The child in these tests became looked after on Thursday 18 December 2025, so the first
review is due on Tuesday 20 January 2026 (20 working days, Christmas and New Year skipped).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api, UserFactory
from workflow.calendar import add_months, today_london

Row = tuple[str, str, str]


def deadlines(journey: dict[str, Any]) -> list[Row]:
    """The journey's deadlines as (kind, due_on, status), in the order the API lists them."""
    return [(x["kind"], x["due_on"], x["status"]) for x in journey["deadlines"]]


def deadline(journey: dict[str, Any], kind: str, status: str = "open") -> dict[str, Any]:
    """The single deadline of ``kind`` with ``status``."""
    found = [x for x in journey["deadlines"] if x["kind"] == kind and x["status"] == status]
    assert len(found) == 1, journey["deadlines"]
    return dict(found[0])


def allowed(journey: dict[str, Any]) -> dict[str, bool]:
    return {o["event"]: o["allowed"] for o in journey["available_events"]}


def start(sw: Api, **child: Any) -> dict[str, Any]:
    created = sw.create_child(**child)
    return sw.start(created["id"], "permanence_planning")


def test_start_defaults_to_the_date_the_child_became_looked_after(sw: Api) -> None:
    child = sw.create_child(looked_after_since="2025-12-18")
    journey = sw.start(child["id"], "permanence_planning")
    assert journey["type"] == "permanence_planning"
    assert journey["child_id"] == child["id"]
    assert journey["state"] == "awaiting_first_review"
    assert journey["status"] == "active"
    assert journey["version"] == 1
    assert journey["started_on"] == "2025-12-18"
    assert journey["data"]["looked_after_since"] == "2025-12-18"
    assert journey["data"]["reviews_held"] == 0
    assert deadlines(journey) == [("first_review", "2026-01-20", "open")]
    first = journey["deadlines"][0]
    assert first["owner_role"] == "social_worker"
    assert first["owner_id"] == sw.user_id  # the social worker who recorded the child
    assert allowed(journey) == {
        "hold_review": True,
        "record_permanence_plan": True,
        "cease_looked_after": True,
    }
    [entry] = sw.history(journey)
    assert (entry["event"], entry["from_state"], entry["to_state"]) == (
        "start",
        None,
        "awaiting_first_review",
    )
    assert entry["occurred_on"] == "2025-12-18"
    assert entry["actor"] == "sw.north"
    assert entry["data"]["deadlines"] == [
        {"action": "open", "kind": "first_review", "due_on": "2026-01-20"}
    ]


def test_first_review_deadline_skips_the_2020_boxing_day_substitute(sw: Api) -> None:
    journey = start(sw, looked_after_since="2020-12-18")
    assert journey["started_on"] == "2020-12-18"
    assert deadlines(journey) == [("first_review", "2021-01-20", "open")]


def test_explicit_start_date_sets_the_first_review(sw: Api) -> None:
    child = sw.create_child(looked_after_since="2025-12-18")
    # Monday 13 April 2026 + 20 working days: Easter was the week before, but Monday 4 May
    # 2026 is the early May bank holiday, so the count ends on Tuesday 12 May.
    journey = sw.start(child["id"], "permanence_planning", started_on="2026-04-13")
    assert journey["started_on"] == "2026-04-13"
    assert journey["data"]["looked_after_since"] == "2026-04-13"
    assert deadlines(journey) == [("first_review", "2026-05-12", "open")]


def test_full_walk_reviews_plan_and_later_reviews(sw: Api) -> None:
    journey = start(sw)

    # First review, on time: the second is due 3 months later, and so is the plan.
    journey = sw.fire(journey, "hold_review", "2026-01-15", {"notes": "First review held."})
    assert journey["state"] == "awaiting_second_review"
    assert journey["version"] == 2
    assert journey["data"]["reviews_held"] == 1
    assert journey["data"]["first_review_on"] == "2026-01-15"
    assert journey["data"]["last_review_on"] == "2026-01-15"
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("second_review", "2026-04-15", "open"),
        ("permanence_plan", "2026-04-15", "open"),
    ]
    assert deadline(journey, "first_review", "met")["met_on"] == "2026-01-15"

    # Second review before the statutory date, with no plan: the plan is now overdue, due on
    # the day of the second review; later reviews every 6 months.
    journey = sw.fire(journey, "hold_review", "2026-04-10")
    assert journey["state"] == "plan_required"
    assert journey["version"] == 3
    assert journey["data"]["reviews_held"] == 2
    assert journey["data"]["first_review_on"] == "2026-01-15"
    assert journey["data"]["last_review_on"] == "2026-04-10"
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("permanence_plan", "2026-04-10", "open"),
        ("second_review", "2026-04-15", "met"),
        ("review", "2026-10-10", "open"),
    ]
    assert deadline(journey, "second_review", "met")["met_on"] == "2026-04-10"
    second = sw.history(journey)[-1]
    assert second["data"]["deadlines"] == [
        {"action": "meet", "kind": "second_review", "due_on": "2026-04-15"},
        {"action": "open", "kind": "review", "due_on": "2026-10-10"},
        {
            "action": "move",
            "kind": "permanence_plan",
            "due_on": "2026-04-10",
            "previous_due_on": "2026-04-15",
        },
    ]

    # The plan, late: met (on the day it was recorded) all the same.
    journey = sw.fire(
        journey,
        "record_permanence_plan",
        "2026-05-01",
        {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
    )
    assert journey["state"] == "plan_recorded"
    assert journey["version"] == 4
    assert journey["data"]["primary_plan"] == "adoption"
    assert journey["data"]["contingency_plan"] == "long_term_fostering"
    assert journey["data"]["plan_recorded_on"] == "2026-05-01"
    plan = deadline(journey, "permanence_plan", "met")
    assert (plan["due_on"], plan["met_on"]) == ("2026-04-10", "2026-05-01")
    assert deadline(journey, "review")["due_on"] == "2026-10-10"

    # Third review: the 6-monthly review is met and a new one opened 6 months on.
    journey = sw.fire(journey, "hold_review", "2026-10-01")
    assert journey["state"] == "plan_recorded"
    assert journey["version"] == 5
    assert journey["data"]["reviews_held"] == 3
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("permanence_plan", "2026-04-10", "met"),
        ("second_review", "2026-04-15", "met"),
        ("review", "2026-10-10", "met"),
        ("review", "2027-04-01", "open"),
    ]
    third = sw.history(journey)[-1]
    assert third["data"]["deadlines"] == [
        {"action": "meet", "kind": "review", "due_on": "2026-10-10"},
        {"action": "open", "kind": "review", "due_on": "2027-04-01"},
    ]

    # Fourth review (early, as reviews may be): again a new one 6 months on.
    journey = sw.fire(journey, "hold_review", "2026-11-20")
    assert journey["version"] == 6
    assert [(k, due, s) for k, due, s in deadlines(journey) if k == "review"] == [
        ("review", "2026-10-10", "met"),
        ("review", "2027-04-01", "met"),
        ("review", "2027-05-20", "open"),
    ]
    assert [x["met_on"] for x in journey["deadlines"] if x["kind"] == "review"] == [
        "2026-10-01",
        "2026-11-20",
        None,
    ]

    entries = sw.history(journey)
    assert [
        (e["event"], e["from_state"], e["to_state"], e["journey_version"]) for e in entries
    ] == [
        ("start", None, "awaiting_first_review", 1),
        ("hold_review", "awaiting_first_review", "awaiting_second_review", 2),
        ("hold_review", "awaiting_second_review", "plan_required", 3),
        ("record_permanence_plan", "plan_required", "plan_recorded", 4),
        ("hold_review", "plan_recorded", "plan_recorded", 5),
        ("hold_review", "plan_recorded", "plan_recorded", 6),
    ]
    assert [e["occurred_on"] for e in entries] == [
        "2025-12-18",
        "2026-01-15",
        "2026-04-10",
        "2026-05-01",
        "2026-10-01",
        "2026-11-20",
    ]


def test_plan_recorded_before_the_second_review(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-15")
    journey = sw.fire(
        journey,
        "record_permanence_plan",
        "2026-03-02",
        {"primary_plan": "special_guardianship", "contingency_plan": "long_term_fostering"},
    )
    assert journey["state"] == "plan_recorded"
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("second_review", "2026-04-15", "open"),
        ("permanence_plan", "2026-04-15", "met"),
    ]
    # The second review, with the plan in place: no plan deadline reopens.
    journey = sw.fire(journey, "hold_review", "2026-04-14")
    assert journey["state"] == "plan_recorded"
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("second_review", "2026-04-15", "met"),
        ("permanence_plan", "2026-04-15", "met"),
        ("review", "2026-10-14", "open"),
    ]


def test_second_review_after_the_statutory_date_keeps_the_plan_deadline(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-15")
    # Held late, on 1 May: the plan was due by the statutory date of the second review.
    journey = sw.fire(journey, "hold_review", "2026-05-01")
    assert journey["state"] == "plan_required"
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("second_review", "2026-04-15", "met"),
        ("permanence_plan", "2026-04-15", "open"),
        ("review", "2026-11-01", "open"),
    ]
    # A third review still without a plan stays in plan_required.
    journey = sw.fire(journey, "hold_review", "2026-10-30")
    assert journey["state"] == "plan_required"
    assert deadline(journey, "permanence_plan")["due_on"] == "2026-04-15"
    assert deadline(journey, "review")["due_on"] == "2027-04-30"


def test_review_due_dates_clamp_to_the_end_of_the_month(sw: Api) -> None:
    journey = start(sw, looked_after_since="2025-10-31")
    # 20 working days from Friday 31 October 2025: Friday 28 November.
    assert deadlines(journey) == [("first_review", "2025-11-28", "open")]
    journey = sw.fire(journey, "hold_review", "2025-11-28")
    # 28 Nov + 3 months = 28 Feb; then a second review on 31 August -> 28 February.
    assert deadline(journey, "second_review")["due_on"] == "2026-02-28"
    journey = sw.fire(journey, "hold_review", "2026-02-27")
    journey = sw.fire(
        journey,
        "record_permanence_plan",
        "2026-02-27",
        {"primary_plan": "return_home_family_network", "contingency_plan": "adoption"},
    )
    journey = sw.fire(journey, "hold_review", "2026-08-31")
    assert deadline(journey, "review")["due_on"] == "2027-02-28"


def test_contingency_equal_to_primary_is_refused(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-15")
    body = sw.fire(
        journey,
        "record_permanence_plan",
        "2026-02-02",
        {"primary_plan": "adoption", "contingency_plan": "adoption"},
        expect=422,
    )
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["The contingency plan must differ from the primary plan."]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["state"] == "awaiting_second_review"
    assert after["version"] == 2
    assert "primary_plan" not in after["data"]
    assert deadline(after, "permanence_plan")["status"] == "open"
    assert len(sw.history(after)) == 2


def test_plan_choices_and_required_fields_are_checked(sw: Api) -> None:
    journey = start(sw)
    body = sw.fire(journey, "record_permanence_plan", "2026-01-05", {}, expect=422)
    assert body["error"] == "invalid_data"
    assert body["errors"] == ["primary_plan is required", "contingency_plan is required"]
    body = sw.fire(
        journey,
        "record_permanence_plan",
        "2026-01-05",
        {"primary_plan": "boarding_school", "contingency_plan": "adoption"},
        expect=422,
    )
    assert body["error"] == "invalid_data"
    assert len(body["errors"]) == 1
    assert body["errors"][0].startswith("primary_plan must be one of: return_home_family_network")
    body = sw.fire(journey, "hold_review", "2026-01-05", {"mood": "good"}, expect=422)
    assert body["errors"] == ["unknown field 'mood'"]
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 1


def test_review_dated_before_the_previous_review_is_refused(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-15")
    body = sw.fire(journey, "hold_review", "2026-01-14", expect=422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == [
        "A review cannot be dated before 2026-01-15 (the previous review or care start)."
    ]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["state"] == "awaiting_second_review"
    assert after["version"] == 2
    assert after["data"]["reviews_held"] == 1
    # A second review on the same day as the first is not earlier, so it is accepted.
    same_day = sw.fire(after, "hold_review", "2026-01-15")
    assert same_day["state"] == "plan_required"


def test_cease_looked_after_closes_and_cancels_open_deadlines(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-15")
    body = sw.fire(journey, "cease_looked_after", "2026-02-01", {}, expect=422)
    assert body["errors"] == ["reason is required"]

    journey = sw.fire(journey, "cease_looked_after", "2026-02-02", {"reason": "returned_home"})
    assert journey["state"] == "ceased"
    assert journey["status"] == "closed"
    assert journey["closed_on"] == "2026-02-02"
    assert journey["outcome"] == "ceased"
    assert journey["version"] == 3
    assert journey["data"]["ceased_on"] == "2026-02-02"
    assert journey["data"]["reason"] == "returned_home"
    assert journey["available_events"] == []
    assert deadlines(journey) == [
        ("first_review", "2026-01-20", "met"),
        ("second_review", "2026-04-15", "cancelled"),
        ("permanence_plan", "2026-04-15", "cancelled"),
    ]
    last = sw.history(journey)[-1]
    assert (last["event"], last["from_state"], last["to_state"]) == (
        "cease_looked_after",
        "awaiting_second_review",
        "ceased",
    )
    assert sorted(last["data"]["deadlines"], key=lambda c: c["kind"]) == [
        {"action": "cancel", "kind": "permanence_plan", "due_on": "2026-04-15"},
        {"action": "cancel", "kind": "second_review", "due_on": "2026-04-15"},
    ]
    # Nothing can be recorded on a closed journey.
    closed = sw.fire(journey, "hold_review", "2026-02-03", expect=409)
    assert closed["error"] == "journey_closed"
    assert closed["available_events"] == []
    # The open deadlines no longer show in the deadline list.
    listed = sw.get("/deadlines", params={"status": "open"})
    assert listed.status_code == 200, listed.text
    assert [x for x in listed.json() if x["journey_id"] == journey["id"]] == []
    # A new episode of care may start a new journey once the old one is closed.
    again = sw.start(journey["child_id"], "permanence_planning", started_on="2026-03-02")
    assert again["id"] != journey["id"]
    assert again["state"] == "awaiting_first_review"


def test_only_one_active_journey_per_child(sw: Api) -> None:
    child = sw.create_child()
    sw.start(child["id"], "permanence_planning")
    response = sw.post(
        f"/children/{child['id']}/journeys", {"type": "permanence_planning", "data": {}}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "journey_already_active"


def test_back_dated_events_take_deadlines_from_occurred_on(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review", "2026-01-06")
    # Recorded months later, dated 6 January: the second review is due 6 April, not 3 months
    # after the day it was typed in.
    assert deadline(journey, "second_review")["due_on"] == "2026-04-06"
    assert deadline(journey, "first_review", "met")["met_on"] == "2026-01-06"
    entry = sw.history(journey)[-1]
    assert entry["occurred_on"] == "2026-01-06"
    assert entry["recorded_at"][:10] != "2026-01-06"


def test_occurred_on_defaults_to_today(sw: Api) -> None:
    journey = start(sw)
    journey = sw.fire(journey, "hold_review")
    today = today_london()
    assert journey["data"]["first_review_on"] == today.isoformat()
    assert deadline(journey, "second_review")["due_on"] == add_months(today, 3).isoformat()
    assert sw.history(journey)[-1]["occurred_on"] == today.isoformat()


def test_future_dated_event_is_refused(sw: Api) -> None:
    journey = start(sw)
    tomorrow = (today_london() + timedelta(days=1)).isoformat()
    body = sw.fire(journey, "hold_review", tomorrow, expect=422)
    assert body["error"] == "invalid_data"
    assert body["message"] == "An event cannot be future-dated."
    assert body["errors"] == [
        f"occurred_on {tomorrow} is after today ({today_london().isoformat()})"
    ]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["version"] == 1
    assert deadlines(after) == [("first_review", "2026-01-20", "open")]
    assert len(sw.history(after)) == 1


def test_future_dated_start_is_refused(sw: Api) -> None:
    child = sw.create_child()
    tomorrow = (today_london() + timedelta(days=1)).isoformat()
    response = sw.post(
        f"/children/{child['id']}/journeys",
        {"type": "permanence_planning", "started_on": tomorrow, "data": {}},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_data"
    assert sw.get(f"/children/{child['id']}/journeys").json() == []


def test_event_dated_before_the_journey_started_is_refused(sw: Api) -> None:
    journey = start(sw)
    body = sw.fire(journey, "hold_review", "2025-12-17", expect=422)
    assert body["error"] == "invalid_data"
    assert body["message"] == "An event cannot be dated before the journey started."
    assert body["errors"] == ["occurred_on 2025-12-17 is before the journey started (2025-12-18)"]
    # The start day itself is allowed.
    assert sw.fire(journey, "hold_review", "2025-12-18")["state"] == "awaiting_second_review"


def test_unknown_event_and_stale_version(sw: Api) -> None:
    journey = start(sw)
    body = sw.fire(journey, "approve_match", "2026-01-05", expect=422)
    assert body["error"] == "unknown_event"
    assert body["events"] == ["hold_review", "record_permanence_plan", "cease_looked_after"]
    # The start is not an event anyone can fire again.
    assert sw.fire(journey, "start", "2026-01-05", expect=422)["error"] == "unknown_event"
    moved = sw.fire(journey, "hold_review", "2026-01-05")
    stale = sw.fire(journey, "hold_review", "2026-01-06", expect=409)  # still version 1
    assert stale["error"] == "stale_version"
    assert stale["current_version"] == 2
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == moved["version"] == 2


def test_reviews_by_iro_and_refusals_by_role(sw: Api, chair: Api, make_user: UserFactory) -> None:
    journey = start(sw)
    # The panel chair is not one who records reviews.
    body = chair.fire(journey, "hold_review", "2026-01-15", expect=403)
    assert body["error"] == "role_not_allowed"
    assert body["message"] == (
        "Only social_worker, team_manager, service_manager, iro may record a looked-after review."
    )
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 1
    # The IRO may record a review, but not the permanence plan.
    iro = make_user("iro", "iro")
    journey = iro.fire(journey, "hold_review", "2026-01-15")
    assert journey["state"] == "awaiting_second_review"
    assert sw.history(journey)[-1]["actor"] == "iro"
    assert allowed(journey) == {
        "hold_review": True,
        "record_permanence_plan": False,
        "cease_looked_after": False,
    }
    body = iro.fire(
        journey,
        "record_permanence_plan",
        "2026-02-02",
        {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
        expect=403,
    )
    assert body["error"] == "role_not_allowed"
    # A social worker of another team cannot touch this child's journey.
    south = make_user("sw.south", "social_worker", team="south")
    response = south.post(
        f"/journeys/{journey['id']}/events",
        {"event": "hold_review", "expected_version": journey["version"], "data": {}},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 2
