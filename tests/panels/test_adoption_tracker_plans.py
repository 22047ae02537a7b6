"""A recorded primary or contingency plan of adoption puts the child on the adoption tracker
(Wirral tracks "a primary or contingency plan for adoption")."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from panels import cohorts
from tests.conftest import Api


def _tracked(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        rows = cohorts.load_journeys(conn)
    found = cohorts.members(["adoption_tracker"], date(2026, 6, 1), rows, {}, set())
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
