"""A panel pack's deadline is named by the meeting it is for, not by its referral's number
(issue 11 item 2): in the inbox page, on the API (grouped or not), the child page, My work."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from notifications.meetings import meeting_words
from notifications.policy import policies_from_settings
from notifications.sweep import sweep
from services.clock import today
from services.config import Settings
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, ok, people
from tests.web_support import WebUser

TORBAY = "Torbay Permanency Panel"


@pytest.fixture(autouse=True)
def _torbay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "torbay")


def test_meeting_words_say_the_panel_and_the_date_once() -> None:
    held = date(2026, 12, 3)
    assert meeting_words(TORBAY, held) == "Torbay Permanency Panel meeting on 3 December 2026"
    assert meeting_words("Permanence Planning and Tracking Meeting", held) == (
        "Permanence Planning and Tracking Meeting on 3 December 2026"
    )


def test_a_pack_reminder_names_the_meeting(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    web_as: Callable[[Api], WebUser],
) -> None:
    cast = people(make_user)
    planner = ok(cast.admin.post("/panel/meetings/generate", {}))
    meeting = next(
        m for m in planner if date.fromisoformat(m["pack_due_on"]) > today() + timedelta(days=3)
    )
    j = Journeys(cast.sw).sgo_awaiting_panel()
    referral = ok(
        cast.sw.post(
            "/panel/referrals",
            {
                "journey_id": j["id"],
                "decision_type": "sgo_support_plan",
                "meeting_id": meeting["id"],
            },
        ),
        201,
    )
    due = date.fromisoformat(referral["pack_due_on"])
    sweep(engine, policies_from_settings(settings), due)
    held = date.fromisoformat(meeting["meeting_date"])
    words = f"Panel pack ({meeting_words(TORBAY, held)})"
    assert re.fullmatch(
        r"Torbay Permanency Panel meeting on \d{1,2} [A-Z][a-z]+ \d{4}", words[12:-1]
    )

    notices = [n for n in ok(cast.sw.get("/notifications")) if n["deadline_kind"] == "panel_pack"]
    assert notices, "the due-day reminder of the pack"
    for n in notices:
        assert n["message"].startswith(f"{words} for "), n["message"]
        assert f"referral {referral['id']}" not in n["message"].lower()
    grouped = ok(cast.sw.get("/notifications", params={"group": "deadline"}))
    assert any(line["message"].startswith(words) for line in grouped)

    page = web_as(cast.sw).get("/notifications")
    assert words in page.text
    # The child page's deadlines name it so too.
    child = web_as(cast.sw).get(f"/children/{j['child_id']}")
    assert child.status_code == 200 and words in child.text
    # My work names the child's next deadline so (the pack is the child's soonest).
    mine = web_as(cast.sw).get("/my-work")
    assert mine.status_code == 200 and words in mine.text.split('id="my-notifications"')[0]
