"""The panel's rules written once, tested without a database: who may do what
(panels.permissions), which decision types take a journey in a state, checklist answers,
and the conversion of the service's results to the API's JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from panels import permissions as may
from panels.config import load_panel
from panels.errors import PanelForbidden
from panels.results import (
    Action,
    ChildRecordEntry,
    Deferral,
    ListedAction,
    Minutes,
    Themes,
    fields_of,
    stored_minutes,
    to_json,
)
from services.access import Principal
from states.checklists import ANSWER_CHOICES, ANSWERS_IN_WORDS, COMPLETE_IN_WORDS, missing
from workflow.fields import CHECKLIST_ANSWERS, CHECKLIST_COMPLETE


def _principal(*roles: str, team: str | None = None) -> Principal:
    return Principal(user_id=1, username="someone", roles=frozenset(roles), team=team)


def test_a_rule_refuses_naming_its_roles() -> None:
    sw = _principal("social_worker", team="north")
    assert may.allows(sw, may.REFER_CASE)
    assert not may.allows(sw, may.BUILD_AGENDA)
    with pytest.raises(PanelForbidden) as refused:
        may.require(sw, may.BUILD_AGENDA)
    assert refused.value.message == "This needs one of the roles: panel_admin, panel_chair."
    may.require(_principal("panel_chair"), may.BUILD_AGENDA)


def test_pages_are_offered_every_rule_by_its_key() -> None:
    offered = may.offered(_principal("panel_admin"))
    assert set(offered) == {rule.key for rule in may.RULES}
    assert offered["schedule_meetings"] and offered["draft_minutes"]
    assert not offered["arrange_agenda"] and not offered["refer_case"]


def test_who_records_a_decision() -> None:
    chair, adm, sw = _principal("panel_chair"), _principal("adm"), _principal("social_worker")
    # The service lets the chair in (the engine checks the event's own roles when it fires).
    approve = may.decision_rule(("adm", "social_worker"))
    assert approve.roles == ("panel_chair", "adm")
    assert may.allows(chair, approve) and may.allows(adm, approve)
    assert not may.allows(sw, approve)
    # The page offers the ADM's approval to the ADM only, and an outcome without an event
    # to the chair only.
    assert not may.allows(chair, may.outcome_rule(("adm",)))
    assert may.allows(adm, may.outcome_rule(("adm",)))
    assert may.allows(chair, may.outcome_rule(None))
    assert not may.allows(adm, may.outcome_rule(None))
    done = may.COMPLETE_ACTION.plus("service_manager")
    assert done.roles[-1] == "service_manager" and done.key == "complete_action"


def test_reading_the_panel_needs_children_s_records() -> None:
    may.require_reader(_principal("social_worker", team="north"))
    with pytest.raises(PanelForbidden):
        may.require_reader(_principal("sysadmin"))


def test_decision_types_for_a_journey_in_a_state() -> None:
    config = load_panel("leicestershire")
    ltf = config.decision_types_for("long_term_fostering", "matching_meeting_held")
    assert ltf and all(dt.takes("long_term_fostering", "matching_meeting_held") for dt in ltf)
    assert config.decision_types_for("long_term_fostering", "approved") == [
        dt for dt in ltf if not dt.states
    ]
    keys = [dt.key for dt in config.decision_types_for("long_term_fostering")]
    assert all(dt.key in keys for dt in ltf)
    assert "long_term_fostering" in config.referable_types


def test_checklist_answers_and_their_words() -> None:
    assert [a for a, _ in ANSWER_CHOICES] == list(CHECKLIST_ANSWERS)
    assert set(CHECKLIST_ANSWERS) > CHECKLIST_COMPLETE
    assert ANSWERS_IN_WORDS == "Yes, No or Not applicable"
    assert COMPLETE_IN_WORDS == "Yes or Not applicable"
    answers = {"a": "yes", "b": "not_applicable", "c": "no"}
    assert missing(["a", "b", "c", "d"], answers) == ["c", "d"]


def test_results_as_json_keep_field_order_names_and_iso_dates() -> None:
    action = Action(1, "Visit", None, "social_worker", date(2026, 3, 2), "open", None, 5, 6, 7)
    listed = ListedAction(**fields_of(action), child_reference="C-1", team="north")
    assert list(to_json(listed)) == [*to_json(action), "child_reference", "team"]
    assert to_json(listed)["due_on"] == "2026-03-02" and to_json(listed)["done_on"] is None
    themes = Themes("Panel", date(2026, 1, 1), date(2026, 12, 31), 2, 0, {}, [], {}, {}, {})
    assert list(to_json(themes))[:3] == ["panel", "from", "to"]
    assert to_json(Deferral("defer", "more work")) == {"outcome": "defer", "reason": "more work"}
    at = datetime(2026, 1, 5, 10, 30, 1, 5, tzinfo=UTC)
    entry = ChildRecordEntry(at, "Panel", 1, date(2026, 1, 5), "part_1", {"x": [date(2026, 1, 1)]})
    assert to_json(entry)["at"] == at.isoformat()
    assert to_json(entry)["entry"] == {"x": ["2026-01-01"]}


def test_minutes_read_back_as_they_were_stored() -> None:
    minutes = Minutes("Panel", 3, date(2026, 2, 4), "10:00", [], [], "", [], [], date(2026, 2, 9))
    back = stored_minutes(to_json(minutes), "draft")
    assert back.status == "draft"
    assert fields_of(back) == {**fields_of(minutes), "status": "draft"}
