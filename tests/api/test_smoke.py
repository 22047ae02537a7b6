"""The service starts, answers health checks and refuses the anonymous."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Api


def test_health_and_readiness(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    assert app_client.get("/readyz").json() == {"status": "ok"}


def test_anonymous_requests_get_401(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/children")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorised"
    assert response.headers["www-authenticate"] == "Bearer"


def test_bad_token_gets_401(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/children", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401


def test_social_worker_records_child_and_starts_planning(sw: Api) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    assert journey["state"] == "awaiting_first_review"
    assert journey["version"] == 1
    assert [(d["kind"], d["due_on"], d["status"]) for d in journey["deadlines"]] == [
        ("first_review", "2026-01-20", "open")
    ]
