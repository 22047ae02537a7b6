"""Long-term fostering: plan, matching meeting, pack with its checklist, panel, ADM approval."""

from __future__ import annotations

from typing import Any

import pytest

from states.checklists import CONNECTED, MAINSTREAM, RESIDENTIAL
from tests.conftest import Api

MAINSTREAM_ITEMS = (
    "pack_on_time",
    "matching_minutes",
    "child_voice",
    "care_plan_scaling",
    "placement_plan",
    "form_f_review",
    "sibling_assessment",
)
CONNECTED_ITEMS = (
    "pack_on_time",
    "matching_minutes",
    "care_plan_scaling",
    "placement_plan",
    "form_c_review",
    "sgo_cao_support_plan",
    "child_voice",
)
RESIDENTIAL_ITEMS = ("pack_on_time", "views", "care_plan", "placement_plan", "child_voice")
ITEMS = {
    "mainstream": MAINSTREAM_ITEMS,
    "connected": CONNECTED_ITEMS,
    "residential": RESIDENTIAL_ITEMS,
}


def complete(kind: str) -> dict[str, str]:
    """Every item of the kind's checklist answered Yes (the last one Not applicable)."""
    items = ITEMS[kind]
    answers = {k: "yes" for k in items}
    answers[items[-1]] = "not_applicable"
    return answers


def _history_len(api: Api, journey: dict[str, Any]) -> int:
    response = api.get(f"/journeys/{journey['id']}/history")
    assert response.status_code == 200
    return len(response.json())


def _matched(sw: Api, kind: str = "mainstream", reference: str = "LTF-1") -> dict[str, Any]:
    child = sw.create_child(reference)
    journey = sw.start(child["id"], "long_term_fostering", "2025-09-01", {"placement_kind": kind})
    assert journey["state"] == "plan_agreed"
    assert journey["data"]["placement_kind"] == kind
    journey = sw.fire(journey, "hold_matching_meeting", "2025-10-06", {"carers_reference": "FC-12"})
    assert journey["state"] == "matching_meeting_held"
    assert journey["data"]["matching_meeting_on"] == "2025-10-06"
    return journey


def _assert_unchanged(sw: Api, journey: dict[str, Any]) -> None:
    now = sw.get(f"/journeys/{journey['id']}").json()
    assert (now["state"], now["version"]) == (journey["state"], journey["version"])
    assert now["data"] == journey["data"]
    assert _history_len(sw, journey) == journey["version"]


def test_checklists_in_the_test_match_the_definitions() -> None:
    assert MAINSTREAM.item_keys == MAINSTREAM_ITEMS
    assert CONNECTED.item_keys == CONNECTED_ITEMS
    assert RESIDENTIAL.item_keys == RESIDENTIAL_ITEMS


def test_walk_to_approval_through_a_deferral(sw: Api, chair: Api, adm: Api) -> None:
    journey = _matched(sw)
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
    )
    assert journey["state"] == "pack_submitted"
    assert journey["data"]["pack_submitted_on"] == "2025-10-20"
    assert journey["data"]["panel_date"] == "2025-11-06"
    assert journey["data"]["checklist"] == complete("mainstream")

    journey = chair.fire(journey, "defer", "2025-11-06", {"reason": "Sibling assessment update."})
    assert journey["state"] == "deferred"
    assert {o["event"] for o in journey["available_events"]} == {"submit_pack", "disrupt", "close"}

    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-11-20",
        {"panel_date": "2025-12-04", "checklist": complete("mainstream")},
    )
    assert journey["state"] == "pack_submitted"
    assert journey["data"]["panel_date"] == "2025-12-04"

    journey = chair.fire(journey, "recommend", "2025-12-04", {"recommendation": "Approve."})
    assert journey["state"] == "panel_recommended"
    assert journey["data"]["recommended_on"] == "2025-12-04"

    journey = adm.fire(journey, "approve", "2025-12-11")
    assert journey["state"] == "approved"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "approved"
    assert journey["closed_on"] == "2025-12-11"
    assert journey["available_events"] == []
    history = sw.get(f"/journeys/{journey['id']}/history").json()
    assert [(h["event"], h["to_state"], h["actor"]) for h in history] == [
        ("start", "plan_agreed", "sw.north"),
        ("hold_matching_meeting", "matching_meeting_held", "sw.north"),
        ("submit_pack", "pack_submitted", "sw.north"),
        ("defer", "deferred", "chair"),
        ("submit_pack", "pack_submitted", "sw.north"),
        ("recommend", "panel_recommended", "chair"),
        ("approve", "approved", "adm"),
    ]
    # A final state accepts nothing more.
    refused = sw.fire(journey, "close", "2025-12-12", {"reason": "x"}, expect=409)
    assert refused["error"] == "journey_closed"


@pytest.mark.parametrize("kind", ["connected", "residential"])
def test_each_placement_kind_takes_its_own_checklist(sw: Api, kind: str) -> None:
    journey = _matched(sw, kind)
    # The mainstream checklist's own items (form_f_review...) are no part of the others.
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
        expect=422,
    )
    assert refused["error"] == "guard_failed"
    key = "B" if kind == "connected" else "C"
    extra = [k for k in MAINSTREAM_ITEMS if k not in ITEMS[kind]]
    assert refused["reasons"][0] == f"Checklist {key} has no items {', '.join(extra)}."
    _assert_unchanged(sw, journey)

    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete(kind)},
    )
    assert journey["state"] == "pack_submitted"


def test_incomplete_checklist_names_the_missing_items(sw: Api) -> None:
    journey = _matched(sw)
    answers = complete("mainstream")
    answers["placement_plan"] = "no"
    del answers["sibling_assessment"]
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": answers},
        expect=422,
    )
    assert refused["error"] == "guard_failed"
    assert refused["reasons"] == [
        "Checklist A (Permanence decision for a child in mainstream fostering) is incomplete: "
        "placement_plan, sibling_assessment not answered Yes or Not applicable."
    ]
    _assert_unchanged(sw, journey)


def test_pack_must_be_in_14_days_before_panel(sw: Api) -> None:
    journey = _matched(sw)
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-24",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
        expect=422,
    )
    assert refused["reasons"] == [
        "The pack is late: for the panel on 2025-11-06 it was due by 2025-10-23; "
        "offer it to the next panel."
    ]
    _assert_unchanged(sw, journey)
    # Exactly 14 days before is in time.
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-23",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
    )
    assert journey["state"] == "pack_submitted"


def test_late_and_incomplete_gives_both_reasons(sw: Api) -> None:
    journey = _matched(sw)
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-11-01",
        {"panel_date": "2025-11-06", "checklist": {"pack_on_time": "no"}},
        expect=422,
    )
    assert len(refused["reasons"]) == 2
    assert refused["reasons"][0].startswith("Checklist A (")
    assert "pack_on_time, matching_minutes, child_voice" in refused["reasons"][0]
    assert "it was due by 2025-10-23" in refused["reasons"][1]


def test_unknown_checklist_item_is_refused(sw: Api) -> None:
    journey = _matched(sw)
    answers = {**complete("mainstream"), "favourite_colour": "yes"}
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": answers},
        expect=422,
    )
    assert refused["error"] == "invalid_data"
    assert refused["errors"] == ["checklist has unknown items: favourite_colour"]
    _assert_unchanged(sw, journey)


def test_wrong_answer_value_is_refused(sw: Api) -> None:
    journey = _matched(sw)
    answers = {**complete("mainstream"), "child_voice": "maybe"}
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": answers},
        expect=422,
    )
    assert refused["error"] == "invalid_data"
    assert refused["errors"] == [
        "checklist answers must be one of yes, no, not_applicable (wrong for: child_voice)"
    ]
    _assert_unchanged(sw, journey)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"panel_date": "2025-11-06"}, ["checklist is required"]),
        ({"checklist": complete("mainstream")}, ["panel_date is required"]),
        (
            {"panel_date": "2025-11-06", "checklist": ["pack_on_time"]},
            ["checklist must be an object of item: answer"],
        ),
        (
            {"panel_date": "6/11/2025", "checklist": complete("mainstream")},
            ["panel_date must be a date (YYYY-MM-DD)"],
        ),
    ],
)
def test_pack_data_is_validated(sw: Api, data: dict[str, Any], errors: list[str]) -> None:
    journey = _matched(sw)
    refused = sw.fire(journey, "submit_pack", "2025-10-20", data, expect=422)
    assert refused["error"] == "invalid_data"
    assert refused["errors"] == errors
    _assert_unchanged(sw, journey)


def test_pack_cannot_go_before_the_matching_meeting(sw: Api) -> None:
    child = sw.create_child("LTF-2")
    journey = sw.start(
        child["id"], "long_term_fostering", "2025-09-01", {"placement_kind": "connected"}
    )
    refused = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("connected")},
        expect=409,
    )
    assert refused["available_events"] == ["hold_matching_meeting", "disrupt", "close"]


def test_placement_kind_is_required_and_checked(sw: Api) -> None:
    child = sw.create_child("LTF-3")
    for data, error in (
        ({}, "placement_kind is required"),
        (
            {"placement_kind": "kinship"},
            "placement_kind must be one of: mainstream, connected, residential",
        ),
    ):
        response = sw.post(
            f"/children/{child['id']}/journeys",
            {"type": "long_term_fostering", "started_on": "2025-09-01", "data": data},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [error]
    assert sw.get(f"/children/{child['id']}").json()["journeys"] == []


def test_only_the_panel_chair_defers_or_recommends(sw: Api, tm: Api, adm: Api, chair: Api) -> None:
    journey = _matched(sw)
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
    )
    for who in (sw, tm, adm):
        refused = who.fire(journey, "defer", "2025-11-06", {"reason": "x"}, expect=403)
        assert refused == {
            "error": "role_not_allowed",
            "message": "Only panel_chair may defer the decision.",
        }
        refused = who.fire(journey, "recommend", "2025-11-06", expect=403)
        assert refused["message"] == "Only panel_chair may record the panel's recommendation."
    _assert_unchanged(sw, journey)
    refused = chair.fire(journey, "defer", "2025-11-06", expect=422)
    assert refused["errors"] == ["reason is required"]
    options = {
        o["event"]: o for o in sw.get(f"/journeys/{journey['id']}").json()["available_events"]
    }
    assert options["defer"]["allowed"] is False
    assert options["defer"]["reasons"] == ["Only panel_chair may defer the decision."]


def test_only_the_adm_approves(sw: Api, tm: Api, chair: Api, adm: Api) -> None:
    journey = _matched(sw)
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
    )
    journey = chair.fire(journey, "recommend", "2025-11-06")
    for who in (sw, tm, chair):
        refused = who.fire(journey, "approve", "2025-11-13", expect=403)
        assert refused["message"] == "Only adm may approve the long-term match."
    _assert_unchanged(sw, journey)
    assert adm.fire(journey, "approve", "2025-11-13")["state"] == "approved"


def test_approve_needs_a_recommendation_first(sw: Api, adm: Api) -> None:
    journey = _matched(sw)
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("mainstream")},
    )
    refused = adm.fire(journey, "approve", "2025-11-13", expect=409)
    assert refused["error"] == "event_not_available"
    assert refused["available_events"] == ["recommend", "defer", "disrupt", "close"]


def test_disrupt_needs_a_reason(sw: Api) -> None:
    journey = _matched(sw)
    refused = sw.fire(journey, "disrupt", "2025-10-10", expect=422)
    assert refused["errors"] == ["reason is required"]
    journey = sw.fire(journey, "disrupt", "2025-10-10", {"reason": "Carers gave notice."})
    assert journey["state"] == "disrupted"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "disrupted"
    assert journey["data"]["reason"] == "Carers gave notice."


def test_close_needs_a_reason(sw: Api, chair: Api) -> None:
    journey = _matched(sw, "residential")
    journey = sw.fire(
        journey,
        "submit_pack",
        "2025-10-20",
        {"panel_date": "2025-11-06", "checklist": complete("residential")},
    )
    journey = chair.fire(journey, "defer", "2025-11-06", {"reason": "More views needed."})
    refused = sw.fire(journey, "close", "2025-11-10", {"reason": ""}, expect=422)
    assert refused["errors"] == ["reason is required"]
    journey = sw.fire(journey, "close", "2025-11-10", {"reason": "Plan changed to SGO."})
    assert journey["state"] == "closed"
    assert journey["status"] == "closed"
    assert journey["outcome"] == "closed"
    assert journey["closed_on"] == "2025-11-10"
