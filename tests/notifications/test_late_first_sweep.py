"""Issue 13 item 9: a deadline first swept after some reminder steps passed gets only the
steps still ahead (plus overdue and escalations); on-the-day notices go on working days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from notifications.policy import Policies, Step
from tests.conftest import Staff
from tests.reminder_support import d, first_review_child, run_days


def test_back_dated_deadline_first_swept_late_gets_only_the_steps_ahead(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    # Recorded back-dated: due Tue 26 May 2026; the first sweep is Wed 20 May, after
    # before_5 (Mon 18 May) passed. That step is never sent; the rest are, on their days.
    first_review_child(staff.sw)
    sent = run_days(engine, policies, d("2026-05-20"), d("2026-06-30"))
    k = "first_review"
    assert sent == {
        d("2026-05-22"): [(k, "before_1", "sw.north")],
        d("2026-05-26"): [(k, "due", "sw.north")],
        d("2026-05-27"): [
            (k, "escalate_team_manager", "tm.north"),
            (k, "overdue", "sw.north"),
        ],
        d("2026-05-29"): [(k, "escalate_service_manager", "sm")],
        d("2026-06-02"): [(k, "escalate_service_director", "sd")],
    }


def test_first_swept_months_late_gets_no_reminders_only_overdue_and_escalations(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)
    sent = run_days(engine, policies, d("2026-08-03"), d("2026-08-03"))
    steps = sorted(step for _, step, _ in sent[d("2026-08-03")])
    assert steps == [
        "escalate_service_director",
        "escalate_service_manager",
        "escalate_team_manager",
        "overdue",
    ]


def test_on_the_day_notice_of_a_non_working_due_date_goes_the_working_day_before() -> None:
    due = Step("due", 0, "reminder", "owner")
    assert due.fire_on(date(2026, 5, 30)) == date(2026, 5, 29)  # Saturday -> Friday
    assert due.fire_on(date(2026, 5, 25)) == date(2026, 5, 22)  # bank holiday -> Friday
    assert due.fire_on(date(2026, 5, 26)) == date(2026, 5, 26)  # a working day: itself
