"""The permanence panel: configuration per local authority, meetings, referrals and packs,
agendas within capacity, decisions and actions, minutes, the tracker and reports.

Each local authority's panel is one TOML file (``panels/presets/*.toml`` ship one per Terms
of Reference in the seeds); the setting ``PERMANENCE_PANEL`` names the one a service runs.

Importing the package tells the notifications below it how to name a meeting
(:mod:`notifications.meetings`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import Connection, select

from notifications import meetings as _meetings
from panels.models import MEETINGS


def _meeting_dates(conn: Connection, ids: Collection[int]) -> dict[int, date]:
    rows = conn.execute(
        select(MEETINGS.c.id, MEETINGS.c.meeting_date).where(MEETINGS.c.id.in_(sorted(ids)))
    )
    return {r.id: r.meeting_date for r in rows}


# The name of each panel this process has run (a panel from a file whose key is no preset's).
RUNNING_NAMES: dict[str, str] = {}


def panel_name(key: str) -> str:
    """The name of the panel whose key is ``key``: the one running, else the preset's."""
    if key in RUNNING_NAMES:
        return RUNNING_NAMES[key]
    from panels.config import PanelConfigError, load_panel

    try:
        return load_panel(key).panel.name
    except PanelConfigError:
        return "Panel"


def _meeting_names(conn: Connection, ids: Collection[int]) -> dict[int, tuple[str, date]]:
    rows = conn.execute(
        select(MEETINGS.c.id, MEETINGS.c.panel, MEETINGS.c.meeting_date).where(
            MEETINGS.c.id.in_(sorted(ids))
        )
    )
    return {r.id: (panel_name(r.panel), r.meeting_date) for r in rows}


_meetings.register(_meeting_dates, _meeting_names)
