"""SGO: the prospective special guardians' feedback before sign-off (Torbay)."""

from __future__ import annotations

from tests.conftest import Api, UserFactory


def test_feedback_asking_for_changes_returns_the_plan(
    sw: Api, tm: Api, make_user: UserFactory
) -> None:
    child = sw.create_child("SGO-FB")
    journey = sw.start(child["id"], "sgo", "2025-09-01", {"court_filing_due": "2026-03-31"})
    journey = sw.fire(journey, "start_assessment", "2025-09-15")
    journey = sw.fire(journey, "draft_support_plan", "2025-11-03", {"additional_funding": 0})
    # Feedback while drafting, content: the plan stays where it is.
    journey = sw.fire(
        journey, "record_carers_feedback", "2025-11-04", {"carers_feedback": "Looks right."}
    )
    assert journey["state"] == "support_plan_drafted"
    assert journey["data"]["carers_feedback_on"] == "2025-11-04"
    journey = sw.fire(journey, "submit_to_panel", "2025-11-10")
    refused = sw.fire(journey, "record_carers_feedback", "2025-11-12", expect=422)
    assert refused["errors"] == ["carers_feedback is required"]
    iro = make_user("iro", "iro")
    refused = iro.fire(
        journey, "record_carers_feedback", "2025-11-12", {"carers_feedback": "x"}, expect=403
    )
    assert refused["error"] == "role_not_allowed"
    # Feedback awaiting sign-off that asks for changes sends the plan back for amendment.
    journey = sw.fire(
        journey,
        "record_carers_feedback",
        "2025-11-12",
        {"carers_feedback": "We need respite support.", "asks_for_changes": True},
    )
    assert journey["state"] == "returned"
    journey = sw.fire(journey, "amend_plan", "2025-11-14", {"additional_funding": 0})
    journey = sw.fire(journey, "submit_to_panel", "2025-11-17")
    journey = tm.fire(journey, "sign_off", "2025-11-20")
    assert journey["state"] == "signed_off"
