"""Child arrangements order: the support plan's funding under the SGO scheme of delegation.

The defaults (services.config.Settings): no additional funding may be signed off by a team
manager, up to £10,000 by a service manager, above that only by the service director.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, UserFactory

PLAN = {"means_tested_amount": 4000, "additional_funding": 5000, "quotes_received": 3}


@pytest.fixture
def sm(make_user: UserFactory) -> Api:
    """A service manager (sees every team)."""
    return make_user("sm", "service_manager")


def _drafted(sw: Api, plan: dict[str, Any], ref: str = "CAO-1") -> dict[str, Any]:
    child = sw.create_child(ref)
    journey = sw.start(
        child["id"], "child_arrangements_order", "2025-09-01", {"carers_reference": "GP-1"}
    )
    assert journey["state"] == "proposed"
    journey = sw.fire(journey, "start_assessment", "2025-09-10")
    assert journey["state"] == "assessment_in_progress"
    journey = sw.fire(journey, "draft_support_plan", "2025-10-01", plan)
    assert journey["state"] == "support_plan_drafted"
    return journey


def test_walk_to_order_made(sw: Api, tm: Api, sm: Api) -> None:
    journey = _drafted(sw, PLAN)
    refused = sw.fire(journey, "make_application", "2025-10-10", expect=422)
    assert refused["reasons"] == [
        "The support plan's funding must be signed off before the application is made."
    ]
    assert sw.fire(journey, "sign_off_funding", "2025-10-05", expect=403)["error"] == (
        "role_not_allowed"
    )
    refused = tm.fire(journey, "sign_off_funding", "2025-10-05", expect=422)
    assert refused["reasons"] == [
        "Additional funding of £5,000.00 must be signed off by service_manager or "
        "service_director under the scheme of delegation."
    ]
    journey = sm.fire(journey, "sign_off_funding", "2025-10-05")
    assert (journey["state"], journey["data"]["funding_agreed_on"]) == (
        "support_plan_drafted",
        "2025-10-05",
    )
    journey = sw.fire(journey, "make_application", "2025-10-10")
    assert journey["state"] == "application_made"
    journey = sw.fire(journey, "make_order", "2026-01-12")
    assert (journey["state"], journey["status"]) == ("order_made", "closed")


def test_three_quotes_and_a_changed_plan_is_signed_off_again(sw: Api, sm: Api) -> None:
    journey = _drafted(sw, {**PLAN, "quotes_received": 2})
    refused = sm.fire(journey, "sign_off_funding", "2025-10-05", expect=422)
    assert refused["reasons"] == [
        "Additional funding needs 3 quotes before it can be approved; 2 received."
    ]
    journey = sw.fire(journey, "amend_plan", "2025-10-06", PLAN)
    journey = sm.fire(journey, "sign_off_funding", "2025-10-07")
    journey = sw.fire(journey, "amend_plan", "2025-10-08", {**PLAN, "additional_funding": 6000})
    assert journey["data"]["funding_agreed_on"] is None
    refused = sw.fire(journey, "make_application", "2025-10-10", expect=422)
    assert refused["error"] == "guard_failed"


def test_no_additional_funding_the_team_manager_signs(sw: Api, tm: Api) -> None:
    journey = _drafted(sw, {"additional_funding": 0})
    journey = tm.fire(journey, "sign_off_funding", "2025-10-05")
    journey = sw.fire(journey, "make_application", "2025-10-10")
    journey = sw.fire(journey, "refuse_order", "2026-01-12", {"reason": "No order."})
    assert (journey["state"], journey["status"]) == ("not_made", "closed")


def test_withdraw_from_any_open_state(sw: Api) -> None:
    journey = _drafted(sw, PLAN)
    assert sw.fire(journey, "withdraw", "2025-10-02", expect=422)["errors"] == [
        "reason is required"
    ]
    journey = sw.fire(journey, "withdraw", "2025-10-02", {"reason": "Plan changed."})
    assert (journey["state"], journey["status"]) == ("withdrawn", "closed")
