"""Every notice and email, for every preset, names the panel once, gives dates in words and
gets its plurals right (issue 14 item 6: CYPF's notices read "Permanence Planning and
Tracking Meeting meeting of 2026-09-16 (1 children discussed)")."""

from __future__ import annotations

import re
from datetime import date

import pytest

from notifications.render import TEMPLATES, context, long_date, panel_meeting, render, split_email
from panels.config import load_panel, preset_names
from panels.service.tracker import _children_discussed

HELD = date(2026, 9, 16)
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
BAD = ("meeting meeting", "panel panel", "1 children", "1 quotes", "1 days")


def _values(panel_name: str, children: int) -> dict[str, str]:
    """What the services hand the templates: a child's deadline, a meeting's, and the
    panel's own notices (minutes approved, representative, tracker, invitations)."""
    child = context(
        base_url="https://permanence.example",
        child_reference="C-0001",
        journey_id=7,
        journey_type="adoption",
        deadline_kind="permanence_plan",
        due_on=HELD,
        step_label="overdue",
        category="escalation",
        notice_id=3,
    )
    meeting = context(
        base_url="https://permanence.example",
        child_reference=None,
        journey_id=None,
        journey_type=None,
        deadline_kind="panel_minutes",
        due_on=HELD,
        step_label="due today",
        category="reminder",
        meeting_id=2,
        meeting_date=HELD,
    )
    return {
        **child,
        **meeting,
        "child_reference": "C-0001",
        "panel": panel_name,
        "panel_meeting": panel_meeting(panel_name),
        "meeting_date_long": long_date(HELD),
        "children_discussed": _children_discussed(children),
        "count": str(children),
        "seat": "Chair",
        "slot_time": "10:30",
        "part": "Tracking",
        "what": "Invitation",
        "subject": "Panel tracker circulated",
        "items": "- C-0001",
        "item_count": "1",
        "digest_on_long": long_date(HELD),
        "horizon": "5",
        "status": "overdue",
        "inbox_link": "https://permanence.example/inbox",
    }


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("children", [1, 3])
def test_every_notice_names_the_panel_once_with_dates_in_words(preset: str, children: int) -> None:
    name = load_panel(preset).panel.name
    values = _values(name, children)
    templates = sorted(p.name for p in TEMPLATES.glob("*.txt"))
    assert "notify_tracker_circulated.txt" in templates
    for template in templates:
        text = render(template, values)
        subject, body = split_email(text) if text.startswith("Subject:") else (text, "")
        for part in (subject, body):
            low = part.lower()
            for bad in BAD:
                assert bad not in low, (preset, template, part)
            assert not ISO.search(part), (preset, template, part)
            assert "${" not in part and "$panel" not in part, (preset, template, part)


def test_cypf_meeting_is_named_once_and_others_keep_their_meeting() -> None:
    cypf = load_panel("cypf").panel.name
    assert panel_meeting(cypf) == "Permanence Planning and Tracking Meeting"
    assert panel_meeting("Torbay Permanency Panel") == "Torbay Permanency Panel meeting"
    text = render(
        "notify_tracker_circulated.txt",
        {
            "panel_meeting": panel_meeting(cypf),
            "meeting_date_long": long_date(HELD),
            "children_discussed": _children_discussed(1),
        },
    )
    assert text.startswith(
        "Panel tracker circulated after the Permanence Planning and Tracking Meeting of "
        "Wednesday 16 September 2026 (1 child discussed)"
    )
