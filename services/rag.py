"""The red / amber / green status of a deadline, as every page shows it."""

from __future__ import annotations

from datetime import date

from workflow.calendar import add_working_days

# The window in which the default reminder policy starts reminding a deadline's owner.
DUE_SOON_WORKING_DAYS = 5


def due_soon_limit(today: date) -> date:
    """The last day that still counts as "due soon" (amber) as of ``today``."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS)


def rag_status(due_on: date | None, today: date) -> str:
    """The red / amber / green status of a deadline due on ``due_on``, as of ``today``.

    - red: overdue (due before today);
    - amber: due today or within the next 5 working days (England's working days, so a
      deadline after a bank-holiday weekend is still "due soon" on the Friday before);
    - green: due later than that;
    - grey: nothing open (``due_on`` is None).

    This is the one place the rule is written; the pages and the totals all use it.
    """
    if due_on is None:
        return "grey"
    if due_on < today:
        return "red"
    if due_on <= due_soon_limit(today):
        return "amber"
    return "green"
