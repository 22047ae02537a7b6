"""Text a database would refuse (PostgreSQL: a NUL character in text or JSON) is refused
with 422 first, naming the field, in query strings and in the API's own request bodies
(the panel's, the teams', an acknowledgement). On PostgreSQL each was a 500 before; on
SQLite the NUL was stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Api, UserFactory
from tests.web_support import WebUser

NUL = "x\x00y"


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert any(e.startswith(f"{field}:") for e in response.json()["errors"]), response.text


def test_query_text_with_nul_is_422(sw: Api, make_user: UserFactory) -> None:
    tm = make_user("tm.north", "team_manager", team="north")
    admin = make_user("panel.admin", "panel_admin")
    _refused(sw.get("/children", params={"q": NUL}), "query.q")
    _refused(sw.get("/children", params={"team": NUL}), "query.team")
    _refused(tm.get("/deadlines", params={"team": NUL}), "query.team")
    _refused(tm.get("/breaches", params={"team": NUL}), "query.team")
    _refused(admin.get("/panel/actions", params={"status": NUL}), "query.status")
    assert sw.get("/children", params={"q": "xy", "team": "north"}).status_code == 200


def test_api_bodies_with_nul_are_422_and_write_nothing(sw: Api, make_user: UserFactory) -> None:
    admin = make_user("panel.admin", "panel_admin")
    sysadmin = make_user("sysadmin", "sysadmin")
    tm = make_user("tm.north", "team_manager", team="north")
    meeting = admin.post("/panel/meetings/generate", {}).json()[0]
    _refused(admin.post(f"/panel/meetings/{meeting['id']}/cancel", {"reason": NUL}), "reason")
    _refused(
        admin.post(
            f"/panel/meetings/{meeting['id']}/attendance",
            {"entries": [{"member_key": "chair", "status": "present", "person": NUL}]},
        ),
        "entries.0.person",
    )
    _refused(admin.post("/panel/referrals/1/pack", {"checklist": {"q": NUL}}), "checklist")
    _refused(
        admin.post("/panel/items/1/decision", {"outcome": "x", "event_data": {"k": [NUL]}}),
        "event_data",
    )
    _refused(sysadmin.patch("/teams/north", {"title": NUL}), "title")
    _refused(sysadmin.post("/teams", {"name": "west", "title": NUL}), "title")
    _refused(tm.post("/escalations/1/acknowledge", {"comment": NUL}), "comment")
    # Nothing was written: the meeting is still planned and the team keeps its title.
    assert admin.get(f"/panel/meetings/{meeting['id']}").json()["status"] == meeting["status"]
    assert {"name": "north", "title": "North"} in sysadmin.get("/teams").json()
    assert "west" not in {t["name"] for t in sysadmin.get("/teams").json()}


def test_page_queries_with_nul_are_a_422_page(
    sw: Api, make_user: UserFactory, web_as: Callable[[Api], WebUser]
) -> None:
    director = web_as(make_user("director", "service_director"))
    page = web_as(sw)
    for user, url, params in (
        (page, "/children", {"q": NUL}),
        (director, "/director", {"team": NUL}),
        (director, "/director", {"journey_type": NUL}),
    ):
        response = user.get(url, params=params)
        assert response.status_code == 422, (url, params)
        assert "There is a problem with your request" in response.text
    assert page.get("/children", params={"q": "xy"}).status_code == 200
