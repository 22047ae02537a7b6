"""The tracked cohorts issue 14 adds: a recorded primary or contingency plan of adoption puts
the child on the adoption tracker
(Wirral tracks "a primary or contingency plan for adoption"); the new journeys are cohorts
(Sefton: regulation 24/25 and kinship; Torbay: reunification)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from panels import cohorts
from tests.conftest import Api


def _tracked(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        found = cohorts.members(conn, ["adoption_tracker"], date(2026, 6, 1), {})
    return {m.child_id for m in found}


def test_contingency_plan_of_adoption_joins_the_tracker(sw: Api, engine: Engine) -> None:
    plans = {
        "ADC-1": {"primary_plan": "return_home_family_network", "contingency_plan": "adoption"},
        "ADC-2": {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
        "ADC-3": {
            "primary_plan": "special_guardianship",
            "contingency_plan": "long_term_fostering",
        },
    }
    ids: dict[str, int] = {}
    for reference, plan in plans.items():
        child = sw.create_child(reference, looked_after_since="2026-01-05")
        ids[reference] = child["id"]
        journey = sw.start(child["id"], "permanence_planning", "2026-01-05")
        assert _tracked(engine) - {ids.get("ADC-1"), ids.get("ADC-2")} == set()
        journey = sw.fire(journey, "record_permanence_plan", "2026-03-02", plan)
        assert journey["data"]["contingency_plan"] == plan["contingency_plan"]
    assert _tracked(engine) == {ids["ADC-1"], ids["ADC-2"]}


def test_the_new_journeys_are_tracked_cohorts(sw: Api, engine: Engine) -> None:
    starts = {
        "connected_person_approvals": ("connected_person_approval", {}),
        "reunification": (
            "reunification",
            {"assessment_kind": "schedule_3", "assessment_due": "2026-05-29"},
        ),
        "child_arrangements_orders": ("child_arrangements_order", {}),
    }
    expected: dict[str, int] = {}
    for cohort, (journey_type, data) in starts.items():
        child = sw.create_child(f"TRK-{journey_type[:3].upper()}")
        sw.start(child["id"], journey_type, "2026-03-02", data)
        expected[cohort] = child["id"]
    with engine.connect() as conn:
        found = cohorts.members(conn, list(starts), date(2026, 6, 1), {})
    assert {(m.cohort, m.child_id) for m in found} == set(expected.items())
