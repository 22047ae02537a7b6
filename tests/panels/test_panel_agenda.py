"""Agenda rules across meetings: overflow goes first next time, the chair pins and sets when
a case comes back, and an action done meets its deadline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from panels.agenda import Candidate, build_agenda
from panels.config import load_panel
from services.clock import today
from services.models import AUDIT_LOG as AL
from services.models import DEADLINES as D
from tests.conftest import UserFactory
from tests.panel_support import Journeys, iso, ok, people


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def _part(agenda: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(p["items"] for p in agenda["parts"] if p["key"] == key)


def test_overflow_goes_first_and_the_chair_decides_when_a_case_returns(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=150))})
    )
    past = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()]
    first, second = past[-5], past[-4]
    later = next(
        m
        for m in planner
        if date.fromisoformat(m["meeting_date"])
        >= date.fromisoformat(first["meeting_date"]) + timedelta(weeks=6)
    )
    factory = Journeys(cast.sw)
    children = [factory.adoption()["child_id"] for _ in range(12)]

    # Part 1 is 45 minutes at 5 minutes a child: 9 fit, 3 roll with the reason.
    agenda = ok(cast.admin.post(f"/panel/meetings/{first['id']}/agenda", {}))
    listed = _part(agenda, "adoption_tracking")
    assert len(listed) == 9
    rolled = [r for r in agenda["rolled"] if r["part"] == "adoption_tracking"]
    assert len(rolled) == 3
    assert (
        "Part 1: Adoption tracking is full (45 minutes (5 minutes per child)" in rolled[0]["reason"]
    )
    assert {i["child_id"] for i in listed} | {r["child_id"] for r in rolled} == set(children)

    # The chair pins one rolled child: it goes on, over capacity, and stays through rebuilds.
    ok(cast.admin.post(f"/panel/items/{rolled[0]['id']}/pin", {}), 403)
    pinned = ok(cast.chair.post(f"/panel/items/{rolled[0]['id']}/pin", {}))
    assert len(_part(pinned, "adoption_tracking")) == 10
    rebuilt = ok(cast.admin.post(f"/panel/meetings/{first['id']}/agenda", {}))
    part1 = _part(rebuilt, "adoption_tracking")
    assert part1[0]["child_id"] == rolled[0]["child_id"] and part1[0]["pinned"]
    still_rolled = {r["child_id"] for r in rebuilt["rolled"] if r["part"] == "adoption_tracking"}
    # On a rebuild the pinned child keeps its place and the part is filled up to capacity
    # behind it, so another child rolls instead.
    assert len(part1) == 9 and len(still_rolled) == 3
    assert rolled[0]["child_id"] not in still_rolled

    # One tracked child is decided with a 6-week review; the rest of part 1 is not discussed.
    decided = part1[1]
    ok(
        cast.chair.post(
            f"/panel/items/{decided['id']}/decision", {"outcome": "progressing", "review_weeks": 6}
        ),
        201,
    )

    # Next meeting: the three that waited go first; the decided child is not back yet.
    nxt = ok(cast.admin.post(f"/panel/meetings/{second['id']}/agenda", {}))
    part1 = _part(nxt, "adoption_tracking")
    assert {i["child_id"] for i in part1[:3]} == still_rolled
    assert decided["child_id"] not in {i["child_id"] for i in part1}
    assert decided["child_id"] not in {r["child_id"] for r in nxt["rolled"]}  # in no part

    # Six weeks on, the case is due back.
    back = ok(cast.admin.post(f"/panel/meetings/{later['id']}/agenda", {}))
    everywhere = {i["child_id"] for i in _part(back, "adoption_tracking")} | {
        r["child_id"] for r in back["rolled"]
    }
    assert decided["child_id"] in everywhere


def test_done_action_meets_its_deadline(make_user: UserFactory, engine: Engine) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    child = Journeys(cast.sw).adoption()["child_id"]
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    item = next(i for i in _part(agenda, "adoption_tracking") if i["child_id"] == child)
    due = date.fromisoformat(meeting["meeting_date"]) + timedelta(days=10)
    decision = ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision",
            {
                "outcome": "actions_agreed",
                "actions": [{"description": "Start family finding", "due_on": iso(due)}],
            },
        ),
        201,
    )
    action = decision["actions"][0]
    mine = ok(cast.sw.get("/panel/actions"))
    assert [a["id"] for a in mine] == [action["id"]]
    # The list names the child and what is being done for them: an audited read (issue 10).
    with engine.connect() as conn:
        reads = conn.execute(
            select(AL.c.actor_id, AL.c.details).where(AL.c.action == "read.panel_actions")
        ).all()
    assert [(r.details["child_ids"], r.details["status"]) for r in reads] == [([child], "open")]
    assert reads[0].details["panel"] == "wirral"
    other = make_user("sw.south", "social_worker", team="south")
    assert ok(other.get("/panel/actions")) == []
    ok(other.post(f"/panel/actions/{action['id']}/done", {}), 403)
    done = ok(cast.sw.post(f"/panel/actions/{action['id']}/done", {"done_on": iso(today())}))
    assert done["status"] == "done"
    with engine.connect() as conn:
        row = conn.execute(select(D).where(D.c.kind == "panel_action")).one()
    assert row.status == "met" and row.met_on == today() and row.ref == str(action["id"])


def test_decisions_wait_for_the_meeting(make_user: UserFactory) -> None:
    cast = people(make_user)
    planner = ok(cast.admin.post("/panel/meetings/generate", {}))
    future = planner[1]
    Journeys(cast.sw).adoption()
    agenda = ok(cast.admin.post(f"/panel/meetings/{future['id']}/agenda", {}))
    item = _part(agenda, "adoption_tracking")[0]
    refused = cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "progressing"})
    assert refused.status_code == 409 and "has not happened yet" in refused.json()["message"]
    bad = cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "adopted!"})
    assert bad.status_code == 422 and "progressing" in bad.json()["outcomes"]


def test_pure_builder_respects_slots_and_pins() -> None:
    parts = load_panel("wirral").parts
    matching = [p for p in parts if p.key == "matching"]
    candidates = [
        Candidate(
            part="matching", source="referral", child_id=n, journey_id=n, referral_id=n, order=n
        )
        for n in range(1, 8)
    ]
    candidates[6].pinned_position = 1
    candidates[0].minutes = 25  # two 15-minute slots
    built = build_agenda(matching, candidates)
    ids = [p.candidate.referral_id for p in built.parts[0].items]
    assert ids == [7, 1, 2, 3]  # pinned first, then in order of referral
    assert built.parts[0].used_minutes == 75
    assert [p.minutes for p in built.parts[0].items] == [15, 30, 15, 15]
    assert [r.candidate.referral_id for r in built.rolled] == [4, 5, 6]
    assert "5 x 15-minute slots: 75 of 75 minutes taken" in built.rolled[0].reason
