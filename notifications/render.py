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

TEMPLATES = Path(__file__).parent / "templates"

_DEADLINE_LABELS = {
    "first_review": "First looked-after review",
    "second_review": "Second looked-after review",
    "review": "Looked-after review",
    "permanence_plan": "Permanence plan (by the second review)",
    "proceedings_26_weeks": "Care proceedings 26-week timetable",
    "final_hearing": "Final hearing",
    "court_direction": "Court direction",
    "a1_moved_in": "A1: child moved in with adoptive family",
    "a2_match_decision": "A2: matching decision",
    "pwp_review": "Placed-with-parents review",
    "pwp_drift_scrutiny": "Placed with parents 12 months: drift scrutiny",
    "sgo_court_filing": "SGO support plan filed with court",
}
_TITLES = {d.type: d.title for d in states.DEFINITIONS}


@lru_cache(maxsize=32)
def template(name: str) -> Template:
    """A template file by name (read once)."""
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def deadline_label(kind: str) -> str:
    """A deadline kind for people."""
    return _DEADLINE_LABELS.get(kind, kind.replace("_", " ").capitalize())


def journey_title(journey_type: str) -> str:
    """A journey type for people."""
    return _TITLES.get(journey_type, journey_type.replace("_", " ").capitalize())


def long_date(day: date) -> str:
    """``Tuesday 26 May 2026``."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def context(
    *,
    base_url: str,
    child_reference: str,
    journey_id: int,
    journey_type: str,
    deadline_kind: str,
    due_on: date,
    step_label: str,
    category: str,
    notice_id: int | None = None,
) -> dict[str, str]:
    """The variables every notice template may use."""
    base = base_url.rstrip("/")
    return {
        "child_reference": child_reference,
        "journey_id": str(journey_id),
        "journey_title": journey_title(journey_type),
        "deadline_kind": deadline_kind,
        "deadline_label": deadline_label(deadline_kind),
        "due_on": due_on.isoformat(),
        "due_on_long": long_date(due_on),
        "step_label": step_label,
        "category": category,
        "category_title": category.capitalize(),
        "link": f"{base}/journeys/{journey_id}",
        "ack_link": f"{base}/api/v1/escalations/{notice_id}/acknowledge" if notice_id else "",
    }


def render(name: str, values: dict[str, Any]) -> str:
    """Fill a template; unknown placeholders are left as written rather than failing."""
    return template(name).safe_substitute(values)


def split_email(text: str) -> tuple[str, str]:
    """A rendered email template's subject (its ``Subject:`` first line) and body."""
    first, _, body = text.partition("\n")
    subject = first.removeprefix("Subject:").strip()
    return subject, body.lstrip("\n")
