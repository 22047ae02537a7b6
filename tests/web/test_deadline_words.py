"""Every deadline is named in words (issue 11 item 2): every kind of every journey and of the
panel through the label function, no bare number beside it, and every notice template
dating in words."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import states
from app.web.child_view import deadline_words
from notifications.render import TEMPLATES, context, long_date, render
from states import deadline_kinds
from workflow.definition import OpenDeadline

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
DIRECTIONS = {"directions": [{"ref": "1", "direction": "Parenting assessment"}]}


def _kinds_opened_by_the_definitions() -> set[str]:
    return {
        rule.kind
        for definition in states.DEFINITIONS
        for event in (definition.start, *definition.events)
        for rule in event.deadlines
        if isinstance(rule, OpenDeadline)
    }


def test_every_deadline_kind_has_a_label_in_words() -> None:
    registered = {k.key for k in deadline_kinds.KINDS}
    assert _kinds_opened_by_the_definitions() <= registered
    for key in registered:
        label = deadline_kinds.label(key)
        assert "_" not in label and label != key and label[0].isupper(), key
        for ref in ("", "1", "27"):
            shown = deadline_words(key, ref, DIRECTIONS)
            assert "_" not in shown and not re.search(r"\(\d+\)", shown), (key, shown)


def test_a_court_direction_is_named_by_the_direction() -> None:
    shown = deadline_words("court_direction", "1", DIRECTIONS)
    assert shown == "Court direction (Parenting assessment)"


def test_every_notice_template_dates_in_words() -> None:
    day = date(2026, 12, 1)

    def values(**who: Any) -> dict[str, str]:
        return context(
            base_url="http://x",
            deadline_kind="first_review",
            due_on=day,
            step_label="due today",
            category="reminder",
            **who,
        )

    child = values(child_reference="C-1", journey_id=1, journey_type="sgo")
    meeting = values(
        child_reference=None, journey_id=None, journey_type=None, meeting_id=1, meeting_date=day
    )
    extra = {"panel": "Panel", "count": "2", "meeting_date_long": long_date(day)}
    for path in sorted(Path(TEMPLATES).glob("*.txt")):
        for filled in (child, meeting):
            text = render(path.name, {**filled, **extra})
            assert not ISO.search(text), (path.name, text)
