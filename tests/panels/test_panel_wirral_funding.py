"""Wirral's scheme of delegation: the panel, chaired by the Senior Manager Children in
Care, approves SGO support plans (ToR, "This panel will also approve any support plans");
a zero-cost plan is the chair's to agree (issue 14, item 6)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from panels.config import load_panel
from panels.funding import FundingRequest, refusals
from services.clock import today
from tests.conftest import Api, UserFactory
from tests.panel_support import (
    Journeys,
    People,
    answers_for,
    funding_form,
    iso,
    ok,
    people,
    quorum_present,
)

CONFIG = load_panel("wirral")


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def _sgo_item(cast: People, annual_cost: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """A £``annual_cost`` SGO support plan listed at a held meeting, and its journey."""
    dt = CONFIG.decision_type("sgo_support_plan")
    assert dt is not None and dt.checklist is not None
    checklist = CONFIG.checklist(dt.checklist)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    pack = date.fromisoformat(meeting["pack_due_on"])
    quotes = 3 if annual_cost else 0
    journey = Journeys(cast.sw).sgo_awaiting_panel(funding=annual_cost, quotes=quotes)
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": journey["id"],
                "decision_type": dt.key,
                "meeting_id": meeting["id"],
                "referred_on": iso(pack - timedelta(days=7)),
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
                "funding": funding_form(annual_cost=annual_cost, quotes=quotes),
                "submitted_on": iso(pack - timedelta(days=1)),
            },
        )
    )
    assert ref["status"] == "accepted", ref
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    item = next(i for p in agenda["parts"] for i in p["items"] if i["referral_id"] == ref["id"])
    # Wirral's quorum present, so a sign-off takes effect at once (test_panel_quorum has
    # the meetings below it).
    ok(
        cast.admin.post(
            f"/panel/meetings/{meeting['id']}/attendance", {"entries": quorum_present(CONFIG)}
        )
    )
    return item, journey


def _chair_only(make_user: UserFactory) -> Api:
    """A chair who holds the chair's role and no manager's role."""
    return make_user("wirral.chair", "panel_chair")


def test_the_scheme_of_delegation_no_longer_refuses_the_chair_a_zero_cost_plan(
    make_user: UserFactory,
) -> None:
    cast = people(make_user)
    chair = _chair_only(make_user)
    item, _journey = _sgo_item(cast, 0)
    answer = chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    # Before the fix: 403 "£0.00 a year is above the limit for your role under the scheme
    # of delegation".
    assert "scheme of delegation" not in answer.text, answer.text
    assert "above the limit" not in answer.text, answer.text


def test_a_chair_without_a_managers_role_signs_off_a_zero_cost_plan(
    make_user: UserFactory,
) -> None:
    cast = people(make_user)
    chair = _chair_only(make_user)
    item, journey = _sgo_item(cast, 0)
    # The SGO journey's sign_off roles follow the panel's scheme of delegation (Wirral's
    # £0 band names the chair); before, the engine refused them (403 role_not_allowed).
    decided = chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    assert decided.status_code == 201, decided.text
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "signed_off"


def test_other_presets_and_the_shared_default_keep_the_sgo_signers() -> None:
    from panels.service.common import PanelBase
    from services.config import Settings
    from states import sgo

    sign_off = sgo.DEFINITION.event("sign_off")
    assert sign_off is not None and sign_off.roles == sgo.SIGNERS
    base = Settings().policy()
    assert base.roles_of(sign_off) == sgo.SIGNERS
    assert "panel_chair" in PanelBase.policy_for(CONFIG, base).roles_of(sign_off)
    for name in ("leicestershire", "torbay"):
        policy = PanelBase.policy_for(load_panel(name), base)
        assert "panel_chair" not in policy.roles_of(sign_off), name


def test_the_tor_chair_senior_manager_signs_off_a_zero_cost_plan_at_panel(
    make_user: UserFactory,
) -> None:
    # The ToR's chair is the Senior Manager Children in Care: panel_chair and
    # service_manager here (tests.panel_support.people), within the £0 band either way.
    cast = people(make_user)
    item, journey = _sgo_item(cast, 0)
    decided = ok(
        cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"}), 201
    )
    assert "panel_chair" in decided["funding"]["band_roles"]
    assert decided["funding"]["quotes"] == 0  # nothing to quote for a plan that costs nothing
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "signed_off"


def test_the_chair_alone_still_may_not_agree_funding_above_zero(make_user: UserFactory) -> None:
    cast = people(make_user)
    chair = _chair_only(make_user)
    item, journey = _sgo_item(cast, 2500)
    refused = chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "sign_off"})
    assert refused.status_code == 403, refused.text
    assert "above the limit for your role" in refused.json()["message"]
    assert ok(cast.sw.get(f"/journeys/{journey['id']}"))["state"] == "awaiting_panel"


def test_zero_band_names_the_tor_roles_and_other_presets_keep_theirs() -> None:
    scheme = CONFIG.funding_scheme("sgo")
    assert scheme is not None
    zero = FundingRequest.model_validate(funding_form(annual_cost=0, quotes=0))
    assert refusals(zero, scheme, {"panel_chair"}) == []
    assert refusals(zero, scheme, {"team_manager"}) == []
    assert refusals(zero, scheme, {"social_worker"}) != []
    # The other presets' £0 bands are as they were.
    for name in ("sefton", "cypf", "leicestershire", "torbay"):
        other = load_panel(name).funding_scheme("sgo")
        if other is not None:
            assert "panel_chair" not in other.band_for(0).roles, name
