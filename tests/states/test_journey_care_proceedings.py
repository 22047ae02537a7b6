"""Care proceedings walked through the HTTP API: 26 weeks, extensions, directions, outcomes.

Proceedings issued on Monday 1 September 2025 must finish within 26 weeks: by Monday
2 March 2026 (issue date + 182 days).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

ISSUED = "2025-09-01"
DUE_26 = "2026-03-02"


def deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(x["kind"], x["ref"], x["due_on"], x["status"]) for x in journey["deadlines"]]


def timetable(journey: dict[str, Any]) -> dict[str, Any]:
    [found] = [x for x in journey["deadlines"] if x["kind"] == "proceedings_26_weeks"]
    return dict(found)


def issue(sw: Api, reference: str = "C-0001") -> dict[str, Any]:
    child = sw.create_child(reference=reference, looked_after_since="2025-08-20")
    return sw.start(
        child["id"],
        "care_proceedings",
        started_on=ISSUED,
        data={"court": "Liverpool Family Court", "case_number": "LV25C00123"},
    )


def test_issue_opens_the_26_week_deadline(sw: Api) -> None:
    journey = issue(sw)
    assert journey["state"] == "issued"
    assert journey["status"] == "active"
    assert journey["version"] == 1
    assert journey["started_on"] == ISSUED
    assert journey["data"]["issued_on"] == ISSUED
    assert journey["data"]["court"] == "Liverpool Family Court"
    assert journey["data"]["case_number"] == "LV25C00123"
    assert deadlines(journey) == [("proceedings_26_weeks", "", DUE_26, "open")]
    assert journey["suggested_next"] is None
    assert [o["event"] for o in journey["available_events"]] == [
        "make_ico",
        "file_final_evidence",
        "conclude",
        "extend_timetable",
        "add_direction",
        "complete_direction",
    ]


def test_issue_defaults_to_looked_after_since_when_no_date_given(sw: Api) -> None:
    child = sw.create_child(looked_after_since="2025-08-20")
    journey = sw.start(child["id"], "care_proceedings")
    assert journey["started_on"] == "2025-08-20"
    # 20 August 2025 + 182 days = 18 February 2026.
    assert deadlines(journey) == [("proceedings_26_weeks", "", "2026-02-18", "open")]


def test_whole_proceedings_to_a_care_order_with_a_plan_of_adoption(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "make_ico", "2025-09-03")
    assert (journey["state"], journey["version"]) == ("ico_made", 2)
    assert journey["data"]["ico_made_on"] == "2025-09-03"

    journey = sw.fire(
        journey,
        "add_direction",
        "2025-09-10",
        {"direction": "Psychological assessment of the mother", "due_on": "2025-11-05"},
    )
    assert (journey["state"], journey["version"]) == ("ico_made", 3)

    journey = sw.fire(
        journey,
        "extend_timetable",
        "2026-02-10",
        {"weeks": 4, "reason": "Awaiting the expert's report."},
    )
    assert (journey["state"], journey["version"]) == ("ico_made", 4)
    assert timetable(journey)["due_on"] == "2026-03-30"

    journey = sw.fire(journey, "complete_direction", "2026-02-11", {"direction_ref": "1"})
    journey = sw.fire(journey, "file_final_evidence", "2026-02-20")
    assert (journey["state"], journey["version"]) == ("final_evidence_filed", 6)
    assert journey["data"]["final_evidence_filed_on"] == "2026-02-20"

    journey = sw.fire(journey, "list_final_hearing", "2026-02-25", {"hearing_date": "2026-03-20"})
    assert (journey["state"], journey["version"]) == ("final_hearing_listed", 7)
    assert deadlines(journey) == [
        ("court_direction", "1", "2025-11-05", "met"),
        ("final_hearing", "", "2026-03-20", "open"),
        ("proceedings_26_weeks", "", "2026-03-30", "open"),
    ]
    assert [o["event"] for o in journey["available_events"]] == [
        "conclude",
        "extend_timetable",
        "add_direction",
        "complete_direction",
    ]

    journey = sw.fire(
        journey, "conclude", "2026-03-20", {"outcome": "care_order", "care_plan": "adoption"}
    )
    assert journey["state"] == "concluded"
    assert journey["status"] == "closed"
    assert journey["version"] == 8
    assert journey["closed_on"] == "2026-03-20"
    assert journey["outcome"] == "care_order"
    assert journey["data"]["concluded_on"] == "2026-03-20"
    assert journey["suggested_next"] == "adoption"
    assert journey["available_events"] == []
    assert deadlines(journey) == [
        ("court_direction", "1", "2025-11-05", "met"),
        ("final_hearing", "", "2026-03-20", "met"),
        ("proceedings_26_weeks", "", "2026-03-30", "met"),
    ]
    assert timetable(journey)["met_on"] == "2026-03-20"

    entries = sw.history(journey)
    assert [(e["event"], e["from_state"], e["to_state"]) for e in entries] == [
        ("start", None, "issued"),
        ("make_ico", "issued", "ico_made"),
        ("add_direction", "ico_made", "ico_made"),
        ("extend_timetable", "ico_made", "ico_made"),
        ("complete_direction", "ico_made", "ico_made"),
        ("file_final_evidence", "ico_made", "final_evidence_filed"),
        ("list_final_hearing", "final_evidence_filed", "final_hearing_listed"),
        ("conclude", "final_hearing_listed", "concluded"),
    ]

    body = sw.fire(journey, "extend_timetable", "2026-03-21", {"weeks": 2, "reason": "x"}, 409)
    assert body["error"] == "journey_closed"
    assert sw.reload(journey)["version"] == 8


def test_final_evidence_may_be_filed_without_an_ico(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "file_final_evidence", "2025-12-01")
    assert journey["state"] == "final_evidence_filed"


def test_final_hearing_cannot_be_listed_for_a_date_already_past(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "file_final_evidence", "2025-12-01")
    body = sw.fire(
        journey, "list_final_hearing", "2025-12-10", {"hearing_date": "2025-12-09"}, expect=422
    )
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["The final hearing date cannot be before the date it was listed."]
    body = sw.fire(journey, "list_final_hearing", "2025-12-10", {}, expect=422)
    assert body["errors"] == ["hearing_date is required"]
    body = sw.fire(
        journey, "list_final_hearing", "2025-12-10", {"hearing_date": "soon"}, expect=422
    )
    assert body["errors"] == ["hearing_date must be a date (YYYY-MM-DD)"]
    after = sw.reload(journey)
    assert (after["state"], after["version"]) == ("final_evidence_filed", 2)
    # A hearing listed for the same day (or later, even after today) is accepted.
    listed = sw.fire(journey, "list_final_hearing", "2025-12-10", {"hearing_date": "2027-01-11"})
    assert listed["state"] == "final_hearing_listed"
    assert ("final_hearing", "", "2027-01-11", "open") in deadlines(listed)


def test_extend_timetable_moves_the_deadline_and_records_the_move(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "make_ico", "2025-09-03")
    journey = sw.fire(
        journey, "extend_timetable", "2026-02-10", {"weeks": 8, "reason": "Late assessment."}
    )
    assert journey["state"] == "ico_made"
    assert journey["version"] == 3
    # One deadline, moved (not a second one opened): 2 March + 8 weeks = 27 April.
    assert deadlines(journey) == [("proceedings_26_weeks", "", "2026-04-27", "open")]
    assert journey["data"]["extension_weeks"] == 8
    assert journey["data"]["extensions"] == [{"weeks": 8, "on": "2026-02-10"}]
    entry = sw.history(journey)[-1]
    assert entry["event"] == "extend_timetable"
    assert entry["occurred_on"] == "2026-02-10"
    assert entry["data"] == {
        "weeks": 8,
        "reason": "Late assessment.",
        "deadlines": [
            {
                "action": "move",
                "kind": "proceedings_26_weeks",
                "due_on": "2026-04-27",
                "previous_due_on": DUE_26,
            }
        ],
    }

    # A second extension counts from the extended date: 27 April + 1 week = 4 May.
    journey = sw.fire(
        journey, "extend_timetable", "2026-04-20", {"weeks": 1, "reason": "Judge unavailable."}
    )
    assert deadlines(journey) == [("proceedings_26_weeks", "", "2026-05-04", "open")]
    assert journey["data"]["extension_weeks"] == 9
    assert sw.history(journey)[-1]["data"]["deadlines"] == [
        {
            "action": "move",
            "kind": "proceedings_26_weeks",
            "due_on": "2026-05-04",
            "previous_due_on": "2026-04-27",
        }
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"weeks": 9, "reason": "Too long."}, ["weeks must be at most 8"]),
        ({"weeks": 0, "reason": "Nothing."}, ["weeks must be at least 1"]),
        ({"weeks": -2, "reason": "Backwards."}, ["weeks must be at least 1"]),
        ({"weeks": 4}, ["reason is required"]),
        ({"weeks": 4, "reason": "   "}, ["reason is required"]),
        ({"reason": "No length."}, ["weeks is required"]),
        ({"weeks": "four", "reason": "Words."}, ["weeks must be a whole number"]),
        ({"weeks": 2.5, "reason": "Fraction."}, ["weeks must be a whole number"]),
    ],
)
def test_extend_timetable_refuses_bad_input(
    sw: Api, data: dict[str, Any], errors: list[str]
) -> None:
    journey = issue(sw)
    body = sw.fire(journey, "extend_timetable", "2026-02-10", data, expect=422)
    assert body["error"] == "invalid_data"
    assert body["errors"] == errors
    after = sw.reload(journey)
    assert after["version"] == 1
    assert deadlines(after) == [("proceedings_26_weeks", "", DUE_26, "open")]
    assert "extension_weeks" not in after["data"]
    assert len(sw.history(journey)) == 1


def test_court_directions_open_and_meet_deadlines_by_ref(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(
        journey,
        "add_direction",
        "2025-09-10",
        {"direction": "Psychological assessment of the mother", "due_on": "2025-11-05"},
    )
    journey = sw.fire(
        journey,
        "add_direction",
        "2025-09-12",
        {"direction": "Parenting assessment", "due_on": "2025-10-31"},
    )
    assert journey["state"] == "issued"
    assert journey["version"] == 3
    assert deadlines(journey) == [
        ("court_direction", "2", "2025-10-31", "open"),
        ("court_direction", "1", "2025-11-05", "open"),
        ("proceedings_26_weeks", "", DUE_26, "open"),
    ]
    assert journey["data"]["directions"] == [
        {
            "ref": "1",
            "direction": "Psychological assessment of the mother",
            "due_on": "2025-11-05",
            "made_on": "2025-09-10",
            "completed_on": None,
        },
        {
            "ref": "2",
            "direction": "Parenting assessment",
            "due_on": "2025-10-31",
            "made_on": "2025-09-12",
            "completed_on": None,
        },
    ]
    assert sw.history(journey)[-1]["data"]["deadlines"] == [
        {"action": "open", "kind": "court_direction", "ref": "2", "due_on": "2025-10-31"}
    ]

    journey = sw.fire(journey, "complete_direction", "2025-11-03", {"direction_ref": "1"})
    assert journey["version"] == 4
    assert deadlines(journey) == [
        ("court_direction", "2", "2025-10-31", "open"),
        ("court_direction", "1", "2025-11-05", "met"),
        ("proceedings_26_weeks", "", DUE_26, "open"),
    ]
    [first] = [x for x in journey["deadlines"] if x["ref"] == "1"]
    assert first["met_on"] == "2025-11-03"
    assert journey["data"]["directions"][0]["completed_on"] == "2025-11-03"
    assert journey["data"]["directions"][1]["completed_on"] is None
    assert sw.history(journey)[-1]["data"] == {
        "direction_ref": "1",
        "deadlines": [
            {"action": "meet", "kind": "court_direction", "ref": "1", "due_on": "2025-11-05"}
        ],
    }

    # Already complete: refused, nothing written.
    body = sw.fire(journey, "complete_direction", "2025-11-04", {"direction_ref": "1"}, 422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["Direction 1 is already complete."]
    # Unknown: refused.
    body = sw.fire(journey, "complete_direction", "2025-11-04", {"direction_ref": "9"}, 422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["There is no court direction 9."]
    # Missing ref: refused as invalid data.
    body = sw.fire(journey, "complete_direction", "2025-11-04", {}, 422)
    assert body["error"] == "invalid_data"
    assert body["errors"] == ["direction_ref is required"]
    after = sw.reload(journey)
    assert after["version"] == 4
    assert after["data"]["directions"] == journey["data"]["directions"]
    assert len(sw.history(journey)) == 4

    # The open direction is cancelled when the proceedings end.
    journey = sw.fire(journey, "conclude", "2025-12-01", {"outcome": "withdrawn"})
    assert journey["outcome"] == "withdrawn"
    assert journey["suggested_next"] is None
    assert deadlines(journey) == [
        ("court_direction", "2", "2025-10-31", "cancelled"),
        ("court_direction", "1", "2025-11-05", "met"),
        ("proceedings_26_weeks", "", DUE_26, "met"),
    ]


def test_complete_direction_with_no_directions_at_all(sw: Api) -> None:
    journey = issue(sw)
    body = sw.fire(journey, "complete_direction", "2025-09-10", {"direction_ref": "1"}, 422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["There is no court direction 1."]


def test_add_direction_needs_a_direction_and_a_due_date(sw: Api) -> None:
    journey = issue(sw)
    body = sw.fire(journey, "add_direction", "2025-09-10", {}, 422)
    assert body["errors"] == ["direction is required", "due_on is required"]
    body = sw.fire(
        journey, "add_direction", "2025-09-10", {"direction": "X", "due_on": "31/12/2025"}, 422
    )
    assert body["errors"] == ["due_on must be a date (YYYY-MM-DD)"]
    assert sw.reload(journey)["version"] == 1


@pytest.mark.parametrize(
    ("data", "suggested"),
    [
        ({"outcome": "care_order", "care_plan": "adoption"}, "adoption"),
        ({"outcome": "placement_order"}, "adoption"),
        ({"outcome": "placement_order", "care_plan": "adoption"}, "adoption"),
        ({"outcome": "care_order", "care_plan": "long_term_fostering"}, "long_term_fostering"),
        ({"outcome": "care_order", "care_plan": "placed_with_parents"}, "placed_with_parents"),
        ({"outcome": "care_order", "care_plan": "special_guardianship"}, "sgo"),
        ({"outcome": "care_order", "care_plan": "residential"}, None),
        ({"outcome": "care_order"}, None),
        ({"outcome": "sgo"}, None),
        ({"outcome": "cao"}, None),
        ({"outcome": "supervision_order"}, None),
        ({"outcome": "no_order"}, None),
        ({"outcome": "withdrawn"}, None),
    ],
)
def test_conclusion_suggests_the_follow_on_journey(
    sw: Api, data: dict[str, str], suggested: str | None
) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "make_ico", "2025-09-03")
    journey = sw.fire(journey, "conclude", "2026-02-27", data)
    assert journey["state"] == "concluded"
    assert journey["status"] == "closed"
    assert journey["outcome"] == data["outcome"]
    assert journey["data"]["outcome"] == data["outcome"]
    assert journey["suggested_next"] == suggested
    assert sw.reload(journey)["suggested_next"] == suggested
    assert deadlines(journey) == [("proceedings_26_weeks", "", DUE_26, "met")]


def test_conclude_needs_a_known_outcome(sw: Api) -> None:
    journey = issue(sw)
    body = sw.fire(journey, "conclude", "2026-02-27", {}, 422)
    assert body["errors"] == ["outcome is required"]
    body = sw.fire(journey, "conclude", "2026-02-27", {"outcome": "adopted"}, 422)
    assert body["error"] == "invalid_data"
    assert body["errors"][0].startswith("outcome must be one of: care_order, placement_order")
    body = sw.fire(
        journey, "conclude", "2026-02-27", {"outcome": "care_order", "care_plan": "boarding"}, 422
    )
    assert body["errors"][0].startswith("care_plan must be one of: adoption")
    assert sw.reload(journey)["status"] == "active"


def test_late_conclusion_still_meets_the_deadline_on_its_date(sw: Api) -> None:
    journey = issue(sw)
    journey = sw.fire(journey, "conclude", "2026-03-16", {"outcome": "supervision_order"})
    [row] = journey["deadlines"]
    assert (row["due_on"], row["status"], row["met_on"]) == (DUE_26, "met", "2026-03-16")


def test_events_out_of_order_and_refused_roles(sw: Api, adm: Api) -> None:
    journey = issue(sw)
    body = sw.fire(journey, "list_final_hearing", "2025-10-01", {"hearing_date": "2026-01-05"}, 409)
    assert body["error"] == "event_not_available"
    assert body["state"] == "issued"
    journey = sw.fire(journey, "make_ico", "2025-09-03")
    body = sw.fire(journey, "make_ico", "2025-09-04", expect=409)
    assert body["error"] == "event_not_available"
    assert "make_ico" not in body["available_events"]
    # The ADM does not run proceedings.
    body = adm.fire(journey, "extend_timetable", "2026-02-10", {"weeks": 2, "reason": "r"}, 403)
    assert body["error"] == "role_not_allowed"
    assert deadlines(sw.reload(journey)) == [("proceedings_26_weeks", "", DUE_26, "open")]


def test_direction_dates_must_be_consistent(sw: Api) -> None:
    journey = issue(sw)
    # Due before it was made: refused.
    body = sw.fire(
        journey, "add_direction", "2025-10-10", {"direction": "Report", "due_on": "2025-10-09"}, 422
    )
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["A court direction cannot be due before the date it was made."]
    assert sw.reload(journey)["version"] == 1
    # Due on the day it was made: accepted.
    journey = sw.fire(
        journey, "add_direction", "2025-10-10", {"direction": "Report", "due_on": "2025-10-10"}
    )
    assert deadlines(journey)[0] == ("court_direction", "1", "2025-10-10", "open")
    # Completed before it was made: refused.
    body = sw.fire(journey, "complete_direction", "2025-10-09", {"direction_ref": "1"}, 422)
    assert body["error"] == "guard_failed"
    assert body["reasons"] == ["Direction 1 cannot be completed before it was made (2025-10-10)."]
    assert sw.reload(journey)["version"] == 2
    # Completed late, after its due date: met all the same, on the day it was done.
    journey = sw.fire(journey, "complete_direction", "2025-10-20", {"direction_ref": "1"})
    [row] = [x for x in journey["deadlines"] if x["kind"] == "court_direction"]
    assert (row["status"], row["met_on"]) == ("met", "2025-10-20")
