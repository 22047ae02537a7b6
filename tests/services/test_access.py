"""Who sees and changes which child: team scoping, read-only users, the sysadmin, tokens."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from services.auth import issue_token
from services.config import Settings
from services.models import JOURNEY_EVENTS as E
from services.models import JOURNEYS as J
from services.models import USERS as U
from tests.conftest import Api, UserFactory

OTHER_TEAM = {"error": "forbidden", "message": "This child belongs to another team."}
NO_CHILD_DATA = {
    "error": "forbidden",
    "message": "Your roles give no access to children's records.",
}
READ_ONLY = {"error": "forbidden", "message": "Your roles allow reading only."}


@pytest.fixture
def south(make_user: UserFactory) -> Api:
    """A social worker in team south."""
    return make_user("sw.south", "social_worker", team="south")


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        journeys = conn.execute(select(func.count()).select_from(J)).scalar_one()
        events = conn.execute(select(func.count()).select_from(E)).scalar_one()
    return int(journeys), int(events)


def _planning(
    sw: Api, reference: str = "N-1", **child: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    record = sw.create_child(reference, **child)
    return record, sw.start(record["id"], "permanence_planning")


def test_other_team_social_worker_is_refused_everywhere(
    sw: Api, south: Api, engine: Engine
) -> None:
    child, journey = _planning(sw)
    before = _counts(engine)

    for response in (
        south.get(f"/children/{child['id']}"),
        south.get(f"/children/{child['id']}/journeys"),
        south.get(f"/journeys/{journey['id']}"),
        south.get(f"/journeys/{journey['id']}/history"),
        south.post(
            f"/journeys/{journey['id']}/events",
            {"event": "hold_review", "expected_version": 1, "occurred_on": "2026-01-10"},
        ),
        south.post(
            f"/children/{child['id']}/journeys",
            {"type": "adoption", "started_on": "2026-01-05", "data": {}},
        ),
        south.patch(f"/children/{child['id']}", {"expected_version": 1, "given_name": "X"}),
    ):
        assert response.status_code == 403, response.text
        assert response.json() == OTHER_TEAM

    assert _counts(engine) == before
    assert sw.get(f"/journeys/{journey['id']}").json()["version"] == 1
    assert sw.get(f"/children/{child['id']}").json()["given_name"] == "Testgiven"


def test_other_team_child_cannot_be_recorded(south: Api) -> None:
    response = south.post(
        "/children",
        {
            "reference": "N-9",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "2019-01-01",
            "team": "north",
        },
    )
    assert response.status_code == 403
    assert response.json() == OTHER_TEAM


def test_list_returns_only_own_team(sw: Api, south: Api, make_user: UserFactory) -> None:
    sw.create_child("N-1")
    sw.create_child("N-2")
    south.create_child("S-1")
    assert [c["reference"] for c in sw.get("/children").json()] == ["N-1", "N-2"]
    assert [c["reference"] for c in south.get("/children").json()] == ["S-1"]
    # Asking for another team's children returns none of them.
    assert south.get("/children", params={"team": "north"}).json() == []
    chair = make_user("chair", "panel_chair")
    assert [c["reference"] for c in chair.get("/children").json()] == ["N-1", "N-2", "S-1"]
    assert [c["reference"] for c in chair.get("/children", params={"team": "south"}).json()] == [
        "S-1"
    ]


def test_search_by_reference_and_names(sw: Api, south: Api) -> None:
    sw.create_child("N-100", given_name="Amelia", family_name="Hartley")
    sw.create_child("N-200", given_name="Oliver", family_name="Brennan")
    south.create_child("S-300", given_name="Amelia", family_name="Price")

    def refs(api: Api, q: str) -> list[str]:
        response = api.get("/children", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["reference"] for c in response.json()]

    assert refs(sw, "n-1") == ["N-100"]
    assert refs(sw, "N-") == ["N-100", "N-200"]
    assert refs(sw, "amelia") == ["N-100"]  # the south Amelia stays hidden
    assert refs(south, "amelia") == ["S-300"]
    assert refs(sw, "BRENNAN") == ["N-200"]
    assert refs(sw, "amelia hartley") == ["N-100"]
    assert refs(sw, "nobody") == []
    # What a user types is matched literally: % and _ are not wildcards.
    assert refs(sw, "%") == []
    assert refs(sw, "n_1") == []
    sw.create_child("N_300", given_name="Ada", family_name="Lovelace")
    assert refs(sw, "n_3") == ["N_300"]


def test_sysadmin_sees_no_child_data(sw: Api, make_user: UserFactory) -> None:
    child, journey = _planning(sw)
    admin = make_user("admin", "sysadmin")
    for response in (
        admin.get(f"/children/{child['id']}"),
        admin.get("/children"),
        admin.get(f"/journeys/{journey['id']}"),
        admin.get(f"/journeys/{journey['id']}/history"),
        admin.get("/deadlines"),
        admin.post(
            f"/journeys/{journey['id']}/events",
            {"event": "hold_review", "expected_version": 1, "occurred_on": "2026-01-10"},
        ),
    ):
        assert response.status_code == 403, response.text
        assert response.json() == NO_CHILD_DATA
    # A team does not change that: the role does not reach child records.
    admin_north = make_user("admin.north", "sysadmin", team="north")
    assert admin_north.get(f"/children/{child['id']}").json() == NO_CHILD_DATA
    # The journey definitions carry no child data.
    assert admin.get("/journey-types").status_code == 200


def test_read_only_user_reads_but_cannot_write(
    sw: Api, make_user: UserFactory, engine: Engine
) -> None:
    child, journey = _planning(sw)
    reader = make_user("reader", "read_only", team="north")
    assert reader.get(f"/children/{child['id']}").status_code == 200
    viewed = reader.get(f"/journeys/{journey['id']}").json()
    assert viewed["state"] == "awaiting_first_review"
    # Every event is offered as not allowed, with the reason.
    assert viewed["available_events"]
    for option in viewed["available_events"]:
        assert option["allowed"] is False
        assert READ_ONLY["message"] in option["reasons"]
    assert reader.get(f"/journeys/{journey['id']}/history").status_code == 200
    assert [c["reference"] for c in reader.get("/children").json()] == ["N-1"]

    before = _counts(engine)
    response = reader.post(
        f"/journeys/{journey['id']}/events",
        {"event": "hold_review", "expected_version": 1, "occurred_on": "2026-01-10"},
    )
    assert (response.status_code, response.json()) == (403, READ_ONLY)
    response = reader.post(
        f"/children/{child['id']}/journeys", {"type": "adoption", "started_on": "2026-01-05"}
    )
    assert (response.status_code, response.json()) == (403, READ_ONLY)
    response = reader.patch(f"/children/{child['id']}", {"expected_version": 1, "given_name": "X"})
    assert (response.status_code, response.json()) == (403, READ_ONLY)
    response = reader.post(
        "/children",
        {"reference": "N-2", "given_name": "A", "family_name": "B", "date_of_birth": "2019-01-01"},
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Only social workers and managers may record a child."
    assert _counts(engine) == before
    # A read-only user of another team sees nothing of north.
    other = make_user("reader.south", "read_only", team="south")
    assert other.get(f"/children/{child['id']}").json() == OTHER_TEAM


def test_panel_chair_sees_and_acts_on_all_teams(
    sw: Api, south: Api, chair: Api, make_user: UserFactory
) -> None:
    north_child, north_journey = _planning(sw, "N-1")
    south_child, south_journey = _planning(south, "S-1")
    for child, journey in ((north_child, north_journey), (south_child, south_journey)):
        assert chair.get(f"/children/{child['id']}").status_code == 200
        assert chair.get(f"/journeys/{journey['id']}").status_code == 200
    # Other authority-wide roles too.
    for role in ("service_manager", "service_director", "panel_admin", "adm", "iro"):
        user = make_user(f"u.{role}", role)
        assert user.get(f"/journeys/{south_journey['id']}").status_code == 200, role


def test_team_manager_is_scoped_to_the_team(sw: Api, tm: Api, south: Api) -> None:
    north_child, north_journey = _planning(sw, "N-1")
    south_child, _ = _planning(south, "S-1")
    assert tm.get(f"/children/{north_child['id']}").status_code == 200
    assert tm.get(f"/children/{south_child['id']}").json() == OTHER_TEAM
    journey = tm.fire(north_journey, "hold_review", "2026-01-14")
    assert journey["state"] == "awaiting_second_review"


def test_only_sysadmin_creates_users(
    make_user: UserFactory, sw: Api, app_client: TestClient, engine: Engine
) -> None:
    body = {
        "username": "new.sw",
        "password": "long-enough-1",
        "roles": ["social_worker"],
        "team": "north",
    }
    for who in (sw, make_user("sd", "service_director")):
        response = who.post("/users", body)
        assert response.status_code == 403
        assert response.json() == {
            "error": "forbidden",
            "message": "This needs one of the roles: sysadmin.",
        }
        assert who.get("/users").status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(U.c.id).where(U.c.username == "new.sw")).first() is None

    admin = make_user("admin", "sysadmin")
    response = admin.post("/users", body)
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "new.sw"
    listed = {u["username"]: u for u in admin.get("/users").json()}
    assert listed["new.sw"]["roles"] == ["social_worker"]
    assert listed["new.sw"]["team"] == "north"
    assert all("password_hash" not in u for u in listed.values())
    token = app_client.post(
        "/api/v1/auth/token", data={"username": "new.sw", "password": "long-enough-1"}
    )
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"

    # Unknown roles are refused.
    response = admin.post("/users", {**body, "username": "x", "roles": ["wizard"]})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_user"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_disabled_user_token_is_refused(sw: Api, app_client: TestClient, engine: Engine) -> None:
    assert sw.get("/children").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(U).where(U.c.id == sw.user_id).values(active=False))
    # Changed by hand, the account is remembered for at most the principal cache's seconds
    # (tests/api/test_principal_cache.py); past them it is refused.
    principals = app_client.app.state.services.principals  # type: ignore[attr-defined]
    principals.clock = lambda: time.monotonic() + principals.ttl
    response = sw.get("/children")
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorised",
        "message": "The account is unknown or disabled.",
    }
    # And a disabled user cannot sign in again.
    response = app_client.post(
        "/api/v1/auth/token", data={"username": "sw.north", "password": "test-password-1"}
    )
    assert response.status_code == 401


def test_unknown_user_and_foreign_tokens_are_refused(
    app_client: TestClient, settings: Settings
) -> None:
    unknown = issue_token(987654, settings.secret_key, 60)
    response = app_client.get("/api/v1/children", headers=_bearer(unknown))
    assert response.status_code == 401
    assert response.json()["message"] == "The account is unknown or disabled."

    forged = issue_token(1, "another-secret-key-that-is-long-enough-too", 60)
    response = app_client.get("/api/v1/children", headers=_bearer(forged))
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorised",
        "message": "The token is invalid or has expired; sign in again.",
    }
    expired = issue_token(1, settings.secret_key, -5)
    assert app_client.get("/api/v1/children", headers=_bearer(expired)).status_code == 401


def test_deadlines_list_is_scoped_and_filtered(sw: Api, south: Api, chair: Api, tm: Api) -> None:
    # North: looked after 2025-12-18 -> first review 2026-01-20.
    north = sw.create_child("N-1")
    sw.start(north["id"], "permanence_planning")
    # South: looked after 2025-03-03 -> first review 2025-03-31; then a review moves it on.
    south_child = south.create_child("S-1", looked_after_since="2025-03-03")
    journey = south.start(south_child["id"], "permanence_planning")
    south.fire(journey, "hold_review", "2025-03-28")

    def rows(api: Api, **params: str) -> list[tuple[str, str, str, str | None, str]]:
        response = api.get("/deadlines", params=params)
        assert response.status_code == 200, response.text
        return [
            (d["child_reference"], d["kind"], d["due_on"], d["owner"], d["status"])
            for d in response.json()
        ]

    assert rows(sw) == [("N-1", "first_review", "2026-01-20", "sw.north", "open")]
    assert rows(tm) == rows(sw)
    south_open = rows(south)
    assert [r[0] for r in south_open] == ["S-1"] * len(south_open)
    assert ("S-1", "first_review", "2025-03-31", "sw.south", "met") not in south_open
    assert rows(south, status="met") == [("S-1", "first_review", "2025-03-31", "sw.south", "met")]
    # Another team's filter gives a team-scoped user nothing.
    assert rows(south, team="north") == []

    everything = rows(chair, status="any")
    assert {r[0] for r in everything} == {"N-1", "S-1"}
    assert rows(chair, team="north") == rows(sw)
    assert {r[0] for r in rows(chair, due_before="2026-01-01")} == {"S-1"}
    assert rows(chair, due_before="2026-01-20", team="north") == []  # due_before is strict
    assert rows(chair, due_before="2026-01-21", team="north") == rows(sw)
    response = chair.get("/deadlines", params={"status": "late"})
    assert response.status_code == 422


def test_search_by_post_finds_the_same_children_with_the_term_in_the_body(
    sw: Api, south: Api
) -> None:
    sw.create_child("N-100", given_name="Amelia", family_name="Hartley")
    sw.create_child("N-200", given_name="Oliver", family_name="Brennan")
    south.create_child("S-300", given_name="Amelia", family_name="Price")
    for api, q in ((sw, "amelia"), (south, "amelia"), (sw, "N-"), (sw, "nobody")):
        by_get = api.get("/children", params={"q": q}).json()
        by_post = api.post("/children/search", {"q": q})
        assert by_post.status_code == 200, by_post.text
        assert by_post.json() == by_get
    paged = sw.post("/children/search", {"q": "N-", "limit": 1, "offset": 1}).json()
    assert [c["reference"] for c in paged] == ["N-200"]
    refused = sw.post("/children/search", {"q": "x" * 101, "offset": 2**31})
    assert refused.status_code == 422
    assert [e.split(":")[0] for e in refused.json()["errors"]] == ["q", "offset"]
