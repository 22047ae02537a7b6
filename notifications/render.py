"""Messages from the template files in ``notifications/templates/``.

A message names the case by its reference and links to it; it never carries a child's
name or date of birth (the context below has no such field to offer a template).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

import states
from states import deadline_kinds

TEMPLATES = Path(__file__).parent / "templates"

_TITLES = {d.type: d.title for d in states.DEFINITIONS}


@lru_cache(maxsize=32)
def template(name: str) -> Template:
    """A template file by name (read once)."""
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def journey_title(journey_type: str) -> str:
    """A journey type for people."""
    return _TITLES.get(journey_type, journey_type.replace("_", " ").capitalize())


def long_date(day: date) -> str:
    """``Tuesday 26 May 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def panel_meeting(panel_name: str) -> str:
    """The panel's meeting, its name once: "Torbay Permanency Panel meeting", but CYPF's
    "Permanence Planning and Tracking Meeting" as it is (never "Meeting meeting")."""
    name = panel_name.strip()
    if name.lower().endswith("meeting"):
        return name
    return f"{name} meeting"


def meeting_link(base_url: str, meeting_id: int | None) -> str:
    """Where a panel meeting is opened."""
    return f"{base_url.rstrip('/')}/panel/meetings/{meeting_id}"


def context(
    *,
    base_url: str,
    child_reference: str | None,
    journey_id: int | None,
    journey_type: str | None,
    deadline_kind: str,
    due_on: date,
    step_label: str,
    category: str,
    notice_id: int | None = None,
    meeting_id: int | None = None,
    meeting_date: date | None = None,
    meeting_name: str | None = None,
) -> dict[str, str]:
    """The variables every notice template may use.

    A panel pack's deadline is named by the meeting it is for (``meeting_name``, in words:
    :func:`notifications.meetings.meeting_names`), never by its referral's number.

    A deadline with no child (a panel meeting's minutes) is named by its meeting and links
    to it; its templates are the ``meeting_*`` ones (:func:`template_name`).
    """
    base = base_url.rstrip("/")
    values = {
        "child_reference": child_reference or "",
        "journey_id": str(journey_id or ""),
        "journey_title": journey_title(journey_type) if journey_type else "",
        "deadline_kind": deadline_kind,
        "deadline_label": deadline_kinds.named(
            deadline_kind,
            meeting_name if deadline_kind == deadline_kinds.PANEL_PACK.key and meeting_name else "",
        ),
        "due_on": due_on.isoformat(),
        "due_on_long": long_date(due_on),
        "step_label": step_label,
        "category": category,
        "category_title": category.capitalize(),
        "link": f"{base}/journeys/{journey_id}",
        "ack_link": f"{base}/api/v1/escalations/{notice_id}/acknowledge" if notice_id else "",
    }
    if deadline_kind == deadline_kinds.PANEL_ESCALATION.key:
        # The panel's escalation: answered on the director's page, its reason shown there.
        values.update(
            journey_title=values["journey_title"] or "no journey named",
            link=f"{base}/director/escalations/{notice_id}/acknowledge"
            if notice_id
            else f"{base}/director",
        )
        return values
    if child_reference is None:
        held = meeting_date.isoformat() if meeting_date else "(date not recorded)"
        values.update(
            meeting_id=str(meeting_id or ""),
            meeting_date=held,
            meeting_date_long=long_date(meeting_date) if meeting_date else held,
            deadline_words=deadline_kinds.meeting_words(deadline_kind),
            link=meeting_link(base, meeting_id),
        )
    return values


_RAISED_TEMPLATES = ("inbox.txt", "escalation_email.txt", "webhook.txt")


def template_name(name: str, values: dict[str, str]) -> str:
    """The template for a notice: ``meeting_<name>`` for a deadline with no child,
    ``raised_<name>`` for the panel's escalation (it is no missed due date)."""
    if values.get("deadline_kind") == deadline_kinds.PANEL_ESCALATION.key:
        return f"raised_{name}" if name in _RAISED_TEMPLATES else name
    return f"meeting_{name}" if "meeting_date" in values else name


def digest_item(item: dict[str, Any]) -> dict[str, Any]:
    """A queued digest item with its ``subject`` and ``due_on_long`` (items queued before
    meeting deadlines, or dates in words, carry only the child's reference, journey and ISO
    due date)."""
    if "due_on_long" not in item and item.get("due_on"):
        item = {**item, "due_on_long": long_date(date.fromisoformat(item["due_on"]))}
    if "subject" in item:
        return item
    return {**item, "subject": f"{item.get('child_reference')} | {item.get('journey_title')}"}


def render(name: str, values: dict[str, Any]) -> str:
    """Fill a template; unknown placeholders are left as written rather than failing."""
    return template(name).safe_substitute(values)


def split_email(text: str) -> tuple[str, str]:
    """A rendered email template's subject (its ``Subject:`` first line) and body."""
    first, _, body = text.partition("\n")
    subject = first.removeprefix("Subject:").strip()
    return subject, body.lstrip("\n")
