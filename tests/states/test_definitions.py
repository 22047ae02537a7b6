"""The journey definitions: DOMAIN.md's names, the journey-types API, definition versions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

import states
from services.access import Principal
from services.config import Settings
from services.journeys import JourneyService
from services.models import JOURNEYS as J
from states import sgo
from tests.conftest import Api
from workflow.definition import Event, Field, JourneyDefinition
from workflow.errors import InvalidData
from workflow.machines import Registry

# -- The contract, copied literally from DOMAIN.md ------------------------------------------

DOMAIN_STATES: dict[str, tuple[str, ...]] = {
    "permanence_planning": (
        "awaiting_first_review",
        "awaiting_second_review",
        "plan_required",
        "plan_recorded",
    ),
    "adoption": (
        "plan_considered",
        "raa_linked",
        "cpr_complete",
        "sbpfa_decided",
        "placement_order_granted",
        "match_proposed",
        "match_approved",
        "placed",
        "application_lodged",
        "adopted",
        "closed",
    ),
    "care_proceedings": (
        "issued",
        "ico_made",
        "final_evidence_filed",
        "final_hearing_listed",
        "concluded",
    ),
    "sgo": (
        "proposed",
        "assessment_in_progress",
        "support_plan_drafted",
        "awaiting_panel",
        "signed_off",
        "returned",
        "shared_with_carers",
        "submitted_to_court",
        "order_made",
        "not_made",
        "withdrawn",
    ),
    "long_term_fostering": (
        "plan_agreed",
        "matching_meeting_held",
        "pack_submitted",
        "panel_recommended",
        "deferred",
        "approved",
        "disrupted",
        "closed",
    ),
    "placed_with_parents": (
        "placed",
        "discharge_planned",
        "discharge_applied",
        "discharged",
        "placement_ended",
    ),
    "connected_person_approval": (
        "temporarily_approved",
        "extended",
        "at_fostering_panel",
        "approved",
        "not_approved",
        "ended",
    ),
    "reunification": (
        "assessment_started",
        "assessed",
        "decided",
        "returned_home",
        "post_return_review",
        "closed",
        "not_proceeding",
    ),
    "child_arrangements_order": (
        "proposed",
        "assessment_in_progress",
        "support_plan_drafted",
        "application_made",
        "order_made",
        "not_made",
        "withdrawn",
    ),
}

DOMAIN_EVENTS: dict[str, tuple[str, ...]] = {
    "permanence_planning": ("hold_review", "record_permanence_plan", "cease_looked_after"),
    "adoption": ("change_plan",),
    "care_proceedings": ("extend_timetable", "add_direction", "complete_direction"),
    "sgo": (),
    "long_term_fostering": (),
    "placed_with_parents": ("hold_review",),
    "connected_person_approval": ("extend",),
    "reunification": (),
    "child_arrangements_order": ("sign_off_funding",),
}

# Event names the API and the other tests rely on (the brief), beside DOMAIN.md's.
API_EVENTS: dict[str, tuple[str, ...]] = {
    "sgo": (
        "start_assessment",
        "draft_support_plan",
        "submit_to_panel",
        "sign_off",
        "return_for_amendment",
        "amend_plan",
        "share_with_carers",
        "submit_to_court",
        "make_order",
        "refuse_order",
        "withdraw",
    ),
    "long_term_fostering": (
        "hold_matching_meeting",
        "submit_pack",
        "recommend",
        "defer",
        "approve",
        "disrupt",
        "close",
    ),
    "placed_with_parents": (
        "plan_discharge",
        "apply_for_discharge",
        "discharge",
        "end_placement",
    ),
}

DOMAIN_INITIAL = {
    "permanence_planning": "awaiting_first_review",
    "adoption": "plan_considered",
    "care_proceedings": "issued",
    "sgo": "proposed",
    "long_term_fostering": "plan_agreed",
    "placed_with_parents": "placed",
    "connected_person_approval": "temporarily_approved",
    "reunification": "assessment_started",
    "child_arrangements_order": "proposed",
}

# Final states DOMAIN.md names, and those of them in which permanence is secured.
DOMAIN_FINAL = {
    "permanence_planning": set(),
    "adoption": {"adopted", "closed"},
    "care_proceedings": {"concluded"},
    "sgo": {"order_made", "not_made", "withdrawn"},
    "long_term_fostering": {"approved", "disrupted", "closed"},
    "placed_with_parents": {"discharged", "placement_ended"},
    "connected_person_approval": {"approved", "not_approved", "ended"},
    "reunification": {"closed", "not_proceeding"},
    "child_arrangements_order": {"order_made", "not_made", "withdrawn"},
}
DOMAIN_SECURED = {
    "permanence_planning": set(),
    "adoption": {"adopted"},
    "care_proceedings": set(),
    "sgo": {"order_made"},
    "long_term_fostering": {"approved"},
    "placed_with_parents": {"discharged"},
    "connected_person_approval": set(),
    "reunification": {"closed"},
    "child_arrangements_order": {"order_made"},
}

# The arrows of DOMAIN.md: some event must lead from the first state to the second.
DOMAIN_MOVES: dict[str, tuple[tuple[str, str], ...]] = {
    "permanence_planning": (
        ("awaiting_first_review", "awaiting_second_review"),
        ("awaiting_second_review", "plan_required"),
        ("awaiting_second_review", "plan_recorded"),
    ),
    "adoption": (
        ("plan_considered", "raa_linked"),
        ("raa_linked", "cpr_complete"),
        ("cpr_complete", "sbpfa_decided"),
        ("sbpfa_decided", "placement_order_granted"),
        ("placement_order_granted", "match_proposed"),
        ("match_proposed", "match_approved"),
        ("match_approved", "placed"),
        ("placed", "application_lodged"),
        ("application_lodged", "adopted"),
    ),
    "care_proceedings": (
        ("issued", "ico_made"),
        ("ico_made", "final_evidence_filed"),
        ("final_evidence_filed", "final_hearing_listed"),
        ("final_hearing_listed", "concluded"),
    ),
    "sgo": (
        ("proposed", "assessment_in_progress"),
        ("assessment_in_progress", "support_plan_drafted"),
        ("support_plan_drafted", "awaiting_panel"),
        ("awaiting_panel", "signed_off"),
        ("awaiting_panel", "returned"),
        ("returned", "support_plan_drafted"),
        ("signed_off", "shared_with_carers"),
        ("shared_with_carers", "submitted_to_court"),
        ("submitted_to_court", "order_made"),
        ("submitted_to_court", "not_made"),
        ("submitted_to_court", "withdrawn"),
    ),
    "long_term_fostering": (
        ("plan_agreed", "matching_meeting_held"),
        ("matching_meeting_held", "pack_submitted"),
        ("pack_submitted", "panel_recommended"),
        ("pack_submitted", "deferred"),
        ("panel_recommended", "approved"),
        ("panel_recommended", "disrupted"),
        ("panel_recommended", "closed"),
    ),
    "placed_with_parents": (
        ("placed", "discharge_planned"),
        ("discharge_planned", "discharge_applied"),
        ("discharge_applied", "discharged"),
        ("placed", "placement_ended"),
    ),
    "connected_person_approval": (
        ("temporarily_approved", "extended"),
        ("extended", "at_fostering_panel"),
        ("temporarily_approved", "at_fostering_panel"),
        ("at_fostering_panel", "approved"),
        ("at_fostering_panel", "not_approved"),
        ("temporarily_approved", "ended"),
    ),
    "reunification": (
        ("assessment_started", "assessed"),
        ("assessed", "decided"),
        ("decided", "returned_home"),
        ("returned_home", "post_return_review"),
        ("post_return_review", "closed"),
        ("assessed", "not_proceeding"),
    ),
    "child_arrangements_order": (
        ("proposed", "assessment_in_progress"),
        ("assessment_in_progress", "support_plan_drafted"),
        ("support_plan_drafted", "application_made"),
        ("application_made", "order_made"),
        ("application_made", "not_made"),
        ("application_made", "withdrawn"),
    ),
}

TYPES = tuple(DOMAIN_STATES)


def _definition(journey_type: str) -> JourneyDefinition:
    matches = [d for d in states.DEFINITIONS if d.type == journey_type]
    assert len(matches) == 1, journey_type
    return matches[0]


def _moves(d: JourneyDefinition) -> set[tuple[str, str]]:
    return {
        (source, dest)
        for ev in d.events
        for source in d.sources_of(ev)
        for dest in ev.destinations_from(source)
    }


def test_the_nine_journeys_are_defined() -> None:
    assert [d.type for d in states.DEFINITIONS] == list(TYPES)
    assert states.build_registry().types() == list(TYPES)


@pytest.mark.parametrize("journey_type", TYPES)
def test_domain_state_names_are_all_present(journey_type: str) -> None:
    names = _definition(journey_type).state_names
    missing = [s for s in DOMAIN_STATES[journey_type] if s not in names]
    assert missing == []


@pytest.mark.parametrize("journey_type", TYPES)
def test_domain_event_names_are_all_present(journey_type: str) -> None:
    d = _definition(journey_type)
    names = {e.name for e in d.events}
    expected = DOMAIN_EVENTS[journey_type] + API_EVENTS.get(journey_type, ())
    assert [e for e in expected if e not in names] == []


@pytest.mark.parametrize("journey_type", TYPES)
def test_initial_final_and_secured_states(journey_type: str) -> None:
    d = _definition(journey_type)
    assert d.initial == DOMAIN_INITIAL[journey_type]
    named = set(DOMAIN_STATES[journey_type])
    assert d.final_states & named == DOMAIN_FINAL[journey_type]
    secured = {s.name for s in d.states if s.secured}
    assert secured & named == DOMAIN_SECURED[journey_type]
    assert secured <= d.final_states  # only a final state can secure permanence


@pytest.mark.parametrize("journey_type", TYPES)
def test_domain_moves_exist(journey_type: str) -> None:
    moves = _moves(_definition(journey_type))
    assert [m for m in DOMAIN_MOVES[journey_type] if m not in moves] == []


@pytest.mark.parametrize("journey_type", TYPES)
def test_every_state_reachable_and_no_dead_ends(journey_type: str) -> None:
    d = _definition(journey_type)
    moves = _moves(d)
    reached = {d.initial}
    frontier = [d.initial]
    while frontier:
        state = frontier.pop()
        for source, dest in moves:
            if source == state and dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    assert set(d.state_names) - reached == set()
    for state in d.open_states:
        assert any(src == state and dst != state for src, dst in moves), state
    for state in d.final_states:
        assert d.events_from(state) == (), state


def test_any_open_state_events_expand_to_every_open_state() -> None:
    d = _definition("sgo")
    withdraw = d.event("withdraw")
    assert withdraw is not None
    assert d.sources_of(withdraw) == d.open_states
    assert set(d.open_states) >= set(DOMAIN_STATES["sgo"]) - DOMAIN_FINAL["sgo"]


# -- GET /api/v1/journey-types --------------------------------------------------------------


def test_journey_types_needs_a_token(app_client: TestClient) -> None:
    assert app_client.get("/api/v1/journey-types").status_code == 401


def test_journey_types_describe_every_definition(sw: Api) -> None:
    response = sw.get("/journey-types")
    assert response.status_code == 200
    body = {t["type"]: t for t in response.json()}
    assert list(body) == list(TYPES)
    for journey_type, described in body.items():
        d = _definition(journey_type)
        assert described["version"] == 1
        assert described["initial"] == DOMAIN_INITIAL[journey_type]
        assert [s["name"] for s in described["states"]] == list(d.state_names)
        assert {s["name"] for s in described["states"] if s["final"]} == d.final_states
        assert [e["event"] for e in described["events"]] == [e.name for e in d.events]
        for event in described["events"]:
            assert event["sources"], event
            assert event["roles"], event
            for f in event["fields"]:
                assert {"name", "type", "required"} <= set(f)
        diagram = described["mermaid"]
        assert diagram.startswith("stateDiagram-v2\n")
        assert f"[*] --> {DOMAIN_INITIAL[journey_type]}" in diagram
        for source, dest in DOMAIN_MOVES[journey_type]:
            assert f"    {source} --> {dest} : " in diagram, (source, dest)
        for final in d.final_states:
            assert f"    {final} --> [*]" in diagram


def test_journey_types_event_details(sw: Api) -> None:
    body = {t["type"]: t for t in sw.get("/journey-types").json()}
    sgo_events = {e["event"]: e for e in body["sgo"]["events"]}
    sign_off = dict(sgo_events["sign_off"])
    # At panel the funding form's quotes arrive with the sign-off (one source of truth).
    assert [f["name"] for f in sign_off.pop("fields")] == [
        "quotes_received",
        "commissioned_placement",
    ]
    assert sign_off == {
        "event": "sign_off",
        "label": "sign off the support plan",
        "sources": ["awaiting_panel"],
        "destination": "signed_off",
        "destinations": ["signed_off"],
        "internal": False,
        "roles": ["team_manager", "service_manager", "service_director"],
    }
    draft_fields = {f["name"]: f for f in sgo_events["draft_support_plan"]["fields"]}
    assert draft_fields["additional_funding"]["type"] == "decimal"
    assert draft_fields["additional_funding"]["required"] is True
    assert draft_fields["additional_funding"]["minimum"] == 0
    assert draft_fields["quotes_received"]["type"] == "integer"
    assert draft_fields["commissioned_placement"] == {
        "name": "commissioned_placement",
        "type": "boolean",
        "required": False,
        "label": "Support inside a commissioned placement",
    }
    assert sgo_events["share_with_carers"]["fields"][0]["name"] == "carers_feedback"
    assert sgo_events["share_with_carers"]["fields"][0]["required"] is True
    assert set(sgo_events["withdraw"]["sources"]) == set(DOMAIN_STATES["sgo"]) - DOMAIN_FINAL["sgo"]
    assert [f["name"] for f in body["sgo"]["start"]["fields"]] == [
        "carers_reference",
        "court_filing_due",
    ]

    ltf = body["long_term_fostering"]
    assert ltf["start"]["fields"] == [
        {
            "name": "placement_kind",
            "type": "choice",
            "required": True,
            "choices": ["mainstream", "connected", "residential"],
        }
    ]
    ltf_events = {e["event"]: e for e in ltf["events"]}
    assert ltf_events["submit_pack"]["sources"] == ["matching_meeting_held", "deferred"]
    checklist = {f["name"]: f for f in ltf_events["submit_pack"]["fields"]}["checklist"]
    assert checklist["type"] == "checklist"
    assert "form_f_review" in checklist["choices"]
    assert "views" in checklist["choices"]
    assert ltf_events["approve"]["roles"] == ["adm"]
    assert ltf_events["defer"]["roles"] == ["panel_chair"]

    pwp_events = {e["event"]: e for e in body["placed_with_parents"]["events"]}
    assert pwp_events["hold_review"]["internal"] is True
    assert pwp_events["hold_review"]["destination"] is None
    assert pwp_events["discharge"]["fields"] == [
        {
            "name": "outcome",
            "type": "choice",
            "required": True,
            "choices": ["supervision_order", "no_order", "sgo", "cao"],
        }
    ]

    planning = {e["event"]: e for e in body["permanence_planning"]["events"]}
    # A branching event names no single destination but lists them all.
    assert planning["hold_review"]["destination"] is None
    assert set(planning["hold_review"]["destinations"]) >= {
        "awaiting_second_review",
        "plan_required",
    }


# -- Definition versions ---------------------------------------------------------------------


def _sgo_v2() -> JourneyDefinition:
    """SGO version 2: starting the assessment now names the assessor."""
    events: list[Event] = []
    for ev in sgo.DEFINITION.events:
        if ev.name == "start_assessment":
            ev = dataclasses.replace(ev, fields=(Field("assessor", "string", required=True),))
        events.append(ev)
    return dataclasses.replace(
        sgo.DEFINITION, version=2, title="Special guardianship (v2)", events=tuple(events)
    )


def _registry(*extra: JourneyDefinition) -> Registry:
    registry = Registry()
    for d in (*states.DEFINITIONS, *extra):
        registry.register(d)
    return registry


def test_registry_keeps_every_version_and_the_highest_is_current() -> None:
    v2 = _sgo_v2()
    registry = Registry()
    registry.register(v2)
    registry.register(sgo.DEFINITION)  # an older version registered later
    current = registry.current("sgo")
    assert current is not None
    assert current.definition is v2
    assert registry.get("sgo", 1).definition is sgo.DEFINITION
    assert registry.get("sgo", 2).definition.event("start_assessment") is not None
    assert registry.types() == ["sgo"]
    assert registry.current("adoption") is None
    with pytest.raises(ValueError, match="sgo v2 is already registered"):
        registry.register(_sgo_v2())
    # The copy's event index is its own, not the original's.
    assert v2.event("start_assessment") is not sgo.DEFINITION.event("start_assessment")
    assert sgo.DEFINITION.event("start_assessment").fields == ()  # type: ignore[union-attr]


def test_running_journey_keeps_its_definition_version(
    engine: Engine,
    settings: Settings,
    sw: Api,
    principal_of: Callable[[int], Principal],
) -> None:
    principal = principal_of(sw.user_id)
    first = sw.create_child("V-1")
    second = sw.create_child("V-2")

    v1_service = JourneyService(engine, _registry(), settings.policy())
    old = v1_service.start(
        first["id"], "sgo", started_on=date(2025, 9, 1), data={}, principal=principal
    )
    assert old.definition_version == 1

    # The service is redeployed with version 2 of the SGO definition.
    service = JourneyService(engine, _registry(_sgo_v2()), settings.policy())
    new = service.start(
        second["id"], "sgo", started_on=date(2025, 9, 1), data={}, principal=principal
    )
    assert new.definition_version == 2
    assert new.title == "Special guardianship (v2)"
    assert service.get(old.id, principal).title == "Special guardianship support plan"

    # The old journey still follows version 1: no assessor, and none accepted.
    with pytest.raises(InvalidData) as refused:
        service.fire(
            old.id,
            event="start_assessment",
            expected_version=1,
            occurred_on=date(2025, 9, 15),
            data={"assessor": "A. Assessor"},
            principal=principal,
        )
    assert refused.value.details["errors"] == ["unknown field 'assessor'"]
    moved = service.fire(
        old.id,
        event="start_assessment",
        expected_version=1,
        occurred_on=date(2025, 9, 15),
        data={},
        principal=principal,
    )
    assert (moved.state, moved.definition_version) == ("assessment_in_progress", 1)

    # The new journey follows version 2.
    with pytest.raises(InvalidData) as refused:
        service.fire(
            new.id,
            event="start_assessment",
            expected_version=1,
            occurred_on=date(2025, 9, 15),
            data={},
            principal=principal,
        )
    assert refused.value.details["errors"] == ["assessor is required"]
    moved = service.fire(
        new.id,
        event="start_assessment",
        expected_version=1,
        occurred_on=date(2025, 9, 15),
        data={"assessor": "A. Assessor"},
        principal=principal,
    )
    assert (moved.state, moved.definition_version) == ("assessment_in_progress", 2)
    assert moved.data["assessor"] == "A. Assessor"

    with engine.connect() as conn:
        stored: dict[int, int] = dict(conn.execute(select(J.c.id, J.c.definition_version)).all())
    assert stored == {old.id: 1, new.id: 2}

    # The API (built with the version 1 registry) still serves the old journey.
    served: dict[str, Any] = sw.get(f"/journeys/{old.id}").json()
    assert (served["state"], served["definition_version"]) == ("assessment_in_progress", 1)
