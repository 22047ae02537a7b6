"""Time for the service: UTC timestamps for records, London dates for rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from workflow.calendar import today_london


def now_utc() -> datetime:
    """The current instant, timezone-aware UTC (what ``recorded_at`` holds)."""
    return datetime.now(UTC)


def today() -> date:
    """Today in England: the date events are checked against."""
    return today_london()
