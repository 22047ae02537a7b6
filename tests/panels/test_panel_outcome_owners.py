"""Issue 14 item 6: each decision type's outcomes are recordable by the roles the Terms of
Reference give the panel (CYPF's chair approves a permanence plan; Leicestershire's Service
Manager for CiC agrees therapeutic support under £450, and long-term fostering and adoption
support above the core offer can be referred)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

import states
from panels.config import load_panel, preset_names
from panels.permissions import decision_rule
from panels.service.common import PanelBase
from services.clock import today
from services.config import Settings
from states.roles import ADM, PANEL_CHAIR, SOCIAL_WORKER
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, answers_for, funding_form, iso, ok, people

REGISTRY = states.build_registry()


def _owners(name: str, dt_key: str, outcome_key: str) -> tuple[str, ...]:
    """Who may record the outcome through the panel, engine roles included."""
    config = load_panel(name)
    policy = PanelBase.policy_for(config, Settings().policy())
    dt = config.decision_type(dt_key)
    assert dt is not None
    outcome = next(o for o in dt.outcomes if o.key == outcome_key)
    if outcome.event is None:
        scheme = config.funding_scheme(dt.funding_scheme) if dt.funding_scheme else None
        if scheme is not None and outcome.key.startswith("agree"):
            return tuple({r for b in scheme.bands for r in b.roles})
        return (PANEL_CHAIR,)
    jm = REGISTRY.current(dt.journey_type)
    assert jm is not None
    ev = jm.definition.event(outcome.event)
    assert ev is not None
    rule = decision_rule(policy.roles_of(ev))
    return tuple(r for r in policy.roles_of(ev) if r in rule.roles)


@pytest.mark.parametrize("name", preset_names())
def test_every_outcome_is_recordable_by_a_seat_the_tor_gives_the_panel(name: str) -> None:
    # The roles the ToR's seats hold, and the ADM the panel recommends to.
    config = load_panel(name)
    seats = {m.role for m in config.members if m.role} | {ADM}
    for dt in config.decision_types:
        for outcome in dt.outcomes:
            owners = set(_owners(name, dt.key, outcome.key)) - {SOCIAL_WORKER}
            assert owners & seats, (name, dt.key, outcome.key, owners)


def test_cypf_the_chair_may_record_every_non_adm_outcome() -> None:
    config = load_panel("cypf")
    for dt in config.decision_types:
        for outcome in dt.outcomes:
            if outcome.event == "approve":
                continue  # the ADM's own decision
            assert PANEL_CHAIR in _owners("cypf", dt.key, outcome.key), (dt.key, outcome.key)


def _refer_and_list(cast: Any, dt_key: str, journey: dict[str, Any], **pack: Any) -> dict[str, Any]:
    """Refer ``journey`` for ``dt_key`` to the last held meeting, pack in, agenda built."""
    config = load_panel(_PRESET[0])
    dt = config.decision_type(dt_key)
    assert dt is not None and dt.checklist is not None
    checklist = config.checklist(dt.checklist)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    due = date.fromisoformat(meeting["pack_due_on"])
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": journey["id"],
                "decision_type": dt_key,
                "meeting_id": meeting["id"],
                "referred_on": iso(due - timedelta(days=7)),
            },
        ),
        201,
    )
    ref = ok(
        cast.sw.post(
            f"/panel/referrals/{ref['id']}/pack",
            {
                "checklist": answers_for(checklist),
                "documents": dt.documents,
                "submitted_on": iso(due - timedelta(days=1)),
                **pack,
            },
        )
    )
    assert ref["status"] == "accepted", ref
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    return next(i for p in agenda["parts"] for i in p["items"] if i["referral_id"] == ref["id"])


_PRESET: list[str] = ["leicestershire"]


@pytest.fixture
def preset(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    monkeypatch.setenv("PERMANENCE_PANEL", name)
    _PRESET[0] = name
    return name


@pytest.mark.parametrize("preset", ["cypf"], indirect=True)
def test_cypf_chair_approves_a_permanence_plan_at_panel(
    preset: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    chair: Api = make_user("cypf.chair", "panel_chair")  # the chair's role alone
    journey = Journeys(cast.sw).permanence_second_review()
    item = _refer_and_list(cast, "permanence_plan", journey)
    decided = chair.post(
        f"/panel/items/{item['id']}/decision",
        {
            "outcome": "approve_plan",
            "event_data": {"primary_plan": "adoption", "contingency_plan": "special_guardianship"},
        },
    )
    # Before: 403, record_permanence_plan was granted to social worker and managers only.
    assert decided.status_code == 201, decided.text
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "plan_recorded"


@pytest.mark.parametrize("preset", ["leicestershire"], indirect=True)
def test_leicestershire_service_manager_agrees_therapeutic_support_under_450(
    preset: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    cic_sm: Api = make_user("cic.sm", "service_manager")
    journey = Journeys(cast.sw).permanence_second_review()
    item = _refer_and_list(
        cast, "therapeutic_support", journey, funding=funding_form(annual_cost=400)
    )
    decided = cic_sm.post(f"/panel/items/{item['id']}/decision", {"outcome": "agree_funding"})
    # Before: 403 "This needs one of the roles: panel_chair".
    assert decided.status_code == 201, decided.text
    assert decided.json()["funding"]["band_roles"] == ["service_manager"]


@pytest.mark.parametrize("preset", ["leicestershire"], indirect=True)
def test_leicestershire_service_manager_may_not_agree_therapeutic_support_above_450(
    preset: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    cic_sm: Api = make_user("cic.sm", "service_manager")
    journey = Journeys(cast.sw).permanence_second_review()
    item = _refer_and_list(
        cast, "therapeutic_support", journey, funding=funding_form(annual_cost=800)
    )
    refused = cic_sm.post(f"/panel/items/{item['id']}/decision", {"outcome": "agree_funding"})
    assert refused.status_code == 403, refused.text
    assert "above the limit for your role" in refused.json()["message"]


@pytest.mark.parametrize("preset", ["leicestershire"], indirect=True)
@pytest.mark.parametrize("dt_key", ["ltf_support", "adoption_support"])
def test_leicestershire_refers_support_above_the_core_offer(
    preset: str, dt_key: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    factory = Journeys(cast.sw)
    journey = (
        factory.ltf("matching_meeting_held") if dt_key == "ltf_support" else factory.adoption()
    )
    item = _refer_and_list(cast, dt_key, journey, funding=funding_form(annual_cost=3000))
    # Before: 422, no decision type took these journeys for support.
    decided = ok(
        cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "agree_funding"}), 201
    )
    assert decided["funding"]["quotes"] == 3
