"""What a child in care's dates may plausibly be: one rule for the API, the pages and imports.

Each function gives the problem in words ("must be today or in the past"), to follow the
field's name or label, or None when the value is plausible.
"""

from __future__ import annotations

from datetime import date

# Care leavers are supported up to their 25th birthday (Children and Social Work Act 2017,
# s.3), so nobody on a permanence caseload was born longer ago than that.
OLDEST_YEARS = 25


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def birth_date_problem(born: date, today: date) -> str | None:
    """Why ``born`` cannot be a child in care's date of birth, or None."""
    if born > today:
        return "must be today or in the past"
    if born < _years_before(today, OLDEST_YEARS):
        return f"must be within the last {OLDEST_YEARS} years for a child in care"
    return None


def looked_after_problem(since: date, born: date | None, today: date) -> str | None:
    """Why ``since`` cannot be the date the child became looked after, or None."""
    if since > today:
        return "must be today or in the past"
    if born is not None and since < born:
        return "must be the same as or after the date of birth"
    return None
