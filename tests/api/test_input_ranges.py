"""No input is a server error: every path and query integer is range-checked before a
service runs (422 on the API; 404 for an address and 422 for a query on the pages), and
the two 500s found by issue 10 (a report year out of range, an unknown child's panel
history) are a 422 and a 404."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.api.params import MAX_INT
from tests.conftest import Api, UserFactory
from tests.web_support import WebUser

# Past a PostgreSQL INTEGER, past a SQLite INTEGER, and far past both.
HUGE = (2**31, 2**63, 2**70)


def _int_params(route: APIRoute, where: str) -> list[str]:
    params = route.dependant.path_params if where == "path" else route.dependant.query_params
    return [p.name for p in params if p.field_info.annotation is int]


def _app_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route of the app with its full path (FastAPI keeps included routers as
    they were, with the prefix they were included under)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            yield from _app_routes(route.original_router.routes, inner)


def _routes(client: TestClient, api: bool) -> Iterator[tuple[str, str, APIRoute]]:
    for path, route in _app_routes(client.app.routes):  # type: ignore[attr-defined]
        if path.startswith("/api/") != api:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield method, path, route


def _url(path: str, values: dict[str, int]) -> str:
    for name, value in values.items():
        path = path.replace(f"{{{name}:int}}", str(value)).replace(f"{{{name}}}", str(value))
    return path


def _fill(route: APIRoute, path: str, value: int) -> str:
    """The route's address with every integer path parameter ``value`` and others 'x'."""
    url = _url(path, dict.fromkeys(_int_params(route, "path"), value))
    return url.replace("{event}", "x").replace("{name}", "x")


def _errors(response: Any) -> list[str]:
    return list(response.json().get("errors", []))


def test_every_api_path_id_is_range_checked(sw: Api, app_client: TestClient) -> None:
    checked = 0
    for method, path, route in _routes(app_client, api=True):
        names = _int_params(route, "path")
        for name in names:
            for value in (0, -1, *HUGE):
                url = _fill(route, path, value).removeprefix("/api/v1")
                response = sw.client.request(method, f"/api/v1{url}", headers=sw.headers, json={})
                assert response.status_code == 422, (method, url, response.text)
                assert any(e.startswith(f"path.{name}:") for e in _errors(response)), (
                    method,
                    url,
                    response.text,
                )
                checked += 1
    # Children, journeys, notifications, escalations and the panel's meetings, referrals,
    # items, actions and children: a route losing its check would lower this.
    assert checked >= 5 * 27


def test_the_largest_id_is_a_404_not_a_500(sw: Api) -> None:
    for url in (f"/children/{MAX_INT}", f"/journeys/{MAX_INT}", f"/panel/meetings/{MAX_INT}"):
        assert sw.get(url).status_code == 404, url


@pytest.mark.parametrize("name", ["offset", "limit"])
def test_every_api_offset_and_limit_is_range_checked(
    name: str, sw: Api, app_client: TestClient
) -> None:
    checked = 0
    for method, path, route in _routes(app_client, api=True):
        if name not in _int_params(route, "query") or method != "GET":
            continue
        for value in (-1, *HUGE):
            response = sw.client.get(path, params={name: value}, headers=sw.headers)
            assert response.status_code == 422, (path, value, response.text)
            assert any(e.startswith(f"query.{name}:") for e in _errors(response))
            checked += 1
    # /children, /deadlines, /notifications, /escalations, /breaches
    assert checked == 5 * 4


def test_annual_report_year_out_of_range_is_422(make_user: UserFactory, sw: Api) -> None:
    chair = make_user("chair", "panel_chair")
    for user in (chair, sw):
        for year in (0, -1, 1999, 2101, 10000, 2**63):
            response = user.get(f"/panel/reports/annual?year={year}")
            assert response.status_code == 422, (user.username, year, response.text)
            assert any(e.startswith("query.year:") for e in _errors(response))
    assert chair.get("/panel/reports/annual?year=2025").status_code == 200


def test_unknown_childs_panel_history_is_404(make_user: UserFactory, sw: Api) -> None:
    chair = make_user("chair", "panel_chair")
    for user in (sw, chair):
        response = user.get("/panel/children/999999/history")
        assert response.status_code == 404, response.text
        assert response.json() == {"error": "not_found", "message": "There is no child 999999."}
    child = sw.create_child("R-1")
    assert sw.get(f"/panel/children/{child['id']}/history").json() == []


@pytest.fixture
def page(sw: Api, web_as: Callable[[Api], WebUser]) -> WebUser:
    """The social worker, signed in through the pages."""
    return web_as(sw)


def test_every_page_path_id_is_range_checked(page: WebUser, app_client: TestClient) -> None:
    checked = 0
    for method, path, route in _routes(app_client, api=False):
        if not _int_params(route, "path"):
            continue
        for value in (0, *HUGE):
            url = _fill(route, path, value)
            response = page.get(url) if method == "GET" else page.post(url, {})
            assert response.status_code == 404, (method, url, response.text[:300])
            assert "Page not found" in response.text
            checked += 1
    assert checked >= 4 * 29


@pytest.mark.parametrize("url", ["/children", "/notifications", "/director"])
def test_page_numbers_out_of_range_are_422(url: str, page: WebUser) -> None:
    for value in (0, -1, *HUGE):
        response = page.get(f"{url}?page={value}")
        # /director is not the social worker's page: the role check may answer first.
        assert response.status_code in ((422, 403) if url == "/director" else (422,)), (
            url,
            value,
        )
    assert page.get(f"{url}?page=1").status_code in ((200, 403) if url == "/director" else (200,))


def test_numbers_typed_into_pages_are_never_a_500(page: WebUser, sw: Api) -> None:
    # Digits that str.isdigit accepts but int refuses, and numbers past every column.
    for worker in ("²", "١٢", str(2**70)):
        response = page.get("/my-work", params={"worker": worker})
        assert response.status_code == 200, worker
    assert page.get("/panel/referrals/new", params={"journey_id": 2**63}).status_code == 422
    for journey_id in ("²", str(2**63)):
        refused = page.post("/panel/referrals", {"journey_id": journey_id})
        assert refused.status_code in (400, 403), refused.text[:300]
    child = sw.create_child("R-2")
    journey = sw.start(child["id"], "permanence_planning", "2025-09-01")
    for version in ("²", str(2**70)):
        response = page.post(f"/journeys/{journey['id']}/events/x", {"expected_version": version})
        assert response.status_code in (400, 404), response.text[:300]


def test_dates_out_of_the_services_years_are_422(make_user: UserFactory) -> None:
    """Far dates overflowed a computed deadline (a 500) or took seconds of bank-holiday
    arithmetic; the service's dates are 2000 to 2100."""
    admin = make_user("panel.admin", "panel_admin")
    chair = make_user("chair", "panel_chair")
    tm = make_user("tm.north", "team_manager", team="north")
    meeting = admin.post("/panel/meetings/generate", {}).json()[0]
    for far in ("9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"):
        cases = [
            (admin.post("/panel/meetings/generate", {"start": far}), "start"),
            (admin.get("/panel/meetings", params={"start": far}), "query.start"),
            (
                admin.post(
                    f"/panel/meetings/{meeting['id']}/move", {"new_date": far, "reason": "r"}
                ),
                "new_date",
            ),
            (admin.post(f"/panel/meetings/{meeting['id']}/agenda", {"as_of": far}), "as_of"),
            (admin.get("/panel/tracker", params={"as_of": far}), "query.as_of"),
            (
                chair.get("/panel/reports/themes", params={"from": far, "to": "2026-01-01"}),
                "query.from",
            ),
            (tm.get("/breaches", params={"as_of": far}), "query.as_of"),
            (tm.get("/deadlines", params={"due_before": far}), "query.due_before"),
        ]
        for response, field in cases:
            assert response.status_code == 422, (far, field, response.text)
            assert any(e.startswith(f"{field}:") for e in _errors(response)), response.text
    assert tm.get("/breaches", params={"as_of": "2100-12-31"}).status_code == 200
    assert admin.get("/panel/meetings", params={"start": "2000-01-01"}).status_code == 200


def test_page_dates_out_of_the_services_years_are_refused(
    make_user: UserFactory, web_as: Callable[[Api], WebUser]
) -> None:
    admin = web_as(make_user("panel.admin", "panel_admin"))
    for year in ("9999", "1999", "2101"):
        response = admin.post(
            "/panel/meetings/generate", {"start-day": "1", "start-month": "11", "start-year": year}
        )
        assert response.status_code == 400, year
        assert "The first date to plan from must be between 2000 and 2100" in response.text
