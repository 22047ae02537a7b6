"""Funding requests: the scheme of delegation and the three-quotes rule (Leicestershire)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from panels.config import load_panel
from panels.funding import QUESTIONS, FundingRequest, refusals
from services.clock import today
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, funding_form, iso, ok, people


@pytest.fixture(autouse=True)
def _leicestershire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "leicestershire")


def test_the_form_has_the_thirteen_questions() -> None:
    assert len(QUESTIONS) == 13
    assert QUESTIONS[10][0] == "costs" and "three quotes" in QUESTIONS[10][1].lower()


def _listed_item(
    cast: Any, journey: dict[str, Any], decision_type: str, funding: dict[str, Any]
) -> dict[str, Any]:
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=100))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    m_pack = date.fromisoformat(meeting["pack_due_on"])
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": journey["id"],
                "decision_type": decision_type,
                "meeting_id": meeting["id"],
                "referred_on": iso(m_pack - timedelta(days=5)),
            },
        ),
        201,
    )
    ref = ok(
        cast.sw.post(
            f"/panel/referrals/{ref['id']}/pack",
            {
                "checklist": {
                    "pack_on_time": "yes",
                    "resource_request_form": "yes",
                    "sgo_cao_support_plan": "not_applicable",
                },
                "funding": funding,
                "submitted_on": iso(m_pack),
            },
        )
    )
    assert ref["status"] == "accepted", ref
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    return next(i for p in agenda["parts"] for i in p["items"] if i["referral_id"] == ref["id"])


def test_above_a_threshold_a_lower_role_cannot_sign_off(make_user: UserFactory) -> None:
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=15000, quotes=3)
    item = _listed_item(cast, journey, "resource_decision", funding_form(annual_cost=15000))
    # The chair is a service manager: £15,000 a year is the service director's to agree.
    refused = cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    assert refused.status_code == 403, refused.text
    assert "scheme of delegation" in refused.json()["message"]
    assert "service_director" in refused.json()["message"]
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "awaiting_panel"
    ok(cast.director.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"}), 201)
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "signed_off"


def test_no_sign_off_without_three_quotes(make_user: UserFactory) -> None:
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=5000, quotes=2)
    item = _listed_item(
        cast, journey, "resource_decision", funding_form(annual_cost=5000, quotes=2)
    )
    refused = cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    assert refused.status_code == 422, refused.text
    assert "Three quotes must be provided" in refused.json()["message"]
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "awaiting_panel"
    # Returning the plan for amendment needs no quotes.
    ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision", {"outcome": "return", "notes": "Two more quotes"}
        ),
        201,
    )
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "returned"


def test_the_packs_three_quotes_are_not_entered_again_on_the_plan(
    make_user: UserFactory,
) -> None:
    # One source of truth (issue 14 item 6): the funding form in the pack holds the quotes;
    # the support plan recorded none, and sign-off at panel passes on the form's three.
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=5000, quotes=0)
    item = _listed_item(
        cast, journey, "resource_decision", funding_form(annual_cost=5000, quotes=3)
    )
    decided = ok(
        cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"}), 201
    )
    assert decided["funding"]["quotes"] == 3
    after = ok(cast.sw.get(f"/journeys/{journey['id']}"))
    assert after["state"] == "signed_off"
    assert after["data"]["quotes_received"] == 3  # the plan now shows the form's count


def test_the_form_not_the_plan_decides_the_quotes(make_user: UserFactory) -> None:
    # The plan says three, the pack's form has one: the form is the source, so refused.
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=5000, quotes=3)
    item = _listed_item(
        cast, journey, "resource_decision", funding_form(annual_cost=5000, quotes=1)
    )
    refused = cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    assert refused.status_code == 422, refused.text
    assert "1 of 3 received" in refused.json()["message"]
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "awaiting_panel"


def test_commissioned_placement_support_needs_no_quotes(make_user: UserFactory) -> None:
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=0, quotes=0)
    item = _listed_item(
        cast,
        journey,
        "resource_decision",
        funding_form(annual_cost=4000, quotes=0, commissioned_placement=True),
    )
    ok(cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"}), 201)


def test_therapeutic_bands() -> None:
    scheme = load_panel("leicestershire").funding_scheme("therapeutic")
    assert scheme is not None

    def form(cost: float, quotes: int = 3) -> FundingRequest:
        return FundingRequest.model_validate(funding_form(annual_cost=cost, quotes=quotes))

    # Below £450 a year: the Service Manager for CIC decides, not the panel chair.
    assert refusals(form(400), scheme, {"service_manager"}) == []
    assert any("scheme of delegation" in r for r in refusals(form(400), scheme, {"panel_chair"}))
    assert refusals(form(800), scheme, {"panel_chair"}) == []
    # Above £900: by exception only, with the reason recorded.
    assert any("by exception" in r for r in refusals(form(1200), scheme, {"panel_chair"}))
    assert refusals(form(1200), scheme, {"panel_chair"}, exception_reason="Trauma work") == []
    assert any("Three quotes" in r for r in refusals(form(800, 1), scheme, {"panel_chair"}))


def test_funding_form_is_validated(make_user: UserFactory) -> None:
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel()
    planner = ok(cast.admin.post("/panel/meetings/generate", {}))
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": journey["id"],
                "decision_type": "resource_decision",
                "meeting_id": planner[-1]["id"],
            },
        ),
        201,
    )
    bad = cast.sw.post(
        f"/panel/referrals/{ref['id']}/pack",
        {
            "checklist": {"pack_on_time": "yes"},
            "funding": {
                "answers": {"favourite_colour": "blue"},
                "annual_cost": -1,
                "duration_months": 12,
            },
        },
    )
    assert bad.status_code == 422
    errors = " ".join(bad.json()["errors"])
    assert "favourite_colour" in errors and "annual_cost" in errors
    # Unanswered questions make the pack incomplete, with the questions named.
    form = funding_form()
    del form["answers"]["child_voice"]
    got = ok(
        cast.sw.post(
            f"/panel/referrals/{ref['id']}/pack",
            {
                "checklist": {
                    "pack_on_time": "yes",
                    "resource_request_form": "yes",
                    "sgo_cao_support_plan": "yes",
                },
                "funding": form,
            },
        )
    )
    assert got["status"] == "awaiting_pack" and "child_voice" in got["reason"]


def test_team_scoping_of_referrals(make_user: UserFactory) -> None:
    cast = people(make_user)
    journey = Journeys(cast.sw).sgo_awaiting_panel()
    ok(cast.admin.post("/panel/meetings/generate", {}))
    south: Api = make_user("sw.south", "social_worker", team="south")
    refused = south.post(
        "/panel/referrals", {"journey_id": journey["id"], "decision_type": "resource_decision"}
    )
    assert refused.status_code == 403
    ok(
        cast.admin.post(
            "/panel/referrals", {"journey_id": journey["id"], "decision_type": "resource_decision"}
        ),
        403,
    )
    wrong = cast.sw.post(
        "/panel/referrals", {"journey_id": journey["id"], "decision_type": "ltf_mainstream"}
    )
    assert wrong.status_code == 422 and "long_term_fostering" in wrong.json()["message"]
    assert cast.sw.client.get("/api/v1/panel/meetings").status_code == 401
    made = ok(
        cast.sw.post(
            "/panel/referrals", {"journey_id": journey["id"], "decision_type": "resource_decision"}
        ),
        201,
    )
    assert made["meeting_id"] and date.fromisoformat(made["pack_due_on"]) >= today()
    assert south.get(f"/panel/referrals/{made['id']}").status_code == 403
