"""Quorum and attendance (issue 14 item 4), through the API, for each preset with a quorum.

A meeting below quorum can be held; its decisions are marked "not quorate", their journey
event waits, they appear on the next meeting as "to ratify", and the chair ratifies them
there (the event fires) or does not (with a reason; it never fires). A meeting at quorum
decides as before. Moving a meeting to a past date needs a confirmation and a reason.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from docx import Document
from sqlalchemy import Engine, select

from panels.config import PanelConfigError, load_panel, parse_panel, preset_names
from panels.schedule import pack_due
from services.clock import today
from services.models import AUDIT_LOG as AUDIT
from tests.conftest import UserFactory
from tests.panel_support import Journeys, answers_for, funding_form, iso, ok, people
from tests.panels.test_panel_cycle import SPECS, _journey

WITH_QUORUM = [name for name in preset_names() if load_panel(name).quorum is not None]


def test_presets_quorum_follows_the_terms_of_reference() -> None:
    """Sefton, Torbay and Wirral name who must attend; CYPF and Leicestershire do not, and
    say so among their assumptions."""
    assert WITH_QUORUM == ["sefton", "torbay", "wirral"]
    assert load_panel("sefton").quorum.seats == ["chair", "iro_manager", "fostering_manager"]  # type: ignore[union-attr]
    for name in ("cypf", "leicestershire"):
        config = load_panel(name)
        assert config.quorum is None
        assert any(a.startswith("no quorum") for a in config.panel.assumptions)
    for name in WITH_QUORUM:
        assert any(a.startswith("quorum:") for a in load_panel(name).panel.assumptions)


@pytest.mark.parametrize(
    ("quorum", "problem"),
    [
        ({"seats": ["nobody"]}, "quorum.seats: no member 'nobody'"),
        ({"seats": ["commissioning"]}, "needed only when required"),
        ({"at_least": 99}, "more than the panel's"),
        ({"seats": ["chair", "cic_sm"], "at_least": 1}, "fewer than the 2 seats"),
        ({}, "a quorum names seats"),
    ],
)
def test_panel_check_refuses_a_bad_quorum(quorum: dict[str, Any], problem: str) -> None:
    import tomllib

    from panels.config import PRESETS_DIR

    data = tomllib.loads((PRESETS_DIR / "leicestershire.toml").read_text())
    data["quorum"] = quorum
    with pytest.raises(PanelConfigError) as exc:
        parse_panel(data, "test.toml")
    assert any(problem in p for p in exc.value.problems), exc.value.problems


@pytest.fixture
def _panel(preset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", preset)


def _refer(cast: Any, factory: Journeys, preset: str, meeting: dict[str, Any]) -> dict[str, Any]:
    spec = SPECS[preset]
    config = load_panel(preset)
    dt = config.decision_type(spec["type"])
    assert dt is not None and dt.checklist is not None
    checklist = config.checklist(dt.checklist)
    m_pack = pack_due(date.fromisoformat(meeting["meeting_date"]), config.pack_lead)
    j = _journey(factory, spec["make"])
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": j["id"],
                "decision_type": dt.key,
                "meeting_id": meeting["id"],
                "referred_on": iso(m_pack - timedelta(days=7)),
            },
        ),
        201,
    )
    ok(
        cast.sw.post(
            f"/panel/referrals/{ref['id']}/pack",
            {
                "checklist": answers_for(checklist),
                "documents": dt.documents,
                "funding": funding_form() if dt.funding_scheme else None,
                "submitted_on": iso(m_pack - timedelta(days=1)),
            },
        )
    )
    return j


def _items(cast: Any, meeting_id: int) -> dict[int, int]:
    """The built agenda's referral items, by journey id."""
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting_id}/agenda", {}))
    return {
        i["journey_id"]: i["id"] for p in agenda["parts"] for i in p["items"] if i["referral_id"]
    }


def _attend(cast: Any, meeting_id: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Record the meeting's attendance; the meeting as it answers."""
    url = f"/panel/meetings/{meeting_id}/attendance"
    detail: dict[str, Any] = ok(cast.admin.post(url, {"entries": entries}))
    return detail


def _decide(cast: Any, preset: str, item_id: int, notes: str) -> dict[str, Any]:
    """The chair records the preset's cycle outcome on an item; the decision."""
    spec = SPECS[preset]
    decision: dict[str, Any] = ok(
        cast.chair.post(
            f"/panel/items/{item_id}/decision",
            {
                "outcome": spec["outcome"],
                "notes": notes,
                "event_data": spec.get("event_data", {}),
            },
        ),
        201,
    )
    return decision


def _audit(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(AUDIT).where(AUDIT.c.action == action)))


@pytest.mark.parametrize("preset", WITH_QUORUM)
def test_below_quorum_decision_waits_for_ratifying_at_the_next_meeting(
    preset: str, _panel: None, make_user: UserFactory, engine: Engine
) -> None:
    spec = SPECS[preset]
    config = load_panel(preset)
    assert config.quorum is not None
    seats = config.quorum.seats
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=120))})
    )
    past = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()]
    first, second = past[-2], past[-1]
    factory = Journeys(cast.sw)
    ratify_j = _refer(cast, factory, preset, first)
    refuse_j = _refer(cast, factory, preset, first)
    quorate_j = _refer(cast, factory, preset, second)
    items = _items(cast, first["id"])
    start_state = ok(cast.sw.get(f"/journeys/{ratify_j['id']}"))["state"]

    # -- the first meeting: only the chair comes; the quorum's other seats do not --------
    detail = _attend(
        cast,
        first["id"],
        [
            {"member_key": seats[0], "status": "present", "person": "Chair"},
            {"member_key": seats[1], "status": "apologies", "person": "No Deputy"},
            *({"member_key": s, "status": "absent"} for s in seats[2:]),
        ],
    )
    assert detail["status"] == "held" and detail["quorate"] is False
    titles = {m.key: m.title for m in config.members}
    assert detail["quorum_missing"] == [titles[s] for s in seats[1:]]
    below = _decide(cast, preset, items[ratify_j["id"]], "Agreed below quorum")
    assert below["quorate"] is False and below["ratification"] == "pending"
    assert below["quorum_status"] == "Not quorate: to ratify at the next meeting"
    assert below["journey_version"] is None
    # Its event waits: the journey has not moved.
    assert ok(cast.sw.get(f"/journeys/{ratify_j['id']}"))["state"] == start_state
    other = _decide(cast, preset, items[refuse_j["id"]], "Also below quorum")

    # The minutes, the tracker and (once approved) the child's record say so.
    minutes = ok(cast.admin.post(f"/panel/meetings/{first['id']}/minutes"))
    marked = [d for p in minutes["parts"] for i in p["items"] for d in i["decisions"]]
    assert {d["quorum_status"] for d in marked} == {"Not quorate: to ratify at the next meeting"}
    html = cast.chair.get(f"/panel/meetings/{first['id']}/minutes", params={"format": "html"})
    assert "Not quorate: to ratify at the next meeting" in html.text
    word = cast.chair.get(f"/panel/meetings/{first['id']}/minutes", params={"format": "docx"})
    text = "\n".join(
        c.text for t in Document(io.BytesIO(word.content)).tables for r in t.rows for c in r.cells
    )
    assert "Not quorate: to ratify at the next meeting" in text
    tracker = ok(cast.chair.get("/panel/tracker"))
    row = next(r for r in tracker if r["child_id"] == below["child_id"])
    assert row["last_decision_quorum"] == "Not quorate: to ratify at the next meeting"
    csv = cast.chair.get("/panel/tracker", params={"format": "csv"})
    assert "Quorum" in csv.text and "Not quorate: to ratify at the next meeting" in csv.text

    # -- the next meeting: the decisions are there to ratify ------------------------------
    nxt = ok(cast.chair.get(f"/panel/meetings/{second['id']}"))
    assert [d["decision_id"] for d in nxt["to_ratify"]] == [below["id"], other["id"]]
    assert nxt["to_ratify"][0]["held_on"] == first["meeting_date"]
    ratify = f"/panel/decisions/{below['id']}/ratification"
    body = {"meeting_id": second["id"], "ratified": True}
    # Not until this meeting is itself quorate; never by a social worker or the administrator.
    refused = ok(cast.chair.post(ratify, body), 409)
    assert refused["code"] == "not_quorate"
    ok(cast.sw.post(ratify, body), 403)
    ok(cast.admin.post(ratify, body), 403)
    # A represented seat counts toward the quorum; a seat with apologies and no one does not.
    entries = [{"member_key": s, "status": "present", "person": f"Member {s}"} for s in seats[:-1]]
    entries.append(
        {"member_key": seats[-1], "status": "apologies", "person": "Away", "representative": ""}
    )
    assert _attend(cast, second["id"], entries)["quorate"] is False
    entries[-1]["representative"] = "Their Deputy"
    assert _attend(cast, second["id"], entries)["quorate"] is True
    # Ratified at a later meeting than its own only.
    ok(cast.chair.post(ratify, {"meeting_id": first["id"], "ratified": True}), 409)

    ratified = ok(cast.chair.post(ratify, body))
    assert ratified["ratification"] == "ratified"
    assert ratified["ratified_meeting_id"] == second["id"]
    assert ratified["quorum_status"].startswith("Not quorate: ratified at the meeting on ")
    assert ratified["journey_version"] is not None
    assert ok(cast.sw.get(f"/journeys/{ratify_j['id']}"))["state"] == spec["state"]
    ok(cast.chair.post(ratify, body), 409)  # once
    [audited] = _audit(engine, "panel_decision_ratified")
    assert audited.entity_id == below["id"] and audited.details["meeting_id"] == second["id"]

    # Not ratifying needs a reason; the event then never fires.
    refuse = f"/panel/decisions/{other['id']}/ratification"
    ok(cast.chair.post(refuse, {"meeting_id": second["id"], "ratified": False}), 422)
    not_ratified = ok(
        cast.chair.post(
            refuse, {"meeting_id": second["id"], "ratified": False, "reason": "Plan changed"}
        )
    )
    assert not_ratified["ratification"] == "not_ratified"
    assert (
        "not ratified" in not_ratified["quorum_status"]
        and "Plan changed" in (not_ratified["quorum_status"])
    )
    assert ok(cast.sw.get(f"/journeys/{refuse_j['id']}"))["state"] == start_state
    [refusal] = _audit(engine, "panel_decision_not_ratified")
    assert refusal.details["reason"] == "Plan changed"
    assert ok(cast.chair.get(f"/panel/meetings/{second['id']}"))["to_ratify"] == []

    # -- a quorate meeting decides as before: its event fires at once ---------------------
    second_items = _items(cast, second["id"])
    quorate = _decide(cast, preset, second_items[quorate_j["id"]], "Agreed at quorum")
    assert quorate["quorate"] is True and quorate["ratification"] is None
    assert quorate["quorum_status"] == ""
    assert ok(cast.sw.get(f"/journeys/{quorate_j['id']}"))["state"] == spec["state"]

    # The first meeting's minutes, approved now, write the ratified words to the record.
    ok(cast.admin.post(f"/panel/meetings/{first['id']}/minutes"))
    ok(cast.chair.post(f"/panel/meetings/{first['id']}/minutes/approve", {}))
    record = ok(cast.chair.get(f"/panel/children/{below['child_id']}/record"))
    words = [d["quorum_status"] for e in record for d in e["decisions"] if d["quorum_status"]]
    assert len(words) == 1 and words[0].startswith("Not quorate: ratified at the meeting on ")
    [marked_entry] = [e for e in record if any(d["quorum_status"] for d in e["decisions"])]
    entry = cast.chair.get(f"/panel/record-entries/{marked_entry['id']}", params={"format": "docx"})
    paragraphs = Document(io.BytesIO(entry.content))
    cells = [c.text for t in paragraphs.tables for r in t.rows for c in r.cells]
    entry_text = "\n".join([*(p.text for p in paragraphs.paragraphs), *cells])
    assert "Not quorate: ratified at the meeting on" in entry_text


@pytest.mark.parametrize("preset", ["leicestershire"])
def test_a_panel_without_a_quorum_is_always_quorate(
    preset: str, _panel: None, make_user: UserFactory
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = ok(cast.admin.get(f"/panel/meetings/{planner[0]['id']}"))
    assert meeting["quorate"] is True and meeting["quorum"] == "" and meeting["to_ratify"] == []


def test_moving_a_meeting_to_a_past_date_needs_confirmation_and_a_reason(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    planner = ok(cast.admin.post("/panel/meetings/generate", {"start": iso(today())}))
    taken = {m["meeting_date"] for m in planner}
    upcoming = next(m for m in planner if date.fromisoformat(m["meeting_date"]) > today())
    back = today() - timedelta(days=1)
    while iso(back) in taken:
        back -= timedelta(days=1)
    move = f"/panel/meetings/{upcoming['id']}/move"
    refused = ok(cast.admin.post(move, {"new_date": iso(back), "reason": "Held early"}), 422)
    assert refused["error"] == "past_date_unconfirmed"
    assert (
        ok(cast.admin.get(f"/panel/meetings/{upcoming['id']}"))["meeting_date"]
        == (upcoming["meeting_date"])
    )
    # The confirmation alone is not enough: a reason too (the body's own check).
    ok(cast.admin.post(move, {"new_date": iso(back), "reason": "", "confirm_past": True}), 422)
    ok(cast.chair.post(move, {"new_date": iso(back), "reason": "x", "confirm_past": True}), 403)
    moved = ok(
        cast.admin.post(move, {"new_date": iso(back), "reason": "Held early", "confirm_past": True})
    )
    assert moved["meeting_date"] == iso(back)
    audited = [r for r in _audit(engine, "panel_meeting_moved") if r.entity_id == upcoming["id"]]
    assert audited[-1].details["reason"] == "Held early"
    assert audited[-1].details["past_date_confirmed"] is True
    # A future date needs no confirmation.
    ahead = today() + timedelta(days=1)
    while iso(ahead) in taken:
        ahead += timedelta(days=1)
    assert ok(cast.admin.post(move, {"new_date": iso(ahead), "reason": "Back again"}))[
        "meeting_date"
    ] == iso(ahead)


def test_panel_check_prints_the_quorum(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    assert main(["panel", "check", "sefton"]) == 0
    assert "quorum: present or represented: Service Manager for Corporate Parenting" in (
        capsys.readouterr().out
    )
    assert main(["panel", "check", "cypf"]) == 0
    assert "quorum: none (every meeting is quorate)" in capsys.readouterr().out
