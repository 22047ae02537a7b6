"""The panel's notices: a meeting's minutes deadline reminds the panel administrator and
escalates past the team manager (it has no team) to the service manager and director;
the tracker's circulation and the minutes' approval notify the people concerned, once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from notifications import service as notices
from notifications.digest import queue_digests
from notifications.dispatcher import dispatch
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.notify import notify
from notifications.policy import Policies
from notifications.render import long_date
from notifications.sweep import Channels, sweep
from panels.config import load_panel
from services.access import Principal
from services.clock import today
from services.models import DEADLINES as D
from tests.conftest import Api, Inbox, UserFactory
from tests.panel_support import Journeys, People, answers_for, funding_form, iso, ok, people
from tests.reminder_support import dispatch_config, set_email
from workflow.calendar import add_working_days

BASE = "https://permanence.example.test"
NAME = ("Zebedee", "Quillfeather")


@pytest.fixture(autouse=True)
def _torbay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "torbay")


def _held_meeting(cast: People) -> dict[str, Any]:
    """A meeting in the past, held (attendance recorded): its minutes deadline is open."""
    planner = ok(
        cast.admin.post(
            "/panel/meetings/generate", {"start": (today() - timedelta(days=60)).isoformat()}
        )
    )
    held = [m for m in planner if date.fromisoformat(str(m["meeting_date"])) < today()][-1]
    ok(
        cast.admin.post(
            f"/panel/meetings/{held['id']}/attendance",
            {"entries": [{"member_key": "chair", "status": "present"}]},
        )
    )
    return dict(held)


def _minutes_deadline(engine: Engine, meeting_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(D).where(D.c.kind == "panel_minutes", D.c.meeting_id == meeting_id)
        ).one()


def test_minutes_deadline_reminds_the_administrator_and_escalates_past_the_team_manager(
    make_user: UserFactory,
    engine: Engine,
    policies: Policies,
    principal_of: Callable[[int], Principal],
) -> None:
    cast = people(make_user)  # a team manager exists (team north): not on this ladder
    held = _held_meeting(cast)
    row = _minutes_deadline(engine, held["id"])
    assert row.child_id is None and row.owner_id is None and row.owner_role == "panel_admin"
    due = row.due_on

    seen: dict[date, set[tuple[str, int]]] = defaultdict(set)
    day = add_working_days(due, -7)
    while day <= add_working_days(due, 11):
        result = sweep(engine, policies, day)
        assert result.unaddressed == 0  # the skipped team-manager rung is not "unaddressed"
        for n in result.notices:
            assert n.deadline_id == row.id and n.child_id is None and n.child_reference is None
            assert n.fire_on == day  # swept every day: each notice on its own day
            seen[day].add((n.step, n.recipient_id))
        day += timedelta(days=1)

    admin, sm, sd = cast.admin.user_id, cast.chair.user_id, cast.director.user_id
    assert dict(seen) == {
        add_working_days(due, -5): {("before_5", admin)},
        add_working_days(due, -1): {("before_1", admin)},
        due: {("due", admin)},
        add_working_days(due, 1): {("overdue", admin)},
        add_working_days(due, 5): {("escalate_service_manager", sm)},
        add_working_days(due, 10): {("escalate_service_director", sd)},
    }

    # The administrator's inbox names the meeting, never a child, and links to the meeting.
    inbox = ok(cast.admin.get("/notifications"))
    assert len(inbox) == 4
    due_msg = next(n for n in inbox if n["step"] == "due")
    # Dates in words (issue 11 item 2), not ISO dates.
    held_on = long_date(date.fromisoformat(held["meeting_date"]))
    assert due_msg["message"].startswith(f"Panel meeting {held_on}: minutes due {long_date(due)}")
    assert due_msg["link"].endswith(f"/panel/meetings/{held['id']}")
    assert due_msg["child_reference"] is None and due_msg["meeting_id"] == held["id"]

    # The director sees the open escalation (a team manager does not: it has no team) ...
    open_ = ok(cast.director.get("/escalations?status=open"))
    assert [e["deadline_kind"] for e in open_] == ["panel_minutes", "panel_minutes"]
    assert open_[0]["meeting_id"] == held["id"] and open_[0]["child_reference"] is None
    assert ok(cast.tm.get("/escalations?status=open")) == []
    # The service manager's morning digest lists the open escalation by its meeting (read
    # before the director answers it: that answers the service manager's rung too).
    set_email(engine, sm, "sm@example.test")
    assert queue_digests(engine, add_working_days(due, 11), base_url=BASE) == 1
    with engine.connect() as conn:
        payload = conn.execute(select(O.c.payload).where(O.c.recipient_id == sm)).scalar_one()
    (item,) = payload["items"]
    assert item["subject"] == f"Panel meeting {held_on}"
    assert item["link"] == f"{BASE}/panel/meetings/{held['id']}"

    # ... and acknowledges it; the breach register lists the missed minutes.
    mine = next(e for e in open_ if e["recipient_id"] == sd)
    ok(cast.director.post(f"/escalations/{mine['id']}/acknowledge", {"comment": "Chased"}))
    register = notices.breaches(engine, principal_of(sd), as_of=add_working_days(due, 11))
    assert [(b["kind"], b["meeting_id"], b["owner"]) for b in register] == [
        ("panel_minutes", held["id"], "panel_admin")
    ]
    assert register[0]["escalations"][-1]["comment"] == "Chased"
    # The director's answer fills in the service manager's rung with the same who and comment.
    answered = ok(cast.director.get("/escalations?status=all"))
    assert {(e["acknowledged_by"], e["comment"]) for e in answered} == {("director", "Chased")}


def test_approving_the_minutes_stops_their_reminders(
    make_user: UserFactory, engine: Engine, policies: Policies
) -> None:
    cast = people(make_user)
    held = _held_meeting(cast)
    due = _minutes_deadline(engine, held["id"]).due_on
    first = sweep(engine, policies, add_working_days(due, -5))
    assert [(n.step, n.recipient_id) for n in first.notices] == [("before_5", cast.admin.user_id)]

    ok(cast.admin.post(f"/panel/meetings/{held['id']}/minutes"))
    ok(
        cast.admin.post(
            f"/panel/meetings/{held['id']}/minutes/approve",
            {"approved_on": iso(add_working_days(due, -3))},
        )
    )
    assert _minutes_deadline(engine, held["id"]).status == "met"
    later = sweep(engine, policies, add_working_days(due, 12))
    assert later.notices == []


def test_minutes_reminder_email_reaches_smtp_without_a_child_name(
    make_user: UserFactory,
    engine: Engine,
    policies: Policies,
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    cast = people(make_user)
    set_email(engine, cast.admin.user_id, "panel.admin@example.test")
    # A named child in the database, to be sure nothing of it leaks into the email.
    Journeys(cast.sw).child(given_name=NAME[0], family_name=NAME[1])
    held = _held_meeting(cast)
    due = _minutes_deadline(engine, held["id"]).due_on
    result = sweep(engine, policies, due, channels=Channels(email=True))
    # First swept on the due date: only the on-the-day step is still ahead (issue 13 item 9), and
    # the administrator has an address.
    assert result.outbox == 1
    sent = dispatch(engine, dispatch_config(controller.port))
    assert sent.sent == 1 and sent.failed == 0
    assert len(inbox.messages) == 1
    for rcpt, message in inbox.messages:
        assert rcpt == ["panel.admin@example.test"]
        text = f"{message['Subject']}\n{message.get_payload()}"
        held_on = long_date(date.fromisoformat(held["meeting_date"]))
        assert f"panel meeting {held_on}: minutes" in text
        assert f"{BASE}/panel/meetings/{held['id']}" in text
        assert NAME[0] not in text and NAME[1] not in text and "Child reference" not in text


class _SouthJourneys(Journeys):
    def child(self, **overrides: Any) -> dict[str, Any]:
        return super().child(team="south", **overrides)


def _decided_meeting(make_user: UserFactory, cast: People) -> tuple[dict[str, Any], list[Api]]:
    """A held meeting with one decided SGO referral from team north and one from south."""
    config = load_panel("torbay")
    dt = config.decision_type("sgo_support_plan")
    assert dt is not None and dt.checklist is not None
    checklist = config.checklist(dt.checklist)
    sw_south = make_user("sw.south", "social_worker", team="south")
    tm_south = make_user("tm.south", "team_manager", team="south")
    planner = ok(
        cast.admin.post(
            "/panel/meetings/generate", {"start": (today() - timedelta(days=60)).isoformat()}
        )
    )
    meeting = [m for m in planner if date.fromisoformat(str(m["meeting_date"])) < today()][-1]
    pack = date.fromisoformat(str(meeting["pack_due_on"]))
    for sw, factory in ((cast.sw, Journeys(cast.sw)), (sw_south, _SouthJourneys(sw_south))):
        factory.n = 10 if sw is sw_south else 0  # distinct references
        j = factory.sgo_awaiting_panel()
        ref = ok(
            sw.post(
                "/panel/referrals",
                {
                    "journey_id": j["id"],
                    "decision_type": dt.key,
                    "meeting_id": meeting["id"],
                    "referred_on": iso(pack - timedelta(days=7)),
                },
            ),
            201,
        )
        ok(
            sw.post(
                f"/panel/referrals/{ref['id']}/pack",
                {
                    "checklist": answers_for(checklist),
                    "documents": dt.documents,
                    "funding": funding_form() if dt.funding_scheme else None,
                    "submitted_on": iso(pack - timedelta(days=1)),
                },
            )
        )
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    ok(
        cast.admin.post(
            f"/panel/meetings/{meeting['id']}/attendance",
            {"entries": [{"member_key": "chair", "status": "present"}]},
        )
    )
    items = [i for p in agenda["parts"] for i in p["items"] if i["referral_id"]]
    assert len(items) == 2
    for item in items:
        ok(
            cast.chair.post(
                f"/panel/items/{item['id']}/decision",
                {"outcome": "sign_off", "meets_needs": "will"},
            ),
            201,
        )
    ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes"))
    return meeting, [sw_south, tm_south]


def _notifications(api: Api, step: str) -> list[dict[str, Any]]:
    return [n for n in ok(api.get("/notifications")) if n["step"] == step]


def test_tracker_circulation_and_minutes_approval_notify_once(
    make_user: UserFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = people(make_user)
    meeting, (sw_south, tm_south) = _decided_meeting(make_user, cast)
    approved = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes/approve", {}))
    concerned = [cast.sw, cast.tm, sw_south, tm_south]
    assert approved["notified"]["tracker_circulated"] == sorted(a.user_id for a in concerned)
    assert approved["notified"]["minutes_approved"] == sorted([cast.sw.user_id, sw_south.user_id])

    for api in concerned:
        circulated = _notifications(api, "panel_tracker_circulated")
        assert len(circulated) == 1, api.username
        assert circulated[0]["category"] == "notification"
        assert circulated[0]["link"].endswith("/panel/tracker")
        held_on = long_date(date.fromisoformat(meeting["meeting_date"]))
        assert f"meeting of {held_on}" in circulated[0]["message"]
    for sw in (cast.sw, sw_south):
        approved_msgs = _notifications(sw, "panel_minutes_approved")
        assert len(approved_msgs) == 1
        message = approved_msgs[0]["message"]
        assert message.startswith("Panel minutes approved: child reference P-00")
        assert "decision recorded" in message
    for manager in (cast.tm, tm_south, cast.admin, cast.director):
        assert _notifications(manager, "panel_minutes_approved") == []
    # Approving again is refused, so nobody hears twice.
    ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes/approve", {}), 409)

    # Circulating again the same day (a retry, a double click) tells nobody twice ...
    again = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/tracker/circulate"))
    assert again["notified"] == []
    assert again["already_notified"] == sorted(a.user_id for a in concerned)
    assert all(len(_notifications(a, "panel_tracker_circulated")) == 1 for a in concerned)
    ok(cast.sw.post(f"/panel/meetings/{meeting['id']}/tracker/circulate"), 403)

    # ... and a circulation on a later day is a new one.
    tomorrow = today() + timedelta(days=1)
    monkeypatch.setattr("panels.service.tracker.today", lambda: tomorrow)
    later = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/tracker/circulate"))
    assert later["notified"] == sorted(a.user_id for a in concerned)
    assert all(len(_notifications(a, "panel_tracker_circulated")) == 2 for a in concerned)


def test_notify_is_once_per_event_and_recipient_and_emails_carry_no_name(
    make_user: UserFactory,
    engine: Engine,
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    cast = people(make_user)
    set_email(engine, cast.sw.user_id, "sw.north@example.test")
    child = Journeys(cast.sw).child(given_name=NAME[0], family_name=NAME[1])

    def once() -> list[int]:
        with engine.begin() as conn:
            return notify(
                conn,
                event_key="test:minutes_approved:1:child:1",
                event="panel_minutes_approved",
                recipients=[cast.sw.user_id, cast.tm.user_id, cast.sw.user_id],
                template="notify_minutes_approved.txt",
                values={
                    "child_reference": child["reference"],
                    "panel": "Torbay",
                    "meeting_date": "2026-12-03",
                },
                link="/panel/meetings/1",
                on=date(2026, 12, 8),
                email=True,
            ).recipients

    assert once() == sorted([cast.sw.user_id, cast.tm.user_id])
    assert once() == []  # a retry records nothing and queues nothing
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(N)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(O)).scalar() == 1  # sw has email
    assert dispatch(engine, dispatch_config(controller.port)).sent == 1
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["sw.north@example.test"]
    text = f"{message['Subject']}\n{message.get_payload()}"
    assert f"child reference {child['reference']}" in text
    assert f"{BASE}/panel/meetings/1" in text
    assert NAME[0] not in text and NAME[1] not in text


def test_a_back_dated_approval_and_a_circulation_the_same_day_tell_nobody_twice(
    make_user: UserFactory, engine: Engine
) -> None:
    # Issue 14 item 6: the once-a-day rule keyed on approved_on, so circulating the
    # tracker after a back-dated approval notified everyone again the same day.
    cast = people(make_user)
    meeting, (sw_south, tm_south) = _decided_meeting(make_user, cast)
    approved = ok(
        cast.admin.post(
            f"/panel/meetings/{meeting['id']}/minutes/approve",
            {"approved_on": meeting["meeting_date"]},
        )
    )
    concerned = [cast.sw, cast.tm, sw_south, tm_south]
    assert approved["notified"]["tracker_circulated"] == sorted(a.user_id for a in concerned)
    again = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/tracker/circulate"))
    assert again["notified"] == []
    assert all(len(_notifications(a, "panel_tracker_circulated")) == 1 for a in concerned)
    message = _notifications(cast.sw, "panel_tracker_circulated")[0]["message"]
    name = load_panel("torbay").panel.name
    # The panel's name once, the date in words, the plural right.
    assert f"after the {name} meeting of " in message, message
    assert " panel meeting" not in message
    assert "(2 children discussed)" in message or "(1 child discussed)" in message, message
