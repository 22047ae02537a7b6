"""A panel meeting as a notice names it (its date), learnt from whoever runs meetings.

Notifications sit below the panel: a minutes-due reminder says "Panel meeting of <date>",
yet this package must not import the panel's tables. The panel registers a lookup when it
is imported (``panels/__init__.py``); in a process without the panel there are no
meetings to name, and a meeting's deadline reads "(date not recorded)".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date

from sqlalchemy import Connection

MeetingDates = Callable[[Connection, Collection[int]], Mapping[int, date]]
"""Given meeting ids, the date each is held on (ids it does not know are left out)."""

_lookup: MeetingDates | None = None


def register(lookup: MeetingDates) -> None:
    """Name the function that tells a meeting's date (the panel calls this once)."""
    global _lookup
    _lookup = lookup


def meeting_dates(conn: Connection, ids: Iterable[int | None]) -> dict[int, date]:
    """The dates of the meetings ``ids`` (None entries skipped), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted or _lookup is None:
        return {}
    return dict(_lookup(conn, wanted))
