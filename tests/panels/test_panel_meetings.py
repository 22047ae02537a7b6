"""Moving and cancelling meetings: every pack deadline hanging off a meeting moves with it,
recorded with the reason, and no reminder fires on the old dates."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select

from notifications.policy import policies_from_settings
from notifications.sweep import sweep
from panels.config import load_panel
from panels.schedule import pack_due, plan
from services.clock import today
from services.config import Settings
from services.models import AUDIT_LOG as AL
from services.models import DEADLINES as D
from tests.conftest import UserFactory
from tests.panel_support import Journeys, ok, people


@pytest.fixture(autouse=True)
def _torbay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "torbay")


def _future_meetings(admin: object) -> list[dict[str, object]]:
    planner = ok(admin.post("/panel/meetings/generate", {}))  # type: ignore[attr-defined]
    return [
        m
        for m in planner
        if date.fromisoformat(str(m["pack_due_on"])) > today() + timedelta(days=3)
    ]


def test_moving_a_meeting_moves_every_pack_deadline(
    make_user: UserFactory, engine: Engine, settings: Settings
) -> None:
    cast = people(make_user)
    meetings = _future_meetings(cast.admin)
    target, other = meetings[0], meetings[1]
    factory = Journeys(cast.sw)
    referrals = []
    for _ in range(3):
        j = factory.sgo_awaiting_panel()
        referrals.append(
            ok(
                cast.sw.post(
                    "/panel/referrals",
                    {
                        "journey_id": j["id"],
                        "decision_type": "sgo_support_plan",
                        "meeting_id": target["id"],
                    },
                ),
                201,
            )
        )
    # A referral to another meeting must not move.
    j = factory.sgo_awaiting_panel()
    bystander = ok(
        cast.sw.post(
            "/panel/referrals",
            {"journey_id": j["id"], "decision_type": "sgo_support_plan", "meeting_id": other["id"]},
        ),
        201,
    )
    old_due = date.fromisoformat(str(target["pack_due_on"]))
    config = load_panel("torbay")
    # Far enough that no "before" reminder of the new date falls on the old one.
    new_date = date.fromisoformat(str(target["meeting_date"])) + timedelta(days=35)
    while new_date.weekday() >= 5:
        new_date += timedelta(days=1)
    new_due = pack_due(new_date, config.pack_lead)

    ok(
        cast.sw.post(
            f"/panel/meetings/{target['id']}/move",
            {"new_date": new_date.isoformat(), "reason": "x"},
        ),
        403,
    )
    moved = ok(
        cast.admin.post(
            f"/panel/meetings/{target['id']}/move",
            {"new_date": new_date.isoformat(), "reason": "Chair on leave"},
        )
    )
    assert moved["meeting_date"] == new_date.isoformat()
    assert moved["pack_due_on"] == new_due.isoformat()
    assert moved["scheduled_for"] == target["scheduled_for"]  # the planner slot is unchanged

    with engine.connect() as conn:
        rows = conn.execute(select(D).where(D.c.kind == "panel_pack")).all()
        audit = conn.execute(select(AL).where(AL.c.action == "deadline_moved")).all()
    mine = [r for r in rows if r.meeting_id == target["id"]]
    assert len(mine) == 3
    assert {r.due_on for r in mine} == {new_due}
    assert not [r for r in rows if r.due_on == old_due and r.status == "open"]
    assert [r.due_on for r in rows if r.ref == str(bystander["id"])] == [
        date.fromisoformat(bystander["pack_due_on"])
    ]
    assert len(audit) == 3
    assert all(
        a.details["why"].startswith("Meeting moved")
        and "Chair on leave" in a.details["why"]
        and a.details["from_due_on"] == old_due.isoformat()
        for a in audit
    )
    for ref in referrals:
        got = ok(cast.sw.get(f"/panel/referrals/{ref['id']}"))
        assert got["pack_due_on"] == new_due.isoformat()

    # The reminder sweep: nothing on the old due date, the due-day notice on the new one.
    policies = policies_from_settings(settings)
    on_old = sweep(engine, policies, old_due)
    assert not [
        n
        for n in on_old.notices
        if n.deadline_kind == "panel_pack" and n.deadline_id in {r.id for r in mine}
    ]
    on_new = sweep(engine, policies, new_due)
    due_day = [
        n for n in on_new.notices if n.deadline_id in {r.id for r in mine} and n.fire_on == new_due
    ]
    assert len(due_day) == 3 and all(n.recipient_id == cast.sw.user_id for n in due_day)


def test_generating_again_keeps_moved_meetings(make_user: UserFactory) -> None:
    cast = people(make_user)
    meetings = _future_meetings(cast.admin)
    first = meetings[0]
    new_date = date.fromisoformat(str(first["meeting_date"])) + timedelta(days=1)
    ok(
        cast.admin.post(
            f"/panel/meetings/{first['id']}/move",
            {"new_date": new_date.isoformat(), "reason": "Room"},
        )
    )
    again = ok(cast.admin.post("/panel/meetings/generate", {}))
    slots = [m["scheduled_for"] for m in again]
    assert len(slots) == len(set(slots))
    assert next(m for m in again if m["id"] == first["id"])["meeting_date"] == new_date.isoformat()


def test_cancelling_offers_the_next_meeting(make_user: UserFactory, engine: Engine) -> None:
    cast = people(make_user)
    meetings = _future_meetings(cast.admin)
    target, nxt = meetings[0], meetings[1]
    j = Journeys(cast.sw).sgo_awaiting_panel()
    ref = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": j["id"],
                "decision_type": "sgo_support_plan",
                "meeting_id": target["id"],
            },
        ),
        201,
    )
    ok(cast.admin.post(f"/panel/meetings/{target['id']}/cancel", {"reason": "Snow"}))
    got = ok(cast.sw.get(f"/panel/referrals/{ref['id']}"))
    assert got["meeting_id"] == nxt["id"] and "cancelled: Snow" in got["reason"]
    assert got["pack_due_on"] == nxt["pack_due_on"]
    with engine.connect() as conn:
        row = conn.execute(select(D).where(D.c.kind == "panel_pack")).one()
    assert row.meeting_id == nxt["id"] and row.due_on.isoformat() == nxt["pack_due_on"]
    ok(
        cast.admin.post(
            f"/panel/meetings/{target['id']}/move", {"new_date": nxt["meeting_date"], "reason": "x"}
        ),
        409,
    )


def test_planner_dates_follow_each_tor() -> None:
    """Fortnightly Thursdays (Torbay); fourth Thursday monthly at 13:30 (CYPF); a bank
    holiday moves the meeting to the next working day."""
    torbay = plan(load_panel("torbay").schedule, date(2026, 1, 1))
    assert all(s.scheduled_for.weekday() == 3 for s in torbay)
    assert all((b.scheduled_for - a.scheduled_for).days == 14 for a, b in pairwise(torbay))
    assert len(torbay) == 13
    cypf = load_panel("cypf")
    assert cypf.schedule.start_time.strftime("%H:%M") == "13:30"
    dates = [s.meeting_date for s in plan(cypf.schedule, date(2018, 3, 1))]
    assert dates[0] == date(2018, 3, 22)  # "commencing Thursday 22nd March 2018"
    # Christmas Eve 2026 is a Thursday (the fourth): a working day, kept.
    assert date(2026, 12, 24) in [s.meeting_date for s in plan(cypf.schedule, date(2026, 12, 1))]
    wirral = plan(load_panel("wirral").schedule, date(2026, 12, 20), 1)
    # Wirral's fortnightly Wednesday falling on Christmas Day 2030 is checked below instead.
    assert all(s.meeting_date.weekday() < 5 for s in wirral)
    leics = load_panel("leicestershire").schedule
    boxing = plan(
        leics.model_copy(update={"weekday": "friday", "week_of_month": -1}), date(2026, 12, 1), 1
    )
    assert boxing[0].scheduled_for == date(2026, 12, 25)
    assert boxing[0].meeting_date == date(2026, 12, 29)  # Christmas, Boxing Day (Mon 28) skipped


def test_minutes_due_counts_working_days() -> None:
    from panels.schedule import minutes_due

    assert minutes_due(date(2026, 12, 24), 3) == date(2026, 12, 31)
    assert minutes_due(date(2026, 4, 2), 3) == date(2026, 4, 9)  # Good Friday, Easter Monday


def test_the_sweep_runs_beside_meeting_deadlines(
    make_user: UserFactory, engine: Engine, settings: Settings
) -> None:
    """A meeting's own deadline (minutes due: no journey, no child) sits in ``deadline`` beside
    the journeys' ones; one sweep reminds the pack owner and the panel administrator (the
    minutes' ladder itself: tests/test_panel_notifications.py)."""
    cast = people(make_user)
    planner = ok(
        cast.admin.post(
            "/panel/meetings/generate", {"start": (today() - timedelta(days=60)).isoformat()}
        )
    )
    held = [m for m in planner if date.fromisoformat(str(m["meeting_date"])) < today()][-1]
    upcoming = _future_meetings(cast.admin)[0]
    ok(
        cast.admin.post(
            f"/panel/meetings/{held['id']}/attendance",
            {"entries": [{"member_key": "chair", "status": "present"}]},
        )
    )
    j = Journeys(cast.sw).sgo_awaiting_panel()
    ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": j["id"],
                "decision_type": "sgo_support_plan",
                "meeting_id": upcoming["id"],
            },
        ),
        201,
    )
    with engine.connect() as conn:
        minutes = conn.execute(select(D).where(D.c.kind == "panel_minutes")).one()
    assert minutes.child_id is None and minutes.meeting_id == held["id"]
    pack_due_on = date.fromisoformat(str(upcoming["pack_due_on"]))
    result = sweep(engine, policies_from_settings(settings), max(pack_due_on, minutes.due_on))
    kinds = {n.deadline_kind for n in result.notices}
    assert {"panel_pack", "panel_minutes"} <= kinds
    minutes_reminders = [
        n for n in result.notices if n.deadline_kind == "panel_minutes" and n.category == "reminder"
    ]
    assert {n.recipient_id for n in minutes_reminders} == {cast.admin.user_id}
