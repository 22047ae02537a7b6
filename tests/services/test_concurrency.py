"""Concurrent edits are refused, never merged: one writer wins, the others get 409."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import httpx2
import pytest

from services.journeys import JourneyService
from tests.conftest import Api, LiveServer
from workflow.errors import StaleVersion

CLIENTS = 8


def _fire_together(count: int, fire: object) -> list[object]:
    """Run ``fire()`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fire()  # type: ignore[operator]
        except Exception as exc:  # the refusal is the result we inspect
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_eight_http_clients_same_version_exactly_one_wins(sw: Api, live_server: LiveServer) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    assert sw.headers is not None
    headers = dict(sw.headers)
    body = {
        "event": "hold_review",
        "expected_version": journey["version"],
        "occurred_on": "2026-01-15",
        "data": {},
    }

    def fire() -> int:
        with httpx2.Client(base_url=live_server.base_url, headers=headers, timeout=30) as client:
            return client.post(f"/api/v1/journeys/{journey['id']}/events", json=body).status_code

    codes = Counter(_fire_together(CLIENTS, fire))
    assert codes == Counter({200: 1, 409: CLIENTS - 1})

    history = sw.get(f"/journeys/{journey['id']}/history").json()
    assert [h["event"] for h in history] == ["start", "hold_review"]
    after = sw.get(f"/journeys/{journey['id']}").json()
    assert after["version"] == 2
    assert after["state"] == "awaiting_second_review"
    # The winner's deadlines only: one met first review, one second review, one plan.
    kinds = Counter((d["kind"], d["status"]) for d in after["deadlines"])
    assert kinds == Counter(
        {("first_review", "met"): 1, ("second_review", "open"): 1, ("permanence_plan", "open"): 1}
    )


def test_eight_engine_callers_same_version_exactly_one_wins(
    sw: Api, journey_service: JourneyService, principal_of: object
) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "care_proceedings", started_on="2026-02-02")
    principal = principal_of(sw.user_id)  # type: ignore[operator]

    def fire() -> object:
        return journey_service.fire(
            journey["id"],
            event="make_ico",
            expected_version=1,
            occurred_on=date(2026, 2, 3),
            data={},
            principal=principal,
        )

    results = _fire_together(CLIENTS, fire)
    winners = [r for r in results if not isinstance(r, Exception)]
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert len(refusals) == CLIENTS - 1
    assert all(isinstance(r, StaleVersion) for r in refusals), refusals
    history = sw.get(f"/journeys/{journey['id']}/history").json()
    assert [h["event"] for h in history] == ["start", "make_ico"]


@pytest.mark.parametrize("stale", [0, 2])
def test_stale_version_is_refused_and_nothing_written(sw: Api, stale: int) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    response = sw.post(
        f"/journeys/{journey['id']}/events",
        {"event": "hold_review", "expected_version": stale, "occurred_on": "2026-01-10"},
    )
    assert response.status_code == 409
    assert response.json()["error"] == "stale_version"
    assert response.json()["current_version"] == 1
    assert len(sw.get(f"/journeys/{journey['id']}/history").json()) == 1
