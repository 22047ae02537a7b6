"""Helpers for the reminder, escalation and notification tests: dates, the ladder's people,
a child whose first review falls after a bank holiday, and day-by-day sweeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, update

from notifications.channels import SmtpConfig
from notifications.dispatcher import DispatchConfig
from notifications.policy import Policies
from notifications.scheduler import ReminderJobs
from notifications.sweep import Channels, sweep
from services.clock import today
from services.models import USERS as U
from tests.conftest import Api

# Looked after from Fri 24 April 2026: the first review (20 working days) is due Tuesday
# 26 May 2026, the day after the spring bank holiday (Monday 25 May).
BANK_HOLIDAY_START = "2026-04-24"
BANK_HOLIDAY_DUE = date(2026, 5, 26)


def days(start: date, end: date) -> Iterator[date]:
    """Every calendar day from start to end inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def d(text_: str) -> date:
    """Shorthand for an ISO date."""
    return date.fromisoformat(text_)


def set_email(engine: Engine, user_id: int, email: str) -> None:
    """Give a user an email address."""
    with engine.begin() as conn:
        conn.execute(update(U).where(U.c.id == user_id).values(email=email))


def run_days(
    engine: Engine, policies: Policies, start: date, end: date, **kw: Any
) -> dict[date, list[tuple[str, str, str]]]:
    """Sweep each day; the non-empty days' notices as (deadline kind, step, recipient)."""
    out: dict[date, list[tuple[str, str, str]]] = {}
    for day in days(start, end):
        result = sweep(engine, policies, day, **kw)
        if result.notices:
            out[day] = sorted((n.deadline_kind, n.step, n.recipient) for n in result.notices)
    return out


def first_review_child(sw: Api, reference: str = "C-0001", start: str = BANK_HOLIDAY_START) -> Any:
    """A child in team north whose permanence planning started on ``start``."""
    child = sw.create_child(reference, looked_after_since=start)
    return sw.start(child["id"], "permanence_planning")


def dispatch_config(port: int, **kw: Any) -> DispatchConfig:
    """Delivery to the loopback SMTP server on ``port``, links under a test base URL."""
    return DispatchConfig(
        base_url="https://permanence.example.test",
        smtp=SmtpConfig(host="127.0.0.1", port=port, timeout=5),
        **kw,
    )


def reminder_jobs(engine: Engine, policies: Policies) -> ReminderJobs:
    """The scheduler's jobs as a test runs them by hand: no channel, today's date."""
    return ReminderJobs(
        engine=engine,
        policies=policies,
        channels=Channels(),
        dispatch_config=DispatchConfig(base_url="http://127.0.0.1:8000"),
        today=today,
    )
