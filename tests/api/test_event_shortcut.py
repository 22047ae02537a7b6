"""The transition's shortcut (``app.api.journeys.fire_event_shortcut``) answers exactly as
the route does: the same status, headers and body, for a transition and for every refusal,
and it leaves to the route whatever it does not answer itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Scope

from app.api.journeys import fire_event_shortcut
from app.request_gate import RequestGate
from tests.conftest import Api, UserFactory

ON = (date.today() - timedelta(days=1)).isoformat()
STARTED = (date.today() - timedelta(days=365)).isoformat()


def _gate(client: TestClient) -> RequestGate:
    """The app's request gate, in the middleware stack the client's first request built."""
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, RequestGate):
        layer = layer.app
    return layer


@pytest.fixture
def answered(app_client: TestClient) -> Iterator[list[bool]]:
    """Whether the shortcut answered each request (True) or left it to the route."""
    app_client.get("/healthz")  # builds the middleware stack
    gate = _gate(app_client)
    seen: list[bool] = []

    async def spy(scope: Scope, body: bytes) -> Any:
        answer = await fire_event_shortcut(scope, body)
        seen.append(answer is not None)
        return answer

    gate.shortcut = spy
    yield seen
    gate.shortcut = fire_event_shortcut


def _journey(sw: Api, reference: str) -> dict[str, Any]:
    child = sw.create_child(reference, legal_status="care_order", looked_after_since=STARTED)
    return sw.start(child["id"], "placed_with_parents", started_on=STARTED)


def _ids_out(value: Any, ids: dict[tuple[str, int], str], where: str = "") -> Any:
    """The answer with the journey's own ids (journey, child, deadlines) named by where and
    in which order they appear, not numbered, so that two journeys' answers compare."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            at = f"{where}.{key}"
            if key in ("id", "child_id", "journey_id") and isinstance(item, int):
                out[key] = ids.setdefault((at, item), f"{at}#{len(ids)}")
            elif key == "child_reference":
                out[key] = "ref"
            else:
                out[key] = _ids_out(item, ids, at)
        return out
    if isinstance(value, list):
        return [_ids_out(item, ids, where) for item in value]
    return value


def _answer(response: Any) -> tuple[int, list[tuple[str, str]], Any]:
    headers = [
        (k, v) for k, v in response.headers.items() if k not in ("x-request-id", "content-length")
    ]
    try:
        body = _ids_out(response.json(), {})
    except ValueError:
        body = response.text
    return response.status_code, headers, body


def _post(client: TestClient, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, content=body, headers=headers)


def test_every_answer_is_the_routes_and_only_plain_transitions_take_the_shortcut(
    app_client: TestClient, sw: Api, make_user: UserFactory, answered: list[bool]
) -> None:
    other_team = make_user("sw.south", "social_worker", team="south")
    manager = make_user("sd", "service_director")
    gate = _gate(app_client)
    # Two journeys in the same state: one answered by the shortcut, one by the route.
    pairs = [(_journey(sw, "SC-A"), _journey(sw, "SC-B"))]

    def cases(journey: dict[str, Any]) -> list[tuple[str, str, bytes, dict[str, str]]]:
        path = f"/api/v1/journeys/{journey['id']}/events"

        def event(ahead: int = 0, **over: Any) -> bytes:
            body = {
                "event": "hold_review",
                "expected_version": journey["version"] + ahead,
                "occurred_on": ON,
                "data": {"notes": "review"},
                **over,
            }
            return json.dumps(body).encode()

        as_sw = {**(sw.headers or {}), "content-type": "application/json"}
        return [
            ("a transition", path, event(), as_sw),
            ("the same version again: 409", path, event(), as_sw),
            ("no date: today", path, event(1, occurred_on=None), as_sw),
            ("an unknown event", path, event(2, event="no_such_event"), as_sw),
            (
                "another team's journey",
                path,
                event(2),
                {
                    **(other_team.headers or {}),
                    "content-type": "application/json",
                },
            ),
            (
                "a director",
                path,
                event(2),
                {
                    **(manager.headers or {}),
                    "content-type": "application/json",
                },
            ),
            ("no journey", "/api/v1/journeys/999999/events", event(), as_sw),
            ("an id out of range", "/api/v1/journeys/99999999999/events", event(), as_sw),
            ("a zero-padded id", f"/api/v1/journeys/0{journey['id']}/events", event(), as_sw),
            ("no token", path, event(), {"content-type": "application/json"}),
            (
                "a bad token",
                path,
                event(),
                {
                    "authorization": "Bearer nonsense",
                    "content-type": "application/json",
                },
            ),
            (
                "another scheme",
                path,
                event(),
                {
                    "authorization": (sw.headers or {})["Authorization"].replace("Bearer", "Basic"),
                    "content-type": "application/json",
                },
            ),
            (
                "lower-case scheme",
                path,
                event(2, occurred_on=None),
                {
                    "authorization": (sw.headers or {})["Authorization"].replace(
                        "Bearer", "bearer"
                    ),
                    "content-type": "application/json",
                },
            ),
            ("a field too many", path, event(extra=1), as_sw),
            ("a number for a date", path, event(occurred_on=20250101), as_sw),
            ("not JSON", path, b"{not json", as_sw),
            ("a list", path, b"[]", as_sw),
            ("an empty body", path, b"", as_sw),
            ("a NUL", path, event(data={"notes": "a\u0000b"}), as_sw),
            (
                "JSON with a charset",
                path,
                event(3, occurred_on=None),
                {
                    **as_sw,
                    "content-type": "application/json; charset=utf-8",
                },
            ),
            (
                "a form",
                path,
                b"event=hold_review",
                {
                    **(sw.headers or {}),
                    "content-type": "application/x-www-form-urlencoded",
                },
            ),
        ]

    by_route: list[tuple[int, list[tuple[str, str]], Any]] = []
    by_shortcut: list[tuple[int, list[tuple[str, str]], Any]] = []
    took: list[bool] = []
    spy = gate.shortcut
    for shortcut_journey, route_journey in pairs:
        gate.shortcut = spy
        for _name, path, body, headers in cases(shortcut_journey):
            answered.clear()
            by_shortcut.append(_answer(_post(app_client, path, body, headers)))
            took.append(answered == [True])
        gate.shortcut = None
        for _name, path, body, headers in cases(route_journey):
            by_route.append(_answer(_post(app_client, path, body, headers)))
    gate.shortcut = spy

    names = [name for name, *_ in cases(pairs[0][0])] * len(pairs)
    for name, mine, route in zip(names, by_shortcut, by_route, strict=True):
        assert mine == route, name
    statuses = {name: status for name, (status, _, _) in zip(names, by_route, strict=False)}
    assert statuses["a transition"] == statuses["lower-case scheme"] == 200
    assert statuses["JSON with a charset"] == 200  # the route's, not the shortcut's
    assert statuses["the same version again: 409"] == 409
    assert statuses["no token"] == statuses["a bad token"] == 401
    assert statuses["a field too many"] == statuses["a NUL"] == 422
    # What the shortcut answered itself: the transition and the service's own refusals.
    took_by_name = dict(zip(names, took, strict=False))
    assert {name for name, yes in took_by_name.items() if yes} == {
        "a transition",
        "the same version again: 409",
        "no date: today",
        "an unknown event",
        "another team's journey",
        "a director",
        "no journey",
        "lower-case scheme",
    }


def test_an_unhandled_error_in_a_shortcut_transition_is_the_routes_clean_500(
    app_client: TestClient, sw: Api, answered: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _gate(app_client)
    spy = gate.shortcut
    journeys = app_client.app.state.services.journeys  # type: ignore[attr-defined]

    async def fails(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("a child's name could be in here")

    monkeypatch.setattr(journeys, "fire_async", fails)
    answers: list[tuple[int, list[tuple[str, str]], Any]] = []
    for shortcut in (spy, None):
        gate.shortcut = shortcut
        journey = _journey(sw, f"SC-E{len(answers)}")
        body = json.dumps(
            {"event": "hold_review", "expected_version": journey["version"], "occurred_on": ON}
        ).encode()
        answered.clear()
        response = _post(
            app_client,
            f"/api/v1/journeys/{journey['id']}/events",
            body,
            {**(sw.headers or {}), "content-type": "application/json"},
        )
        answers.append(_answer(response))
    gate.shortcut = spy
    assert answered == []  # the route's run left no mark; the shortcut's raised
    assert answers[0] == answers[1]
    assert answers[0][0] == 500
    assert answers[0][2] == {"error": "server_error", "message": "Sorry, something went wrong."}


def test_the_route_depends_on_nothing_the_shortcut_does_not_do(app_client: TestClient) -> None:
    # The shortcut answers in the route's place with the route's own functions. Were a
    # dependency added to the route (a rate limit, a header check), the shortcut would skip
    # it: this test fails first, so that the shortcut is taught it too (or drops the request).
    from fastapi.routing import APIRoute

    from app.api import journeys
    from app.api.deps import get_principal, get_services

    # The router as written (main includes it under /api/v1 with no dependencies of its
    # own, and the app has none either).
    assert not app_client.app.router.dependencies  # type: ignore[attr-defined]
    route = next(
        r
        for r in journeys.router.routes
        if isinstance(r, APIRoute)
        and r.path == "/journeys/{journey_id}/events"
        and "POST" in (r.methods or set())
    )

    def calls(dependant: Any) -> set[Any]:
        found = set()
        for dep in dependant.dependencies:
            found.add(dep.call)
            found |= calls(dep)
        return found

    called = calls(route.dependant)
    # get_principal's own dependency is the bearer token scheme, which the shortcut reads
    # as OAuth2PasswordBearer does (_bearer_token).
    assert {c for c in called if c not in {get_principal, get_services}} == {
        c for c in called if type(c).__name__ == "OAuth2PasswordBearer"
    }
    assert {get_principal, get_services} <= called
    assert [p.name for p in route.dependant.path_params] == ["journey_id"]
    assert [p.name for p in route.dependant.body_params] == ["body"]
    assert not route.dependant.query_params and not route.dependant.header_params
