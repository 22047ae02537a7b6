"""Connected person temporary approval: 16 weeks (reg 24), one extension of up to 8 (reg 25)."""

from __future__ import annotations

from typing import Any

from states import deadline_kinds
from tests.conftest import Api, UserFactory

EXTENSION = {"weeks": 8, "reason": "Panel date is after the 16 weeks.", "nominated_officer": "NO-1"}


def _deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(d["kind"], d["due_on"], d["status"], d["met_on"]) for d in journey["deadlines"]]


def _placed(sw: Api, placed_on: str = "2025-04-01", ref: str = "CPA-1") -> dict[str, Any]:
    child = sw.create_child(ref)
    journey = sw.start(
        child["id"], "connected_person_approval", placed_on, {"carers_reference": "K-1"}
    )
    assert journey["state"] == "temporarily_approved"
    return journey


def test_sixteen_weeks_are_calendar_weeks_across_bank_holidays(sw: Api) -> None:
    # Good Friday, Easter Monday and both May bank holidays of 2025 fall inside the 16 weeks:
    # the approval still ends 16 calendar weeks (112 days) after the placement.
    journey = _placed(sw, "2025-04-01")
    assert journey["data"]["placed_on"] == "2025-04-01"
    assert journey["data"]["approval_expires_on"] == "2025-07-22"
    assert _deadlines(journey) == [("reg24_temporary_approval", "2025-07-22", "open", None)]
    assert journey["deadlines"][0]["owner_role"] == "social_worker"
    # A statutory kind: it climbs the reminder and escalation ladder like the others.
    assert "reg24_temporary_approval" in deadline_kinds.STATUTORY


def test_walk_extended_to_panel_and_approved(sw: Api, adm: Api) -> None:
    journey = _placed(sw)
    refused = sw.fire(journey, "extend", "2025-07-10", EXTENSION, expect=403)
    assert refused["error"] == "role_not_allowed"
    journey = adm.fire(journey, "extend", "2025-07-10", EXTENSION)
    assert journey["state"] == "extended"
    assert journey["data"]["extended_on"] == "2025-07-10"
    assert journey["data"]["nominated_officer"] == "NO-1"
    assert journey["data"]["approval_expires_on"] == "2025-09-16"
    # The one deadline moves to the end of the extension.
    assert _deadlines(journey) == [("reg24_temporary_approval", "2025-09-16", "open", None)]

    journey = sw.fire(journey, "refer_to_fostering_panel", "2025-08-20")
    assert journey["state"] == "at_fostering_panel"
    refused = sw.fire(journey, "approve", "2025-09-03", expect=403)
    assert refused["error"] == "role_not_allowed"
    journey = adm.fire(journey, "approve", "2025-09-03")
    assert (journey["state"], journey["status"], journey["closed_on"]) == (
        "approved",
        "closed",
        "2025-09-03",
    )
    assert _deadlines(journey) == [("reg24_temporary_approval", "2025-09-16", "met", "2025-09-03")]


def test_a_second_extension_is_refused(sw: Api, adm: Api) -> None:
    journey = _placed(sw)
    journey = adm.fire(journey, "extend", "2025-07-10", {**EXTENSION, "weeks": 4})
    assert journey["data"]["approval_expires_on"] == "2025-08-19"
    journey = sw.fire(journey, "refer_to_fostering_panel", "2025-07-20")
    refused = adm.fire(journey, "extend", "2025-08-01", EXTENSION, expect=422)
    assert refused["error"] == "guard_failed"
    assert refused["reasons"] == [
        "Regulation 25 allows one extension only; the approval was already extended on 2025-07-10."
    ]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["state"] == "at_fostering_panel"
    assert _deadlines(after) == [("reg24_temporary_approval", "2025-08-19", "open", None)]


def test_extension_needs_reason_officer_and_at_most_eight_weeks(sw: Api, adm: Api) -> None:
    journey = _placed(sw)
    refused = adm.fire(journey, "extend", "2025-07-10", {"weeks": 9}, expect=422)
    assert refused["error"] == "invalid_data"
    assert set(refused["errors"]) == {
        "weeks must be at most 8",
        "reason is required",
        "nominated_officer is required",
    }
    refused = adm.fire(journey, "extend", "2025-07-10", {**EXTENSION, "weeks": 0}, expect=422)
    assert refused["errors"] == ["weeks must be at least 1"]


def test_no_extension_once_the_approval_has_ended(sw: Api, adm: Api) -> None:
    journey = _placed(sw)
    refused = adm.fire(journey, "extend", "2025-07-23", EXTENSION, expect=422)
    assert refused["reasons"] == [
        "The temporary approval ended on 2025-07-22: it can no longer be extended."
    ]
    # The last day of the 16 weeks is still inside them.
    journey = adm.fire(journey, "extend", "2025-07-22", EXTENSION)
    assert journey["state"] == "extended"


def test_not_approved_and_child_moved(sw: Api, adm: Api, make_user: UserFactory) -> None:
    journey = _placed(sw)
    journey = sw.fire(journey, "refer_to_fostering_panel", "2025-06-01")
    refused = adm.fire(journey, "refuse_approval", "2025-06-20", expect=422)
    assert refused["errors"] == ["reason is required"]
    closed = adm.fire(journey, "refuse_approval", "2025-06-20", {"reason": "Not suitable."})
    assert (closed["state"], closed["status"]) == ("not_approved", "closed")
    assert _deadlines(closed) == [("reg24_temporary_approval", "2025-07-22", "met", "2025-06-20")]

    other = _placed(sw, ref="CPA-2")
    refused = adm.fire(other, "end", "2025-05-01", {"reason": "Moved."}, expect=403)
    assert refused["error"] == "role_not_allowed"
    moved = sw.fire(other, "end", "2025-05-01", {"reason": "Moved to foster carers."})
    assert (moved["state"], moved["status"]) == ("ended", "closed")
    assert {d["status"] for d in moved["deadlines"]} == {"cancelled"}
    # Nothing can follow an approval that ended.
    assert sw.fire(moved, "refer_to_fostering_panel", "2025-05-02", expect=409)["error"] == (
        "journey_closed"
    )


def test_decisions_need_the_panel_first(sw: Api, adm: Api) -> None:
    journey = _placed(sw)
    refused = adm.fire(journey, "approve", "2025-05-01", expect=409)
    assert set(refused["available_events"]) == {"extend", "refer_to_fostering_panel", "end"}
