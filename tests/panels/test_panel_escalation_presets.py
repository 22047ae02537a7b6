"""Issue 14's "Done when": for each preset whose agenda tracks children (CYPF's ToR names
escalating drift to the Service Director), a decision ``escalate`` on a tracked child reaches
the service director and is acknowledged. Wirral's full walk (email, page, register) is in
test_panel_escalation.py; this is the same cycle through the API for the other presets."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from services.clock import today
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, iso, ok, people

REASON = "No adopters identified after nine months; family finding has stalled."


def _open(api: Api) -> list[dict[str, Any]]:
    return [
        e
        for e in ok(api.get("/escalations?status=open"))
        if e["deadline_kind"] == "panel_escalation"
    ]


@pytest.fixture(params=["cypf", "sefton", "torbay"])
def preset(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The panel the app runs (set before the app starts: asked for first)."""
    monkeypatch.setenv("PERMANENCE_PANEL", request.param)
    return str(request.param)


def test_an_escalate_decision_reaches_the_director_and_is_acknowledged(
    preset: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    factory = Journeys(cast.sw)
    child = factory.child(legal_status="placement_order")
    cast.sw.start(child["id"], "adoption", iso(factory.start))
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    items = [i for p in agenda["parts"] for i in p["items"]]
    item = next(i for i in items if i["child_id"] == child["id"] and i["referral_id"] is None)
    decided = ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision", {"outcome": "escalate", "notes": REASON}
        ),
        201,
    )
    assert decided["outcome"] == "escalate"

    (top,) = [n for n in ok(cast.director.get("/notifications")) if n["category"] == "escalation"]
    assert top["deadline_kind"] == "panel_escalation"
    assert top["child_reference"] == child["reference"]
    listed = _open(cast.director)
    assert listed and all(e["reason"] == REASON and e["panel"] == preset for e in listed)

    answered = ok(
        cast.director.post(
            f"/escalations/{top['id']}/acknowledge", {"comment": "Widening the search."}
        )
    )
    assert answered["status"] == "acknowledged" and answered["acknowledged_by"] == "director"
    assert _open(cast.director) == []
