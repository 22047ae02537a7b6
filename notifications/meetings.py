"""A panel meeting as a notice names it (its date), learnt from whoever runs meetings.

Notifications sit below the panel: a minutes-due reminder says "Panel meeting of <date>",
yet this package must not import the panel's tables. The panel registers a lookup when it
is imported (``panels/__init__.py``); in a process without the panel there are no
meetings to name, and a meeting's deadline reads "(date not recorded)".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date

from sqlalchemy import Connection, Engine, and_, select

from notifications.render import panel_meeting
from services.db import read_connection
from services.models import DEADLINES as D
from states.deadline_kinds import PANEL_PACK, deadline_name

MeetingDates = Callable[[Connection, Collection[int]], Mapping[int, date]]
"""Given meeting ids, the date each is held on (ids it does not know are left out)."""

MeetingNames = Callable[[Connection, Collection[int]], Mapping[int, tuple[str, date]]]
"""Given meeting ids, each one's panel name and date (ids it does not know are left out)."""

_lookup: MeetingDates | None = None
_names: MeetingNames | None = None


def register(lookup: MeetingDates, names: MeetingNames | None = None) -> None:
    """Name the functions that tell a meeting's date, and its panel's name with the date
    (the panel calls this once)."""
    global _lookup, _names
    _lookup = lookup
    _names = names


def meeting_dates(conn: Connection, ids: Iterable[int | None]) -> dict[int, date]:
    """The dates of the meetings ``ids`` (None entries skipped), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted or _lookup is None:
        return {}
    return dict(_lookup(conn, wanted))


def meeting_words(panel_name: str, held_on: date) -> str:
    """A meeting in words: "Wirral Multi-Agency Permanency Panel meeting on 3 December 2026"
    (a panel whose name ends in "meeting" is not called a "meeting meeting")."""
    return f"{panel_meeting(panel_name)} on {held_on.day} {held_on:%B %Y}"


def meeting_names(conn: Connection, ids: Iterable[int | None]) -> dict[int, str]:
    """The meetings ``ids`` in words (:func:`meeting_words`), in one query; a panel pack's
    deadline is named by its meeting, never by its referral's number."""
    wanted = {i for i in ids if i is not None}
    if not wanted or _names is None:
        return {}
    return {i: meeting_words(name, held) for i, (name, held) in _names(conn, wanted).items()}


def pack_meetings(engine: Engine, deadline_ids: Iterable[int]) -> dict[int, str]:
    """For the panel packs among the deadlines ``deadline_ids``: each one's meeting in
    words, by deadline id (a page names a pack by its meeting through this)."""
    wanted = sorted(set(deadline_ids))
    if not wanted or _names is None:
        return {}
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(D.c.id, D.c.meeting_id).where(
                and_(D.c.id.in_(wanted), D.c.kind == PANEL_PACK.key, D.c.meeting_id.is_not(None))
            )
        ).all()
        names = meeting_names(conn, (r.meeting_id for r in rows))
    return {r.id: names[r.meeting_id] for r in rows if r.meeting_id in names}


def deadline_names(engine: Engine, deadlines: Iterable[tuple[int, str, str]]) -> dict[int, str]:
    """Each deadline ``(id, kind, ref)`` named as a reader needs it, by id: a panel pack by
    its meeting ("Panel pack (Torbay Permanency Panel meeting on 3 December 2026)"), another
    by which one it is where its ref says (:func:`states.deadline_kinds.which`). One read,
    for the packs only; the lists, the API and the director's page name deadlines through
    this."""
    rows = list(deadlines)
    packs = pack_meetings(engine, (i for i, kind, _ in rows if kind == PANEL_PACK.key))
    return {i: deadline_name(kind, ref, packs.get(i, "")) for i, kind, ref in rows}


def row_names(conn: Connection, rows: Iterable[tuple[str, str | None, int | None]]) -> list[str]:
    """:func:`deadline_names` for deadlines already read as ``(kind, ref, meeting_id)``
    (a list inside its own read: breaches, escalations, the digest), in their order."""
    wanted = list(rows)
    packs = meeting_names(conn, (m for kind, _, m in wanted if kind == PANEL_PACK.key))
    return [
        deadline_name(
            kind, ref or "", packs.get(meeting_id or 0, "") if kind == PANEL_PACK.key else ""
        )
        for kind, ref, meeting_id in wanted
    ]
