"""Placed with parents: 3-monthly reviews, the 12-month drift flag, discharge or placement end."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import app.api.journeys
import services.journeys
from tests.conftest import Api

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Measures depend on today: pin it so the drift flag does not change with the calendar."""
    monkeypatch.setattr(services.journeys, "today", lambda: TODAY)
    monkeypatch.setattr(app.api.journeys, "today", lambda: TODAY)
    return TODAY


def _deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(d["kind"], d["due_on"], d["status"], d["met_on"]) for d in journey["deadlines"]]


def _placed(sw: Api, placed_on: str = "2025-06-10", reference: str = "PWP-1") -> dict[str, Any]:
    child = sw.create_child(reference, legal_status="care_order")
    journey = sw.start(child["id"], "placed_with_parents", placed_on)
    assert journey["state"] == "placed"
    return journey


def test_placement_opens_review_and_drift_deadlines(sw: Api) -> None:
    journey = _placed(sw)
    assert journey["data"]["placed_on"] == "2025-06-10"
    assert _deadlines(journey) == [
        ("pwp_review", "2025-09-10", "open", None),
        ("pwp_drift_scrutiny", "2026-06-10", "open", None),
    ]
    for d in journey["deadlines"]:
        assert d["owner_role"] == "social_worker"
        assert d["owner_id"] == sw.user_id


def test_month_end_placement_reviews_fall_on_the_last_day(sw: Api) -> None:
    journey = _placed(sw, "2025-11-30")
    assert _deadlines(journey)[0] == ("pwp_review", "2026-02-28", "open", None)


def test_hold_review_meets_the_review_and_opens_the_next(sw: Api, make_user: Any) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "hold_review", "2025-09-05", {"notes": "Progressing well."})
    assert journey["state"] == "placed"
    assert journey["data"]["last_review_on"] == "2025-09-05"
    assert _deadlines(journey) == [
        ("pwp_review", "2025-09-10", "met", "2025-09-05"),
        ("pwp_review", "2025-12-05", "open", None),
        ("pwp_drift_scrutiny", "2026-06-10", "open", None),
    ]
    ids = [d["id"] for d in journey["deadlines"] if d["kind"] == "pwp_review"]
    assert len(set(ids)) == 2  # a new row, not the old one moved

    # A late review is still met, and the next one runs from the review's own date.
    iro = make_user("iro", "iro")
    journey = iro.fire(journey, "hold_review", "2025-12-19")
    assert _deadlines(journey) == [
        ("pwp_review", "2025-09-10", "met", "2025-09-05"),
        ("pwp_review", "2025-12-05", "met", "2025-12-19"),
        ("pwp_review", "2026-03-19", "open", None),
        ("pwp_drift_scrutiny", "2026-06-10", "open", None),
    ]
    history = sw.get(f"/journeys/{journey['id']}/history").json()
    assert history[-1]["actor"] == "iro"
    assert history[-1]["data"]["deadlines"] == [
        {"action": "meet", "kind": "pwp_review", "due_on": "2025-12-05"},
        {"action": "open", "kind": "pwp_review", "due_on": "2026-03-19"},
    ]


def test_review_dated_before_the_previous_one_is_refused(sw: Api) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "hold_review", "2025-09-05")
    before = sw.get(f"/journeys/{journey['id']}").json()
    refused = sw.fire(journey, "hold_review", "2025-09-01", expect=422)
    assert refused["error"] == "guard_failed"
    assert refused["reasons"] == ["The date 2025-09-01 is before the previous review (2025-09-05)."]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["version"] == before["version"] == 2
    assert after["deadlines"] == before["deadlines"]
    assert after["data"]["last_review_on"] == "2025-09-05"
    assert len(sw.get(f"/journeys/{journey['id']}/history").json()) == 2


def test_review_before_the_placement_is_refused(sw: Api) -> None:
    journey = _placed(sw)
    refused = sw.fire(journey, "hold_review", "2025-06-09", expect=422)
    assert refused["error"] == "invalid_data"
    assert refused["errors"] == [
        "occurred_on 2025-06-09 is before the journey started (2025-06-10)"
    ]


def test_review_cannot_be_future_dated(sw: Api) -> None:
    journey = _placed(sw)
    refused = sw.fire(journey, "hold_review", "2026-11-24", expect=422)
    assert refused["errors"] == ["occurred_on 2026-11-24 is after today (2026-11-23)"]


@pytest.mark.parametrize(
    ("placed_on", "days", "flag"),
    [
        ("2025-06-10", 531, True),
        ("2025-11-22", 366, True),  # 12 months ended yesterday
        ("2025-11-23", 365, False),  # exactly 12 months today: not yet over
        ("2026-05-01", 206, False),
    ],
)
def test_drift_flag_once_placed_over_12_months(
    sw: Api, placed_on: str, days: int, flag: bool
) -> None:
    journey = _placed(sw, placed_on)
    assert journey["measures"] == {"placed_days": days, "drift_flag": flag}
    assert sw.get(f"/journeys/{journey['id']}").json()["measures"]["drift_flag"] is flag


def test_discharge_walk(sw: Api) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "hold_review", "2025-09-05")
    journey = sw.fire(journey, "plan_discharge", "2025-10-01")
    assert journey["state"] == "discharge_planned"
    assert journey["data"]["discharge_planned_on"] == "2025-10-01"
    # Reviews go on while discharge is planned and applied for.
    journey = sw.fire(journey, "hold_review", "2025-12-01")
    assert journey["state"] == "discharge_planned"
    journey = sw.fire(journey, "apply_for_discharge", "2025-12-15")
    assert journey["state"] == "discharge_applied"
    assert {o["event"] for o in journey["available_events"]} == {
        "hold_review",
        "discharge",
        "end_placement",
    }

    refused = sw.fire(journey, "discharge", "2026-02-02", expect=422)
    assert refused["errors"] == ["outcome is required"]
    refused = sw.fire(journey, "discharge", "2026-02-02", {"outcome": "adoption"}, expect=422)
    assert refused["errors"] == ["outcome must be one of: supervision_order, no_order, sgo, cao"]

    journey = sw.fire(journey, "discharge", "2026-02-02", {"outcome": "supervision_order"})
    assert journey["state"] == "discharged"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "supervision_order"
    assert journey["closed_on"] == "2026-02-02"
    assert journey["available_events"] == []
    # Nothing stays open behind a closed journey.
    assert _deadlines(journey) == [
        ("pwp_review", "2025-09-10", "met", "2025-09-05"),
        ("pwp_review", "2025-12-05", "met", "2025-12-01"),
        ("pwp_review", "2026-03-01", "cancelled", None),
        ("pwp_drift_scrutiny", "2026-06-10", "cancelled", None),
    ]


@pytest.mark.parametrize("outcome", ["no_order", "sgo", "cao"])
def test_every_discharge_outcome_is_accepted(sw: Api, outcome: str) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "plan_discharge", "2025-10-01")
    journey = sw.fire(journey, "apply_for_discharge", "2025-10-15")
    journey = sw.fire(journey, "discharge", "2025-11-20", {"outcome": outcome})
    assert (journey["state"], journey["outcome"]) == ("discharged", outcome)


def test_discharge_needs_an_application_first(sw: Api) -> None:
    journey = _placed(sw)
    refused = sw.fire(journey, "discharge", "2025-10-01", {"outcome": "no_order"}, expect=409)
    assert refused["available_events"] == ["hold_review", "plan_discharge", "end_placement"]
    journey = sw.fire(journey, "plan_discharge", "2025-10-01")
    refused = sw.fire(journey, "discharge", "2025-10-02", {"outcome": "no_order"}, expect=409)
    assert refused["available_events"] == ["hold_review", "apply_for_discharge", "end_placement"]


def test_end_placement(sw: Api) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "plan_discharge", "2025-10-01")
    refused = sw.fire(journey, "end_placement", "2025-10-20", expect=422)
    assert refused["errors"] == ["reason is required"]
    journey = sw.fire(journey, "end_placement", "2025-10-20", {"reason": "Child returned to care."})
    assert journey["state"] == "placement_ended"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "placement_ended"
    assert journey["data"]["placement_ended_on"] == "2025-10-20"
    assert {d["status"] for d in journey["deadlines"]} == {"cancelled"}
    refused = sw.fire(journey, "hold_review", "2025-10-21", expect=409)
    assert refused["error"] == "journey_closed"


def test_ended_placement_is_not_drifting_and_stops_counting(sw: Api) -> None:
    journey = _placed(sw, "2024-06-10")
    assert journey["measures"]["drift_flag"] is True
    ended = sw.fire(journey, "end_placement", "2025-09-01", {"reason": "Moved to kinship carers"})
    assert ended["status"] == "closed"
    # Placed 448 days when it ended; today no longer counts, and nothing is drifting.
    assert ended["measures"] == {"placed_days": 448, "drift_flag": False}
    assert sw.get(f"/journeys/{journey['id']}").json()["measures"] == ended["measures"]
