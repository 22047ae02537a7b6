"""The chair's "escalate drift" on the child page (issue 14): a link for the chair only, a
form that needs a reason, and the same escalation as POST /panel/children/{id}/escalate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, ok, people
from tests.web_support import WebUser, form_token


def _open(api: Api) -> list[dict[str, Any]]:
    return [
        e
        for e in ok(api.get("/escalations?status=open"))
        if e["deadline_kind"] == "panel_escalation"
    ]


def test_the_chair_escalates_drift_from_the_child_page(
    make_user: UserFactory, web_as: Callable[[Api], WebUser]
) -> None:
    cast = people(make_user)
    child = Journeys(cast.sw).child()
    link = f"/panel/children/{child['id']}/escalate"
    chair, sw = web_as(cast.chair), web_as(cast.sw)
    assert link in chair.get(f"/children/{child['id']}").text
    assert link not in sw.get(f"/children/{child['id']}").text
    assert sw.get(link).status_code == 403

    form = chair.get(link)
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    blank = chair.post(link, {"reason": "  "}, csrf=form_token(form.text))
    assert blank.status_code == 400 and "Enter the reason" in blank.text
    assert _open(cast.director) == []

    done = chair.post(link, {"reason": "No plan after 14 months"})
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/children/{child['id']}")
    [escalation] = _open(cast.director)
    assert escalation["child_reference"] == child["reference"], escalation
