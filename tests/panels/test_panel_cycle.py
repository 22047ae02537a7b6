"""One full panel cycle for each of the five presets, as its Terms of Reference describes it:
schedule -> referrals (one late, one with an incomplete checklist) -> agenda within the
parts' capacities with overflow -> decisions firing journey events -> actions -> minutes
due on the right working day -> tracker export that opens in openpyxl with the right rows.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from panels.config import load_panel
from panels.schedule import pack_due
from services.clock import today
from services.models import DEADLINES as D
from tests.conftest import UserFactory
from tests.panel_support import (
    Journeys,
    answers_for,
    funding_form,
    iso,
    ok,
    people,
    quorum_present,
)
from workflow.calendar import add_working_days, is_working_day

# Per preset: the decision the cycle takes, how to make a journey ready for it, the outcome
# the chair records, and the journey state that outcome leads to.
SPECS: dict[str, dict[str, Any]] = {
    "wirral": {
        "type": "sgo_support_plan",
        "make": "sgo",
        "outcome": "sign_off",
        "state": "signed_off",
        "cohort": "adoption",
    },
    "sefton": {
        "type": "pwp_discharge",
        "make": "pwp",
        "outcome": "plan_discharge",
        "state": "discharge_planned",
        "cohort": "adoption",
    },
    "cypf": {
        "type": "permanence_plan",
        "make": "permanence",
        "outcome": "approve_plan",
        "state": "plan_recorded",
        "cohort": "adoption",
        "event_data": {
            "primary_plan": "long_term_fostering",
            "contingency_plan": "special_guardianship",
        },
    },
    "leicestershire": {
        "type": "ltf_mainstream",
        "make": "ltf_meeting",
        "outcome": "recommend",
        "state": "panel_recommended",
        "then": ("approve", "approved"),
        "cohort": None,
    },
    "torbay": {
        "type": "sgo_support_plan",
        "make": "sgo",
        "outcome": "sign_off",
        "state": "signed_off",
        "cohort": "adoption",
        "review_weeks": 4,
    },
}


def _journey(factory: Journeys, make: str) -> dict[str, Any]:
    if make == "sgo":
        return factory.sgo_awaiting_panel()
    if make == "pwp":
        return factory.pwp()
    if make == "permanence":
        return factory.permanence_second_review()
    if make == "ltf_meeting":
        return factory.ltf("matching_meeting_held")
    raise AssertionError(make)


@pytest.fixture
def _panel(preset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Set before the app's settings are read (the fixture comes first in the test's list).
    monkeypatch.setenv("PERMANENCE_PANEL", preset)


@pytest.mark.parametrize("preset", sorted(SPECS))
def test_full_cycle(preset: str, _panel: None, make_user: UserFactory, engine: Engine) -> None:
    spec = SPECS[preset]
    config = load_panel(preset)
    cast = people(make_user)
    dt = config.decision_type(spec["type"])
    assert dt is not None and dt.checklist is not None
    checklist = config.checklist(dt.checklist)
    assert checklist is not None
    part = config.part(dt.part)
    assert part is not None

    # -- schedule: a six-month forward planner, from four months ago ---------------------
    start = today() - timedelta(days=120)
    planner = ok(cast.admin.post("/panel/meetings/generate", {"start": iso(start)}))
    assert len(planner) >= (5 if config.schedule.frequency == "monthly" else 12)
    for m in planner:
        held = date.fromisoformat(m["meeting_date"])
        assert is_working_day(held)
        assert m["start_time"] == config.schedule.start_time.strftime("%H:%M")
        assert m["pack_due_on"] == iso(pack_due(held, config.pack_lead))
    if config.schedule.frequency != "monthly":
        assert all(
            date.fromisoformat(m["scheduled_for"]).weekday()
            == ["monday", "tuesday", "wednesday", "thursday", "friday"].index(
                config.schedule.weekday
            )
            for m in planner
        )
    ok(cast.sw.post("/panel/meetings/generate", {}), 403)  # only the administrator plans
    past = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()]
    meeting = past[-1]
    m_date = date.fromisoformat(meeting["meeting_date"])
    m_pack = date.fromisoformat(meeting["pack_due_on"])

    # -- referrals: capacity + 1 on time (one overflows), one late, one incomplete --------
    factory = Journeys(cast.sw)
    slots = part.capacity.total_minutes // max(
        dt.minutes or part.capacity.unit_minutes, part.capacity.unit_minutes
    )
    funding = funding_form() if dt.funding_scheme else None
    on_time: list[dict[str, Any]] = []
    for _ in range(slots + 1):
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
        assert ref["pack_due_on"] == iso(m_pack)
        ref = ok(
            cast.sw.post(
                f"/panel/referrals/{ref['id']}/pack",
                {
                    "checklist": answers_for(checklist),
                    "documents": dt.documents,
                    "funding": funding,
                    "submitted_on": iso(m_pack - timedelta(days=1)),
                },
            )
        )
        assert ref["status"] == "accepted" and ref["listable"], ref
        on_time.append(ref)
    if dt.on_pack_event:
        view = ok(cast.sw.get(f"/journeys/{on_time[0]['journey_id']}"))
        assert view["state"] == "pack_submitted"  # Leicestershire: the pack moves the journey

    late_j = _journey(factory, spec["make"])
    late = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": late_j["id"],
                "decision_type": dt.key,
                "meeting_id": meeting["id"],
                "referred_on": iso(m_pack - timedelta(days=7)),
            },
        ),
        201,
    )
    late = ok(
        cast.sw.post(
            f"/panel/referrals/{late['id']}/pack",
            {
                "checklist": answers_for(checklist),
                "funding": funding,
                "submitted_on": iso(m_pack + timedelta(days=1)),
            },
        )
    )
    assert late["meeting_id"] != meeting["id"]
    assert "late pack cannot be listed" in late["reason"], late["reason"]
    assert date.fromisoformat(late["meeting_date"]) > m_date

    bad_j = _journey(factory, spec["make"])
    bad = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": bad_j["id"],
                "decision_type": dt.key,
                "meeting_id": meeting["id"],
                "referred_on": iso(m_pack - timedelta(days=7)),
            },
        ),
        201,
    )
    answers = answers_for(checklist)
    missing_item = checklist.items[-1].key
    answers[missing_item] = "no"
    bad = ok(
        cast.sw.post(
            f"/panel/referrals/{bad['id']}/pack",
            {
                "checklist": answers,
                "funding": funding,
                "submitted_on": iso(m_pack - timedelta(days=2)),
            },
        )
    )
    assert bad["status"] == "awaiting_pack" and not bad["listable"]
    assert "incomplete" in bad["reason"] and missing_item in bad["reason"]
    assert bad["meeting_id"] != meeting["id"]
    # Its pack deadline moved to the meeting it is offered, and is still open there.
    due = ok(cast.sw.get(f"/journeys/{bad_j['id']}"))["deadlines"]
    pack_rows = [d for d in due if d["kind"] == "panel_pack"]
    assert [(d["due_on"], d["status"]) for d in pack_rows] == [(bad["pack_due_on"], "open")]

    cohort_child = None
    if spec["cohort"] == "adoption":
        cohort_child = factory.adoption()["child_id"]

    # -- agenda within capacity, overflow rolled with the reason ---------------------------
    ok(cast.sw.post(f"/panel/meetings/{meeting['id']}/agenda", {}), 403)
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    by_part = {p["key"]: p for p in agenda["parts"]}
    for p in agenda["parts"]:
        assert p["used_minutes"] <= p["capacity_minutes"], p
    referral_items = [i for i in by_part[dt.part]["items"] if i["referral_id"]]
    assert len(referral_items) == slots
    rolled = [r for r in agenda["rolled"] if r["referral_id"]]
    assert len(rolled) == 1 and "is full" in rolled[0]["reason"]
    assert rolled[0]["referral_id"] == on_time[-1]["id"]  # last referred, first to roll
    moved = ok(cast.sw.get(f"/panel/referrals/{on_time[-1]['id']}"))
    assert moved["meeting_id"] != meeting["id"] and "is full" in moved["reason"]
    not_listed = {n["referral_id"]: n["reason"] for n in agenda["not_listed"]}
    assert "late" in not_listed[late["id"]] and "incomplete" in not_listed[bad["id"]]
    if cohort_child is not None:
        tracked = [i for p in agenda["parts"] for i in p["items"] if i["child_id"] == cohort_child]
        assert tracked and tracked[0]["source"] == "adoption_tracker"

    # -- the chair reorders; decisions fire journey events --------------------------------
    first, second = referral_items[0], referral_items[1]
    reordered = ok(
        cast.chair.post(
            f"/panel/meetings/{meeting['id']}/agenda/order",
            {"part": dt.part, "item_ids": [second["id"], first["id"]]},
        )
    )
    order = [i["id"] for p in reordered["parts"] if p["key"] == dt.part for i in p["items"]]
    assert order[:2] == [second["id"], first["id"]]
    ok(cast.sw.post(f"/panel/items/{first['id']}/decision", {"outcome": spec["outcome"]}), 403)

    ok(
        cast.admin.post(
            f"/panel/meetings/{meeting['id']}/attendance",
            {
                "entries": [
                    {
                        "member_key": config.chair().key,
                        "status": "present",
                        "person": "Chair Person",
                    },
                    {
                        "member_key": config.members[-1].key,
                        "status": "apologies",
                        "person": "A Member",
                        "representative": "Their Deputy",
                    },
                    # The preset's quorum, so the decisions stand (test_panel_quorum has
                    # the meetings below it).
                    *quorum_present(config, already=(config.chair().key, config.members[-1].key)),
                ]
            },
        )
    )
    seats = {s["key"]: s for s in ok(cast.admin.get(f"/panel/meetings/{meeting['id']}"))["members"]}
    assert seats[config.chair().key]["status"] == "present"
    assert seats[config.members[-1].key]["representative"] == "Their Deputy"
    assert len(seats) == len(config.members)
    action_due = m_date + timedelta(days=14)
    decision = ok(
        cast.chair.post(
            f"/panel/items/{first['id']}/decision",
            {
                "outcome": spec["outcome"],
                "meets_needs": "will",
                "resources_child": "Therapeutic support",
                "resources_carers": "Respite",
                "notes": "Agreed",
                "event_data": spec.get("event_data", {}),
                "review_weeks": spec.get("review_weeks"),
                "actions": [
                    {
                        "description": "Send the support plan to the carers",
                        "due_on": iso(action_due),
                    }
                ],
            },
        ),
        201,
    )
    assert decision["event"] is not None
    journey = ok(cast.sw.get(f"/journeys/{first['journey_id']}"))
    assert journey["state"] == spec["state"]
    history = ok(cast.sw.get(f"/journeys/{first['journey_id']}/history"))
    assert history[-1]["occurred_on"] == iso(m_date)  # dated the day of the panel
    if "then" in spec:
        outcome, state = spec["then"]
        ok(cast.chair.post(f"/panel/items/{first['id']}/decision", {"outcome": outcome}), 403)
        ok(cast.adm.post(f"/panel/items/{first['id']}/decision", {"outcome": outcome}), 201)
        assert ok(cast.sw.get(f"/journeys/{first['journey_id']}"))["state"] == state

    # -- actions are deadlines on the journey ----------------------------------------------
    action = decision["actions"][0]
    rows = [d for d in journey["deadlines"] if d["kind"] == "panel_action"]
    assert [(d["due_on"], d["status"]) for d in rows] == [(iso(action_due), "open")]
    assert action["owner_id"] == cast.sw.user_id
    if cohort_child is not None:
        tracked_item = next(
            i for p in agenda["parts"] for i in p["items"] if i["child_id"] == cohort_child
        )
        ok(
            cast.chair.post(
                f"/panel/items/{tracked_item['id']}/decision",
                {
                    "outcome": "actions_agreed",
                    "review_weeks": 6,
                    "actions": [
                        {"description": "Family finding update", "due_on": iso(action_due)}
                    ],
                },
            ),
            201,
        )

    # -- minutes: due N working days after, approved, written to each child's record -------
    minutes = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes"))
    expected_due = add_working_days(m_date, config.minutes.due_working_days)
    assert minutes["minutes_due_on"] == iso(expected_due)
    with engine.connect() as conn:
        row = conn.execute(select(D).where(D.c.kind == "panel_minutes")).one()
    assert row.due_on == expected_due and row.meeting_id == meeting["id"]
    assert row.journey_id is None and row.owner_role == "panel_admin"
    assert is_working_day(expected_due)
    assert minutes["apologies"][0]["representative"] == "Their Deputy"
    html = cast.admin.get(f"/panel/meetings/{meeting['id']}/minutes?format=html")
    assert html.status_code == 200 and "will/will not meet" in html.text
    assert "Additional resources agreed to promote the child" in html.text
    pdf = cast.admin.get(f"/panel/meetings/{meeting['id']}/minutes?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    ok(cast.sw.get(f"/panel/meetings/{meeting['id']}/minutes"), 403)  # minutes name children
    approved = ok(
        cast.admin.post(
            f"/panel/meetings/{meeting['id']}/minutes/approve",
            {"approved_on": iso(min(expected_due, today()))},
        )
    )
    assert approved["children_recorded"] >= 1
    assert cast.tm.user_id in approved["circulated_to"]
    assert cast.sw.user_id in approved["circulated_to"]
    with engine.connect() as conn:
        row = conn.execute(select(D).where(D.c.kind == "panel_minutes")).one()
    assert row.status == "met"
    entries = ok(cast.sw.get(f"/panel/children/{journey['child_id']}/history"))
    assert entries and entries[0]["meeting_id"] == meeting["id"]
    assert "child_name" not in entries[0]["entry"]

    # -- tracker: JSON, CSV and XLSX with the right rows -----------------------------------
    tracker = ok(cast.admin.get("/panel/tracker"))
    refs = {r["child_reference"] for r in tracker}
    referred = [*on_time, late, bad]
    expected = {ok(cast.sw.get(f"/children/{r['child_id']}"))["reference"] for r in referred}
    agenda_children = {i["child_reference"] for p in agenda["parts"] for i in p["items"]}
    assert refs == expected | agenda_children
    decided = next(r for r in tracker if r["child_id"] == journey["child_id"])
    assert decided["last_decision"] == (spec["then"][0] if "then" in spec else spec["outcome"])
    assert decided["open_actions"] == 1 and decided["rag"] in ("red", "amber", "green")
    if spec.get("review_weeks"):
        assert decided["next_review_on"] == iso(m_date + timedelta(weeks=spec["review_weeks"]))
    xlsx = cast.admin.get("/panel/tracker?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Child reference" and values[0][-1] == "RAG"
    assert {v[0] for v in values[1:]} == refs
    assert len(values) == len(tracker) + 1
    csv_text = cast.admin.get("/panel/tracker?format=csv").text
    assert len(csv_text.strip().splitlines()) == len(tracker) + 1

    # The social worker's tracker shows only their team's children.
    other = make_user("sw.south", "social_worker", team="south")
    assert ok(other.get("/panel/tracker")) == []

    # -- reports -----------------------------------------------------------------------------
    themes = ok(cast.chair.get(f"/panel/reports/themes?from={iso(start)}&to={iso(today())}"))
    assert themes["not_listed"].get("late pack") == 1
    assert themes["not_listed"].get("incomplete pack") == 1
    assert themes["not_listed"].get("part full") == 1
    annual = ok(cast.chair.get(f"/panel/reports/annual?year={m_date.year}"))
    assert annual["meetings_held"] >= 1 and annual["timeliness"]["minutes_on_time_pct"] == 100.0
