"""A panel pack's deadline is named by the meeting it is for, not by its referral's number
(issue 11 item 2): in the inbox page, on the API (grouped or not), the child page, My work."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifications.digest import queue_digests
from notifications.meetings import meeting_words
from notifications.models import OUTBOX
from notifications.policy import policies_from_settings
from notifications.sweep import sweep
from services.clock import today
from services.config import Settings
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, People, ok, people
from tests.reminder_support import set_email
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


def _pack_referral(cast: People) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A child referred to a meeting more than three days off: the referral, its journey and
    the words its pack is named by."""
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
    held = date.fromisoformat(meeting["meeting_date"])
    words = f"Panel pack ({meeting_words(TORBAY, held)})"
    assert re.fullmatch(
        r"Torbay Permanency Panel meeting on \d{1,2} [A-Z][a-z]+ \d{4}", words[12:-1]
    )
    return referral, j, words


def test_a_pack_reminder_names_the_meeting(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    web_as: Callable[[Api], WebUser],
) -> None:
    cast = people(make_user)
    referral, j, words = _pack_referral(cast)
    due = date.fromisoformat(referral["pack_due_on"])
    sweep(engine, policies_from_settings(settings), due)

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


def test_every_deadline_list_names_the_pack_by_its_meeting(
    make_user: UserFactory,
    engine: Engine,
    settings: Settings,
    web_as: Callable[[Api], WebUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deadlines API, the digest, and once the pack is missed and escalated: the
    escalations API, the director's table and acknowledgement page, the breaches API and
    register."""
    cast = people(make_user)
    referral, _, words = _pack_referral(cast)
    due = date.fromisoformat(referral["pack_due_on"])

    listed = [d for d in ok(cast.sw.get("/deadlines")) if d["kind"] == "panel_pack"]
    assert [d["deadline_label"] for d in listed] == [words]

    set_email(engine, cast.sw.user_id, "sw.north@example.test")
    queue_digests(engine, due - timedelta(days=1), base_url="https://x.test")
    with engine.connect() as conn:
        payloads = [
            r.payload
            for r in conn.execute(
                select(OUTBOX.c.payload).where(OUTBOX.c.recipient_id == cast.sw.user_id)
            )
        ]
    items = [i for p in payloads for i in p["items"] if i["deadline_label"].startswith("Panel")]
    assert [i["deadline_label"] for i in items] == [words]

    # Missed: swept well past its date, it is escalated up the ladder.
    late = due + timedelta(days=40)
    sweep(engine, policies_from_settings(settings), late)
    escalated = [
        e
        for e in ok(cast.director.get("/escalations", params={"as_of": late.isoformat()}))
        if e["deadline_kind"] == "panel_pack"
    ]
    assert escalated and {e["deadline_label"] for e in escalated} == {words}
    breached = [
        b
        for b in ok(cast.director.get("/breaches", params={"as_of": late.isoformat()}))
        if b["kind"] == "panel_pack"
    ]
    assert [b["deadline_label"] for b in breached] == [words]

    director = web_as(cast.director)
    page = director.get("/director")
    assert page.status_code == 200
    table = page.text.split('aria-label="Open escalations"')[1].split("</table>")[0]
    assert words in table
    acknowledge = director.get(f"/director/escalations/{escalated[0]['id']}/acknowledge")
    assert acknowledge.status_code == 200 and words in acknowledge.text
    monkeypatch.setattr("app.web.routes.director_breaches.today", lambda: late)
    register = director.get("/director/breaches")
    assert register.status_code == 200
    assert words in register.text.split('id="breach-register"')[1]
