"""The inbox groups a deadline's notices: one line with its latest step (issue 11 item 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, func, select

from notifications.models import NOTICES as N
from notifications.policy import Policies
from tests.conftest import Api
from tests.reminder_support import BANK_HOLIDAY_DUE, first_review_child, run_days
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]


def _lines(text: str) -> list[str]:
    return text.split('id="notices"', 1)[1].split("</ul>", 1)[0].split('class="app-notice')[1:]


def test_a_deadlines_notices_are_one_line_with_the_latest_step(
    sw: Api, web_as: WebAs, engine: Engine, policies: Policies
) -> None:
    first_review_child(sw)
    # Swept day by day from a week before the due date to two days after it: the reminders
    # "due in 5 working days", "1 working day", "due today" and then "overdue".
    run_days(engine, policies, date(2026, 5, 18), date(2026, 5, 28))
    with engine.connect() as conn:
        sent = conn.execute(
            select(N.c.id, N.c.step, N.c.fire_on)
            .where(N.c.recipient_id == sw.user_id)
            .order_by(N.c.fire_on, N.c.id)
        ).all()
    assert len(sent) >= 3
    latest = sent[-1]
    page = web_as(sw)
    listed = page.get("/notifications")
    lines = _lines(listed.text)
    assert len(lines) == 1
    assert f'id="notice-{latest.id}"' in lines[0]
    assert f"{len(sent) - 1} earlier notices about this deadline" in lines[0]
    assert "Unread" in lines[0]
    # My work lists the deadline once too.
    mine = page.get("/my-work").text.split('id="my-notifications"')[1]
    assert mine.count("C-0001") == 1
    # Marking the line read marks every notice of the deadline read.
    done = page.post(f"/notifications/{latest.id}/read", {"page": "1"})
    assert done.status_code == 303
    with engine.connect() as conn:
        unread = conn.execute(
            select(func.count())
            .select_from(N)
            .where(N.c.recipient_id == sw.user_id, N.c.read_at.is_(None))
        ).scalar_one()
    assert unread == 0
    assert "Unread" not in _lines(page.get("/notifications").text)[0]
    assert latest.fire_on > BANK_HOLIDAY_DUE  # the overdue notice, after the due date


def test_two_deadlines_are_two_lines_newest_first(
    sw: Api, web_as: WebAs, engine: Engine, policies: Policies
) -> None:
    first_review_child(sw, "C-0001")
    first_review_child(sw, "C-0002", start="2026-05-01")
    run_days(engine, policies, date(2026, 5, 18), date(2026, 6, 5))
    lines = _lines(web_as(sw).get("/notifications").text)
    assert len(lines) == 2
    assert "C-0002" in lines[0] and "C-0001" in lines[1]
