"""Every error answer, its JSON body, and that nothing is written when one is given."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from services.models import AUDIT_LOG, CHILDREN, DEADLINES, JOURNEY_EVENTS, JOURNEYS
from tests.conftest import Api, UserFactory

_TABLES = {
    "child": CHILDREN,
    "journey": JOURNEYS,
    "journey_event": JOURNEY_EVENTS,
    "deadline": DEADLINES,
    "audit_log": AUDIT_LOG,
}


def _database(engine: Engine) -> dict[str, Any]:
    """Every row of the tables an error must not touch (sign-in audit aside, and the audit
    rows of reads: the watch itself reads the journey through the API)."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, table in _TABLES.items():
            query = select(table).order_by(table.c.id)
            if name == "audit_log":
                query = query.where(
                    table.c.action.not_in(("sign_in", "sign_in_failed")),
                    table.c.action.not_like("read.%"),
                )
            out[name] = [tuple(r) for r in conn.execute(query)]
    return out


class Watch:
    """Snapshot the database and the journey's API view, and compare later."""

    def __init__(self, engine: Engine, api: Api, journey_id: int | None) -> None:
        self.engine = engine
        self.api = api
        self.journey_id = journey_id
        self.before = self._state()

    def _state(self) -> dict[str, Any]:
        state = _database(self.engine)
        if self.journey_id is not None:
            view = self.api.get(f"/journeys/{self.journey_id}").json()
            state["view"] = (view["state"], view["version"], view["data"], view["deadlines"])
            state["history"] = len(self.api.get(f"/journeys/{self.journey_id}/history").json())
        return state

    def assert_unchanged(self) -> None:
        assert self._state() == self.before


@pytest.fixture
def sgo_journey(sw: Api) -> dict[str, Any]:
    """An SGO journey in ``proposed`` with its filing deadline open (version 1)."""
    child = sw.create_child("E-1")
    return sw.start(child["id"], "sgo", "2025-09-01", {"court_filing_due": "2026-03-31"})


def _event(journey: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"event": "start_assessment", "expected_version": journey["version"], **overrides}


def test_the_watch_notices_a_write(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    with pytest.raises(AssertionError):
        watch.assert_unchanged()


def test_401_without_or_with_bad_token(app_client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        response = app_client.get("/api/v1/journeys/1", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorised"
        assert response.json()["message"]
        assert response.headers["www-authenticate"] == "Bearer"
    response = app_client.post(
        "/api/v1/auth/token", data={"username": "nobody", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorised", "message": "Wrong username or password."}


def test_401_on_event_writes_nothing(
    sw: Api, sgo_journey: dict[str, Any], app_client: TestClient, engine: Engine
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = app_client.post(
        f"/api/v1/journeys/{sgo_journey['id']}/events", json=_event(sgo_journey)
    )
    assert response.status_code == 401
    watch.assert_unchanged()


def test_403_role_writes_nothing(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    journey = sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    journey = sw.fire(journey, "draft_support_plan", "2025-10-01", {"additional_funding": 0})
    journey = sw.fire(journey, "submit_to_panel", "2025-10-02")
    watch = Watch(engine, sw, journey["id"])
    response = sw.post(
        f"/journeys/{journey['id']}/events",
        {"event": "sign_off", "expected_version": journey["version"], "occurred_on": "2025-10-03"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "role_not_allowed",
        "message": "Only team_manager, service_manager, service_director may sign off the "
        "support plan.",
    }
    watch.assert_unchanged()


def test_403_team_writes_nothing(
    sgo_journey: dict[str, Any], make_user: UserFactory, sw: Api, engine: Engine
) -> None:
    south = make_user("sw.south", "social_worker", team="south")
    watch = Watch(engine, sw, sgo_journey["id"])
    response = south.post(f"/journeys/{sgo_journey['id']}/events", _event(sgo_journey))
    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "This child belongs to another team.",
    }
    watch.assert_unchanged()


def test_404_unknown_journey_and_child(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    cases = [
        (sw.get("/journeys/999999"), "There is no journey 999999."),
        (sw.get("/journeys/999999/history"), "There is no journey 999999."),
        (
            sw.post("/journeys/999999/events", {"event": "x", "expected_version": 1}),
            "There is no journey 999999.",
        ),
        (sw.get("/children/999999"), "There is no child 999999."),
        (sw.get("/children/999999/journeys"), "There is no child 999999."),
        (
            sw.post("/children/999999/journeys", {"type": "sgo", "started_on": "2025-09-01"}),
            "There is no child 999999.",
        ),
        (
            sw.patch("/children/999999", {"expected_version": 1, "given_name": "X"}),
            "There is no child 999999.",
        ),
    ]
    for response, message in cases:
        assert response.status_code == 404, response.text
        assert response.json() == {"error": "not_found", "message": message}
    watch.assert_unchanged()


def test_409_event_not_available_lists_the_available_events(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(
        f"/journeys/{sgo_journey['id']}/events",
        _event(sgo_journey, event="submit_to_court", occurred_on="2025-10-01"),
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "event_not_available",
        "message": "submit_to_court is not available in state proposed.",
        "state": "proposed",
        "available_events": ["start_assessment", "withdraw"],
    }
    watch.assert_unchanged()


def test_409_closed_journey(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    journey = sw.fire(sgo_journey, "withdraw", "2025-09-02", {"reason": "Carers withdrew."})
    watch = Watch(engine, sw, journey["id"])
    response = sw.post(
        f"/journeys/{journey['id']}/events", _event(journey, occurred_on="2025-09-03")
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "journey_closed",
        "message": "The journey is closed (state withdrawn); no event can be recorded.",
        "state": "withdrawn",
        "available_events": [],
    }
    watch.assert_unchanged()


def test_409_stale_expected_version(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    journey = sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    assert journey["version"] == 2
    watch = Watch(engine, sw, journey["id"])
    for sent in (1, 3):
        response = sw.post(
            f"/journeys/{journey['id']}/events",
            {
                "event": "draft_support_plan",
                "expected_version": sent,
                "occurred_on": "2025-10-01",
                "data": {"additional_funding": 0},
            },
        )
        assert response.status_code == 409
        assert response.json() == {
            "error": "stale_version",
            "message": f"The journey has changed since you loaded it (version 2, you sent {sent}); "
            "reload and try again.",
            "current_version": 2,
        }
    watch.assert_unchanged()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"event": "start_assessment"}, ["expected_version: Field required"]),
        (
            {"event": "start_assessment", "expected_version": 1, "when": "2025-09-02"},
            ["when: Extra inputs are not permitted"],
        ),
        (
            {"event": "start_assessment", "expected_version": "one"},
            [
                "expected_version: Input should be a valid integer, unable to parse string as an "
                "integer"
            ],
        ),
        (
            {"event": "start_assessment", "expected_version": 1, "occurred_on": "15/09/2025"},
            ["occurred_on: Input should be a valid date or datetime, invalid character in year"],
        ),
        (
            {"event": "start_assessment", "expected_version": 1, "data": ["x"]},
            ["data: Input should be a valid dictionary"],
        ),
        ({"expected_version": 1}, ["event: Field required"]),
    ],
)
def test_422_malformed_body(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine, body: dict[str, Any], errors: list[str]
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(f"/journeys/{sgo_journey['id']}/events", body)
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_request",
        "message": "The request is not valid.",
        "errors": errors,
    }
    watch.assert_unchanged()


def test_422_body_that_is_not_json(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    assert sw.headers is not None
    response = sw.client.post(
        f"/api/v1/journeys/{sgo_journey['id']}/events",
        content=b"{not json",
        headers={**sw.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    watch.assert_unchanged()


@pytest.mark.parametrize("event", ["approve_everything", "start"])
def test_422_unknown_event(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine, event: str
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(f"/journeys/{sgo_journey['id']}/events", _event(sgo_journey, event=event))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unknown_event"
    assert body["message"] == f"sgo has no event {event!r}."
    assert body["events"][:2] == ["start_assessment", "draft_support_plan"]
    assert "start" not in body["events"]
    watch.assert_unchanged()


def test_422_unknown_data_field(sw: Api, sgo_journey: dict[str, Any], engine: Engine) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(
        f"/journeys/{sgo_journey['id']}/events",
        _event(sgo_journey, occurred_on="2025-09-15", data={"assessor": "A. Smith"}),
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_data",
        "message": "The event's data is not valid.",
        "errors": ["unknown field 'assessor'"],
    }
    watch.assert_unchanged()


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"additional_funding": "lots"}, ["additional_funding must be a number"]),
        ({"additional_funding": True}, ["additional_funding must be a number"]),
        # Not finite: JSON (and PostgreSQL's json type) cannot hold them.
        ({"additional_funding": "inf"}, ["additional_funding must be a number"]),
        ({"additional_funding": "-Infinity"}, ["additional_funding must be a number"]),
        ({"additional_funding": "NaN"}, ["additional_funding must be a number"]),
        (
            {"additional_funding": 10, "quotes_received": 2.5},
            ["quotes_received must be a whole number"],
        ),
        *(
            (
                {"additional_funding": 10, "quotes_received": bad},
                ["quotes_received must be a whole number"],
            )
            for bad in ("--5", "\u00b2", "3.0", "9" * 5000)
        ),
        (
            {"additional_funding": 10, "commissioned_placement": "perhaps"},
            ["commissioned_placement must be true or false"],
        ),
        (
            {"additional_funding": "x", "quotes_received": "y", "extra": 1},
            [
                "unknown field 'extra'",
                "additional_funding must be a number",
                "quotes_received must be a whole number",
            ],
        ),
    ],
)
def test_422_wrong_data_type(
    sw: Api,
    sgo_journey: dict[str, Any],
    engine: Engine,
    data: dict[str, Any],
    errors: list[str],
) -> None:
    journey = sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    watch = Watch(engine, sw, journey["id"])
    response = sw.post(
        f"/journeys/{journey['id']}/events",
        {
            "event": "draft_support_plan",
            "expected_version": 2,
            "occurred_on": "2025-10-01",
            "data": data,
        },
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_data",
        "message": "The event's data is not valid.",
        "errors": errors,
    }
    watch.assert_unchanged()


def test_422_number_too_large_for_a_float(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine
) -> None:
    """1e400 in a JSON body parses to infinity: refused, not stored (PostgreSQL would fail)."""
    journey = sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    watch = Watch(engine, sw, journey["id"])
    assert sw.headers is not None
    response = sw.client.post(
        f"/api/v1/journeys/{journey['id']}/events",
        content=b'{"event": "draft_support_plan", "expected_version": 2, '
        b'"occurred_on": "2025-10-01", "data": {"additional_funding": 1e400}}',
        headers={**sw.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == ["additional_funding must be a number"]
    watch.assert_unchanged()


def test_422_future_dated_or_before_start(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(
        f"/journeys/{sgo_journey['id']}/events", _event(sgo_journey, occurred_on="2099-01-01")
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_data"
    assert response.json()["message"] == "An event cannot be future-dated."
    response = sw.post(
        f"/journeys/{sgo_journey['id']}/events", _event(sgo_journey, occurred_on="2025-08-31")
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        "occurred_on 2025-08-31 is before the journey started (2025-09-01)"
    ]
    watch.assert_unchanged()


def test_422_guard_failure_lists_reasons(
    sw: Api, sgo_journey: dict[str, Any], make_user: UserFactory, engine: Engine
) -> None:
    tm = make_user("tm.north", "team_manager", team="north")
    journey = sw.fire(sgo_journey, "start_assessment", "2025-09-15")
    journey = sw.fire(journey, "draft_support_plan", "2025-10-01", {"additional_funding": 2500.5})
    journey = sw.fire(journey, "submit_to_panel", "2025-10-02")
    watch = Watch(engine, sw, journey["id"])
    response = tm.post(
        f"/journeys/{journey['id']}/events",
        {"event": "sign_off", "expected_version": journey["version"], "occurred_on": "2025-10-09"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "guard_failed",
        "message": "The event is not allowed: Additional funding of £2,500.50 must be signed off "
        "by service_manager or service_director under the scheme of delegation. Additional "
        "funding needs 3 quotes before it can be approved; 0 received.",
        "reasons": [
            "Additional funding of £2,500.50 must be signed off by service_manager or "
            "service_director under the scheme of delegation.",
            "Additional funding needs 3 quotes before it can be approved; 0 received.",
        ],
    }
    watch.assert_unchanged()


def test_422_unknown_journey_type_and_bad_start_data(sw: Api, engine: Engine) -> None:
    child = sw.create_child("E-2")
    watch = Watch(engine, sw, None)
    response = sw.post(f"/children/{child['id']}/journeys", {"type": "fostering"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unknown_journey_type"
    assert body["message"] == "There is no journey type 'fostering'."
    assert "sgo" in body["types"]
    response = sw.post(
        f"/children/{child['id']}/journeys",
        {"type": "sgo", "started_on": "2025-09-01", "data": {"court_filing_due": "soon"}},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_data",
        "message": "The journey's data is not valid.",
        "errors": ["court_filing_due must be a date (YYYY-MM-DD)"],
    }
    response = sw.post(
        f"/children/{child['id']}/journeys", {"type": "sgo", "started_on": "2099-01-01"}
    )
    assert response.status_code == 422
    assert response.json()["message"] == "An event cannot be future-dated."
    watch.assert_unchanged()


def test_409_second_active_journey_of_a_type(
    sw: Api, sgo_journey: dict[str, Any], engine: Engine
) -> None:
    watch = Watch(engine, sw, sgo_journey["id"])
    response = sw.post(
        f"/children/{sgo_journey['child_id']}/journeys", {"type": "sgo", "started_on": "2025-10-01"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "journey_already_active",
        "message": "The child already has an active sgo journey.",
        "journey_id": sgo_journey["id"],
    }
    watch.assert_unchanged()
    # Another type beside it is fine, and once closed a new one of the type may start.
    sw.start(sgo_journey["child_id"], "permanence_planning")
    sw.fire(sgo_journey, "withdraw", "2025-09-20", {"reason": "Changed plan."})
    again = sw.start(sgo_journey["child_id"], "sgo", "2025-10-01")
    assert again["id"] != sgo_journey["id"]


def test_409_duplicate_child_reference(sw: Api, engine: Engine) -> None:
    sw.create_child("E-3")
    watch = Watch(engine, sw, None)
    response = sw.post(
        "/children",
        {
            "reference": "E-3",
            "given_name": "Other",
            "family_name": "Child",
            "date_of_birth": "2017-05-05",
        },
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "duplicate_reference",
        "message": "A child with reference 'E-3' exists.",
    }
    watch.assert_unchanged()


def test_422_malformed_child(sw: Api, engine: Engine) -> None:
    watch = Watch(engine, sw, None)
    response = sw.post(
        "/children",
        {"reference": "E 4", "given_name": "", "family_name": "B", "date_of_birth": "2017-05-05"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert [e.split(":")[0] for e in body["errors"]] == ["reference", "given_name"]
    response = sw.post(
        "/children",
        {
            "reference": "E-4",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "2017-05-05",
            "nickname": "x",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == ["nickname: Extra inputs are not permitted"]
    watch.assert_unchanged()


def test_409_patch_child_with_stale_version(sw: Api, engine: Engine) -> None:
    child = sw.create_child("E-5")
    updated = sw.patch(f"/children/{child['id']}", {"expected_version": 1, "given_name": "Newname"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    watch = Watch(engine, sw, None)
    response = sw.patch(f"/children/{child['id']}", {"expected_version": 1, "given_name": "Late"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "stale_version",
        "message": "The child's record has changed since you loaded it; reload and try again.",
        "current_version": 2,
    }
    response = sw.patch(f"/children/{child['id']}", {"given_name": "NoVersion"})
    assert response.status_code == 422
    assert response.json()["errors"] == ["expected_version: Field required"]
    watch.assert_unchanged()
    assert sw.get(f"/children/{child['id']}").json()["given_name"] == "Newname"


def test_422_patch_child_cannot_null_a_name(sw: Api, engine: Engine) -> None:
    child = sw.create_child("E-6")
    watch = Watch(engine, sw, None)
    for name in ("given_name", "family_name"):
        response = sw.patch(f"/children/{child['id']}", {"expected_version": 1, name: None})
        assert response.status_code == 422, response.text
        assert response.json() == {
            "error": "invalid_request",
            "message": "The request is not valid.",
            "errors": [f"{name}: Value error, may be left out but not set to null"],
        }
    watch.assert_unchanged()
    # Nullable details may still be cleared.
    response = sw.patch(f"/children/{child['id']}", {"expected_version": 1, "legal_status": None})
    assert response.status_code == 200, response.text
    assert response.json()["legal_status"] is None
    assert response.json()["given_name"] == "Testgiven"
