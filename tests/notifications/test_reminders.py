"""Reminders across a journey's life: exactly which notices go to whom on which day.

The sweep is driven day by day with ``as_of`` (what ``permanence remind --as-of`` does), so
tests move through time without waiting. Events themselves are back-dated (never future).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app import cli
from notifications.models import NOTICES as N
from notifications.policy import Policies, policies_from_settings
from notifications.scheduler import ReminderJobs, build_scheduler
from notifications.sweep import Channels, SweepResult, sweep
from services.config import Settings, get_settings
from tests.conftest import Staff
from tests.reminder_support import (
    BANK_HOLIDAY_DUE,
    d,
    first_review_child,
    run_days,
)
from workflow.calendar import LONDON


def notice_counts(engine: Engine) -> dict[tuple[int, str, str, int], int]:
    """How many notices exist per (deadline, step, due_on, recipient)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(N.c.deadline_id, N.c.step, N.c.due_on, N.c.recipient_id, func.count()).group_by(
                N.c.deadline_id, N.c.step, N.c.due_on, N.c.recipient_id
            )
        ).all()
    return {(r[0], r[1], str(r[2]), r[3]): r[4] for r in rows}


def ladder(due: str) -> dict[date, list[tuple[str, str, str]]]:
    """The statutory first-review ladder for the bank-holiday deadline, as expected."""
    assert due == BANK_HOLIDAY_DUE.isoformat()
    k = "first_review"
    return {
        d("2026-05-18"): [(k, "before_5", "sw.north")],
        d("2026-05-22"): [(k, "before_1", "sw.north")],  # Friday: Monday is a bank holiday
        d("2026-05-26"): [(k, "due", "sw.north")],
        d("2026-05-27"): [
            (k, "escalate_team_manager", "tm.north"),
            (k, "overdue", "sw.north"),
        ],
        d("2026-05-29"): [(k, "escalate_service_manager", "sm")],
        d("2026-06-02"): [(k, "escalate_service_director", "sd")],
    }


def test_deadline_after_a_bank_holiday_weekend(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    journey = first_review_child(staff.sw)
    assert [(x["kind"], x["due_on"]) for x in journey["deadlines"]] == [
        ("first_review", "2026-05-26")
    ]
    sent = run_days(engine, policies, d("2026-05-01"), d("2026-06-30"))
    assert sent == ladder("2026-05-26")
    # Nothing is sent twice, however often the same days are swept again.
    assert run_days(engine, policies, d("2026-05-01"), d("2026-06-30")) == {}
    assert set(notice_counts(engine).values()) == {1}


def test_met_the_day_before_its_reminder_sends_no_reminder(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    journey = first_review_child(staff.sw)
    before = run_days(engine, policies, d("2026-05-01"), d("2026-05-20"))
    assert before == {d("2026-05-18"): [("first_review", "before_5", "sw.north")]}
    # The review is held on Thursday 21 May, the day before the 1-day reminder was due.
    staff.sw.fire(journey, "hold_review", "2026-05-21")
    after = run_days(engine, policies, d("2026-05-21"), d("2026-07-31"))
    assert after == {}, "a met deadline's reminders and escalations stop"


def test_review_held_early_old_reminders_do_not_fire(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    journey = first_review_child(staff.sw)
    # Held on 12 May, before any reminder: the first review is met, the second opens
    # three months after the early review, and its reminders follow the new date.
    journey = staff.sw.fire(journey, "hold_review", "2026-05-12")
    due = {x["kind"]: d(x["due_on"]) for x in journey["deadlines"] if x["status"] == "open"}
    assert due["second_review"] == d("2026-08-12")
    sent = run_days(engine, policies, d("2026-05-01"), d("2026-08-12"))
    kinds = {k for notices in sent.values() for k, _, _ in notices}
    assert "first_review" not in kinds
    second = {day: [n for n in ns if n[0] == "second_review"] for day, ns in sent.items()}
    assert {day: ns for day, ns in second.items() if ns} == {
        d("2026-08-05"): [("second_review", "before_5", "sw.north")],
        d("2026-08-11"): [("second_review", "before_1", "sw.north")],
        d("2026-08-12"): [("second_review", "due", "sw.north")],
    }


def test_moved_deadline_rearms_on_the_new_date_only(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    child = staff.sw.create_child("C-0002", looked_after_since="2026-03-02")
    journey = staff.sw.start(child["id"], "care_proceedings", "2026-03-02")
    # 26 weeks from issue: Monday 31 August 2026, the summer bank holiday.
    assert [(x["kind"], x["due_on"]) for x in journey["deadlines"]] == [
        ("proceedings_26_weeks", "2026-08-31")
    ]
    early = run_days(engine, policies, d("2026-08-01"), d("2026-08-24"))
    assert early == {d("2026-08-24"): [("proceedings_26_weeks", "before_5", "sw.north")]}
    # The court extends the timetable by 4 weeks on 25 August: the deadline moves.
    staff.sw.fire(
        journey, "extend_timetable", "2026-08-25", {"weeks": 4, "reason": "expert report late"}
    )
    k = "proceedings_26_weeks"
    later = run_days(engine, policies, d("2026-08-25"), d("2026-10-31"))
    assert later == {
        d("2026-09-21"): [(k, "before_5", "sw.north")],
        d("2026-09-25"): [(k, "before_1", "sw.north")],
        d("2026-09-28"): [(k, "due", "sw.north")],
        d("2026-09-29"): [(k, "escalate_team_manager", "tm.north"), (k, "overdue", "sw.north")],
        d("2026-10-01"): [(k, "escalate_service_manager", "sm")],
        d("2026-10-05"): [(k, "escalate_service_director", "sd")],
    }
    # The history says why the deadline moved.
    history = staff.sw.get(f"/journeys/{journey['id']}/history").json()
    moves = [c for e in history for c in e["data"].get("deadlines", []) if c["action"] == "move"]
    assert moves == [
        {"action": "move", "kind": k, "due_on": "2026-09-28", "previous_due_on": "2026-08-31"}
    ]


def test_scheduler_down_three_days_then_restarted_sends_each_missed_notice_once(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)
    run_days(engine, policies, d("2026-05-01"), d("2026-05-25"))
    # Down on 26, 27 and 28 May; a real APScheduler restarts on 29 May and catches up.
    jobs = ReminderJobs(
        engine=engine,
        policies=policies,
        channels=Channels(),
        dispatch_config=_no_delivery(),
        today=lambda: d("2026-05-29"),
    )
    scheduler = build_scheduler(jobs, sweep_minutes=60, dispatch_seconds=3600)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not jobs.sweeps and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.shutdown(wait=True)
    assert len(jobs.sweeps) == 1
    caught_up = sorted((n.fire_on, n.step, n.recipient) for n in jobs.sweeps[0].notices)
    assert caught_up == [
        (d("2026-05-26"), "due", "sw.north"),
        (d("2026-05-27"), "escalate_team_manager", "tm.north"),
        (d("2026-05-27"), "overdue", "sw.north"),
        (d("2026-05-29"), "escalate_service_manager", "sm"),
    ]
    # Another sweep the same day, or the next days, repeats none of them.
    jobs.run_sweep()
    assert jobs.sweeps[-1].notices == []
    assert run_days(engine, policies, d("2026-05-29"), d("2026-06-05")) == {
        d("2026-06-02"): [("first_review", "escalate_service_director", "sd")]
    }
    assert set(notice_counts(engine).values()) == {1}


def _no_delivery() -> Any:
    from notifications.dispatcher import DispatchConfig

    return DispatchConfig(base_url="http://127.0.0.1:8000")


def test_concurrent_sweeps_create_no_duplicates(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    for i in range(4):
        first_review_child(staff.sw, f"C-10{i}")
    results: list[SweepResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(sweep(engine, policies, d("2026-06-10")))
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    counts = notice_counts(engine)
    # A first sweep after the due date: overdue + three escalations per deadline (the
    # reminders before and on the day are behind it, issue 13 item 9), one recipient each.
    assert len(counts) == 4 * 4
    assert set(counts.values()) == {1}
    # Each notice was recorded by exactly one of the sweeps.
    assert sum(len(r.notices) for r in results) == 4 * 4


def test_postgres_second_scheduler_skips_while_one_sweeps(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite serialises writers itself")
    first_review_child(staff.sw)
    holder = engine.connect()
    try:
        holder.execute(text("SELECT pg_advisory_lock(726100003, hashtext(current_schema()))"))
        skipped = sweep(engine, policies, d("2026-06-10"), wait=False)
        assert skipped.locked_out and skipped.notices == []
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(726100003, hashtext(current_schema()))"))
        holder.close()
    # First swept after the due date: the overdue notice and the escalations only (issue 13 item 9).
    assert len(sweep(engine, policies, d("2026-06-10"), wait=False).notices) == 4


def test_sweep_across_the_end_of_british_summer_time(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    # Clocks go back at 02:00 BST on Sunday 25 October 2026; the first review of a child
    # looked after from 28 September is due on Monday 26 October.
    journey = first_review_child(staff.sw, start="2026-09-28")
    assert journey["deadlines"][0]["due_on"] == "2026-10-26"
    k = "first_review"
    assert run_days(engine, policies, d("2026-10-10"), d("2026-11-10")) == {
        d("2026-10-19"): [(k, "before_5", "sw.north")],
        d("2026-10-23"): [(k, "before_1", "sw.north")],
        d("2026-10-26"): [(k, "due", "sw.north")],
        d("2026-10-27"): [(k, "escalate_team_manager", "tm.north"), (k, "overdue", "sw.north")],
        d("2026-10-29"): [(k, "escalate_service_manager", "sm")],
        d("2026-11-02"): [(k, "escalate_service_director", "sd")],
    }
    # The sweep's day is the London date: around the change every date comes once, in order,
    # and 25 October lasts 25 hours (nothing skipped, nothing repeated).
    instants = [
        datetime(2026, 10, 24, 20, tzinfo=UTC) + timedelta(minutes=30 * i) for i in range(80)
    ]
    london = [i.astimezone(LONDON).date() for i in instants]
    assert sorted(set(london)) == [d("2026-10-24"), d("2026-10-25"), d("2026-10-26")]
    assert london == sorted(london)
    assert london.count(d("2026-10-25")) == 50  # 25 hours of half-hours


def test_remind_command_as_of_dry_run_and_json(
    engine: Engine,
    staff: Staff,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_review_child(staff.sw)
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", database_url)
    monkeypatch.setenv("PERMANENCE_LOG_FORMAT", "json")
    get_settings.cache_clear()
    try:
        assert cli.main(["remind", "--as-of", "2026-05-27", "--dry-run", "--json"]) == 0
        dry = json.loads(capsys.readouterr().out)
        assert dry["dry_run"] is True and dry["count"] == 2
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(N)).scalar() == 0
        assert cli.main(["remind", "--as-of", "2026-05-27", "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
        assert [(n["fire_on"], n["step"], n["recipient"]) for n in done["notices"]] == [
            # First swept after the due date: only overdue and the escalation.
            ("2026-05-27", "escalate_team_manager", "tm.north"),
            ("2026-05-27", "overdue", "sw.north"),
        ]
        assert all(n["child_reference"] == "C-0001" for n in done["notices"])
        assert cli.main(["remind", "--as-of", "2026-05-27"]) == 0
        assert "sent 0 notice(s)" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_policy_per_kind_is_configuration(engine: Engine, staff: Staff, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        reminder_overrides={"first_review": {"before": [2], "escalate": [1]}},
    )
    first_review_child(staff.sw)
    sent = run_days(engine, policies_from_settings(settings), d("2026-05-01"), d("2026-06-30"))
    steps = defaultdict(list)
    for day, ns in sent.items():
        for _, step, who in ns:
            steps[day].append((step, who))
    assert dict(steps) == {
        d("2026-05-21"): [("before_2", "sw.north")],
        d("2026-05-26"): [("due", "sw.north")],
        d("2026-05-27"): [("escalate_team_manager", "tm.north"), ("overdue", "sw.north")],
    }
