"""Issue 14's "Done when": for each preset whose agenda tracks children (CYPF's ToR names
escalating drift to the Service Director), a decision ``escalate`` on a tracked child reaches
the service director and is acknowledged; and (Torbay and CYPF want decisions on the child's
file) approved minutes put an entry on the child's record whose PDF and DOCX hold them, and
which reaches the case management system's webhook once.
Wirral's full walk (email, page, register) is in test_panel_escalation.py; this is the same
cycle through the API for the other presets."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import Engine

from notifications.dispatcher import dispatch
from services.clock import now_utc, today
from tests.conftest import Api, UserFactory
from tests.panel_record_support import approve
from tests.panel_support import Journeys, People, iso, ok, people
from tests.panels.conftest import Hook, record_dispatch_config

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


def _tracked_item(cast: People) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A held meeting's agenda item for a child on the adoption tracker: item, meeting, child."""
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
    return item, meeting, child


def test_an_escalate_decision_reaches_the_director_and_is_acknowledged(
    preset: str, make_user: UserFactory
) -> None:
    cast = people(make_user)
    item, _meeting, child = _tracked_item(cast)
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


ACTION = "Widen family finding to the regional adoption agency"


def test_approved_minutes_put_the_decision_on_the_childs_record(
    preset: str, hook: Hook, make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    item, meeting, child = _tracked_item(cast)
    due = date.fromisoformat(meeting["meeting_date"]) + timedelta(days=14)
    ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision",
            {
                "outcome": "actions_agreed",
                "notes": REASON,
                "actions": [{"description": ACTION, "due_on": iso(due)}],
            },
        ),
        201,
    )
    approve(cast, meeting["id"])
    (entry,) = ok(cast.sw.get(f"/panel/children/{child['id']}/record"))
    (decision,) = entry["decisions"]
    assert decision["outcome"] == "actions_agreed" and decision["reasons"] == REASON
    pdf = cast.sw.get(f"/panel/record-entries/{entry['id']}?format=pdf")
    assert pdf.status_code == 200
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert REASON in text and ACTION in text and child["reference"] in text
    docx = cast.sw.get(f"/panel/record-entries/{entry['id']}?format=docx")
    assert docx.status_code == 200
    cells = [
        c.text
        for t in Document(io.BytesIO(docx.content)).tables
        for row in t.rows
        for c in row.cells
    ]
    assert any(ACTION in c for c in cells) and any(REASON in c for c in cells)
    # The entry leaves for the case management system once: the first post is answered 500,
    # the retry 200, and delivery running again sends nothing more.
    config = record_dispatch_config(hook)
    start = now_utc()
    dispatch(engine, config, now=start)
    dispatch(engine, config, now=start + timedelta(seconds=5))
    dispatch(engine, config, now=start + timedelta(minutes=10))
    delivered = [
        json.loads(body)
        for (_headers, body), status in zip(hook.received, hook.answered, strict=True)
        if status == 200
    ]
    assert [m["entry_id"] for m in delivered] == [entry["id"]]
    assert delivered[0]["child"]["id"] == child["id"]
    assert delivered[0]["decisions"][0]["reasons"] == REASON
