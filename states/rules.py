"""Small guard and date-rule builders shared by journey definitions."""

from __future__ import annotations

from datetime import date

from workflow.calendar import add_months
from workflow.definition import Context, DateRule, Guard


def months_after(name: str, months: int) -> DateRule:
    """Due ``months`` calendar months after the recorded date ``name``."""

    def rule(ctx: Context) -> date | None:
        start = ctx.date_of(name)
        return None if start is None else add_months(start, months)

    return rule


def not_before_recorded(name: str, what: str) -> Guard:
    """The event may not be dated before the recorded date ``name``."""

    def guard(ctx: Context) -> str | None:
        earlier = ctx.journey_data.get(name)
        if earlier and ctx.occurred_on < date.fromisoformat(earlier):
            return f"The date {ctx.occurred_on.isoformat()} is before the {what} ({earlier})."
        return None

    return guard
