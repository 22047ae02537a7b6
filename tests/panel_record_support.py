"""Helpers for the child's record tests (issue 14 item 3): a held meeting with decided
items, and its minutes drafted and approved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.panel_support import People, held_meeting_with_referrals, iso, ok

REASONS = "The carers meet every need in the matching report; contact plan agreed."
ACTION = "Send the matching report to the IRO"


def decided_meeting(cast: People) -> tuple[dict[str, Any], list[dict[str, Any]], date]:
    """A held meeting (Leicestershire) with two long-term fostering children on its agenda;
    the first is recommended with reasons, an action and a review in 6 weeks, the second is
    not decided. Returns the meeting, the two items (decided first) and the action's due
    date."""
    ready = held_meeting_with_referrals(cast, 2)
    meeting = ready.meeting
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    items = [i for p in agenda["parts"] for i in p["items"]]
    assert len(items) == 2
    held = date.fromisoformat(meeting["meeting_date"])
    due = held + timedelta(days=14)
    ok(
        cast.chair.post(
            f"/panel/items/{items[0]['id']}/decision",
            {
                "outcome": "recommend",
                "meets_needs": "will",
                "notes": REASONS,
                "review_weeks": 6,
                "actions": [{"description": ACTION, "due_on": iso(due)}],
            },
        ),
        201,
    )
    return meeting, items, due


def approve(cast: People, meeting_id: int) -> dict[str, Any]:
    """The administrator drafts and approves the meeting's minutes; the approval's body."""
    ok(cast.admin.post(f"/panel/meetings/{meeting_id}/minutes"))
    approved: dict[str, Any] = ok(
        cast.admin.post(f"/panel/meetings/{meeting_id}/minutes/approve", {})
    )
    return approved
