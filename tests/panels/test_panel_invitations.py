"""Publishing an agenda and its invitations (issue 14 item 2), on the three presets whose
Terms of Reference invite the social worker, IRO and supervising social worker (Wirral,
Sefton, Torbay): each invited person gets one notice and one email with a calendar
invitation (.ics, Europe/London) per invitation; moving the meeting updates them (same uid,
higher sequence); a rebuild after publishing tells only those whose slot changed; cancelling
sends METHOD:CANCEL; a member sends apologies from the invitation and names a
representative; only the panel administrator publishes. Real SMTP (aiosmtpd)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import Engine, select

from notifications.dispatcher import dispatch
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.render import long_date
from panels.config import load_panel
from panels.models import ATTENDANCE as A
from services.clock import today
from tests.conftest import Api, Inbox, UserFactory
from tests.panel_support import Journeys, People, iso, ok, people
from tests.reminder_support import dispatch_config, set_email

LONDON = ZoneInfo("Europe/London")
NAME = ("Zebedee", "Quillfeather")
BASE = "https://permanence.example.test"


@pytest.fixture(params=["wirral"])
def preset(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The panel the app runs (set before the app starts: ask for it first)."""
    monkeypatch.setenv("PERMANENCE_PANEL", request.param)
    return str(request.param)


@pytest.fixture
def mail(smtp: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Email on (the panel queues it) and the loopback SMTP server; before the app starts."""
    controller, inbox = smtp
    monkeypatch.setenv("PERMANENCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(controller.port))
    yield controller, inbox


class Cast:
    """The panel's people with email addresses, an IRO and a supervising social worker."""

    def __init__(self, make_user: UserFactory, engine: Engine) -> None:
        self.p: People = people(make_user)
        self.iro = make_user("iro.one", "iro")
        self.ssw = make_user("ssw.fostering", "social_worker", team="south")
        for api in (self.p.sw, self.p.tm, self.p.admin, self.p.chair, self.iro, self.ssw):
            set_email(engine, api.user_id, f"{api.username}@example.test")
        self.factory = Journeys(self.p.sw)

    def adoption_child(self, **child: Any) -> dict[str, Any]:
        """A child on the adoption tracker (every one of the three presets tracks it)."""
        c = self.factory.child(legal_status="placement_order", **child)
        return self.p.sw.start(c["id"], "adoption", iso(self.factory.start))


def _future_meeting(admin: Api) -> dict[str, Any]:
    planner = ok(admin.post("/panel/meetings/generate", {"start": iso(today())}))
    return next(
        m for m in planner if date.fromisoformat(m["meeting_date"]) > today() + timedelta(7)
    )


def _invitations(admin: Api, meeting_id: int) -> list[dict[str, Any]]:
    return list(ok(admin.get(f"/panel/meetings/{meeting_id}/invitations")))


def _notices(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(N).where(N.c.step == "panel_invitation").order_by(N.c.id)).all()
        )


def _calendar(message: Message) -> Calendar:
    """The message's .ics attachment, parsed."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    assert parts[0].get_filename() == "invitation.ics"
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def _sent(engine: Engine, controller: Controller, inbox: Inbox) -> list[tuple[str, Message]]:
    """Deliver the outbox; each new message as (recipient, message)."""
    before = len(inbox.messages)
    result = dispatch(engine, dispatch_config(controller.port))
    assert result.failed == 0 and result.retrying == 0, result.errors
    return [(rcpt[0], m) for rcpt, m in inbox.messages[before:]]


def _event(message: Message) -> tuple[str, Any]:
    cal = _calendar(message)
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
    (event,) = cal.walk("VEVENT")
    return str(cal["METHOD"]), event


def _slot_start(meeting: dict[str, Any], part_key: str, preset: str, index: int) -> datetime:
    """Where item ``index`` (0-based) of a part starts: the parts before it, whole."""
    config = load_panel(preset)
    start = datetime.combine(
        date.fromisoformat(meeting["meeting_date"]),
        datetime.strptime(meeting["start_time"], "%H:%M").time(),
    )
    offset = 0
    for part in config.parts:
        if part.key == part_key:
            return start + timedelta(minutes=offset + index * part.capacity.unit_minutes)
        offset += part.capacity.total_minutes
    raise AssertionError(part_key)


@pytest.mark.parametrize("preset", ["wirral", "sefton", "torbay"], indirect=True)
def test_publishing_invites_each_person_once_and_moves_and_cancels_with_the_meeting(
    preset: str,
    mail: tuple[Controller, Inbox],
    make_user: UserFactory,
    engine: Engine,
) -> None:
    controller, inbox = mail
    cast = Cast(make_user, engine)
    sw, tm, admin = cast.p.sw, cast.p.tm, cast.p.admin
    first = cast.adoption_child(given_name=NAME[0], family_name=NAME[1])
    second = cast.adoption_child()
    # The first child's IRO and supervising social worker, recorded by the social worker.
    ok(
        sw.post(
            f"/panel/children/{first['child_id']}/invitees",
            {"iro_id": cast.iro.user_id, "supervising_social_worker_id": cast.ssw.user_id},
        )
    )
    meeting = _future_meeting(admin)
    mid = meeting["id"]
    agenda = ok(admin.post(f"/panel/meetings/{mid}/agenda", {}))
    tracked = [i for p in agenda["parts"] for i in p["items"] if i["source"] != "referral"]
    assert {i["child_id"] for i in tracked} == {first["child_id"], second["child_id"]}
    # A child may be in several parts (Wirral's drift part too): follow the tracker's part.
    part_key = next(i["part"] for i in tracked if "adoption_tracker" in i["cohorts"])
    tracked = [i for i in tracked if i["part"] == part_key]
    assert _notices(engine) == []  # building alone tells nobody

    # Only the panel administrator publishes.
    for refused in (cast.p.chair, sw, tm):
        response = refused.post(f"/panel/meetings/{mid}/publish")
        assert response.status_code == 403, response.text
    publication = ok(admin.post(f"/panel/meetings/{mid}/publish"))
    assert publication["updated"] == [] and publication["cancelled"] == []
    invitations = _invitations(admin, mid)
    assert sorted(publication["invited"]) == sorted(i["id"] for i in invitations)
    items = [i for i in invitations if i["kind"] == "item" and i["part"] == part_key]
    by_child = {
        c: {(i["role"], i["recipient_id"]) for i in items if i["child_id"] == c}
        for c in (first["child_id"], second["child_id"])
    }
    assert by_child[first["child_id"]] == {
        ("social_worker", sw.user_id),
        ("team_manager", tm.user_id),
        ("iro", cast.iro.user_id),
        ("supervising_social_worker", cast.ssw.user_id),
    }
    assert by_child[second["child_id"]] == {
        ("social_worker", sw.user_id),
        ("team_manager", tm.user_id),
    }
    # The members: the seats whose role one person holds (chair, administrator, ...).
    members = {i["member_key"]: i["recipient_id"] for i in invitations if i["kind"] == "member"}
    assert members["chair"] == cast.p.chair.user_id
    assert members["administrator"] == admin.user_id
    assert all(i["sequence"] == 0 and i["status"] == "active" for i in invitations)
    assert len({i["uid"] for i in invitations}) == len(invitations)

    # Exactly one notice per invitation, each to its person, naming meeting, part and time.
    notices = _notices(engine)
    assert Counter(n.recipient_id for n in notices) == Counter(
        i["recipient_id"] for i in invitations
    )
    config = load_panel(preset)
    part_title = next(p.title for p in config.parts if p.key == part_key)
    slots = {
        i["child_id"]: _slot_start(meeting, part_key, preset, n)
        for n, i in enumerate(sorted(tracked, key=lambda i: i["position"]))
    }
    ssw_inbox = ok(cast.ssw.get("/notifications"))
    (note,) = [n for n in ssw_inbox if part_title in n["message"]]
    when = slots[first["child_id"]]
    reference = ok(sw.get(f"/children/{first['child_id']}"))["reference"]
    assert note["message"] == (
        f"Invitation: {config.panel.name}, {long_date(when.date())} at {when:%H:%M}, "
        f"{part_title}: child reference {reference}"
    )
    assert note["link"].endswith(f"/panel/meetings/{mid}")

    # One email per invitation with an address, each with a valid .ics; references only.
    sent = _sent(engine, controller, inbox)
    with_address = {sw.user_id, tm.user_id, cast.iro.user_id, cast.ssw.user_id}
    with_address |= {admin.user_id, cast.p.chair.user_id}
    expected = [i for i in invitations if i["recipient_id"] in with_address]
    assert len(sent) == len(expected)
    uids = {i["uid"]: i for i in invitations}
    seen_uids = []
    for rcpt, message in sent:
        method, event = _event(message)
        assert method == "REQUEST"
        inv = uids[str(event["UID"])]
        seen_uids.append(inv["uid"])
        assert int(event["SEQUENCE"]) == 0
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and str(start.tzinfo) == "Europe/London"
        if inv["kind"] == "item" and inv["part"] == part_key:
            assert start.replace(tzinfo=None) == slots[inv["child_id"]]
        text = message.as_string()
        assert NAME[0] not in text and NAME[1] not in text
        assert f"{BASE}/panel/" in text
        assert rcpt == next(
            f"{u.username}@example.test"
            for u in (sw, tm, admin, cast.p.chair, cast.iro, cast.ssw)
            if u.user_id == inv["recipient_id"]
        )
    assert sorted(seen_uids) == sorted(i["uid"] for i in expected)  # each exactly once

    # Publishing again with nothing changed tells nobody.
    again = ok(admin.post(f"/panel/meetings/{mid}/publish"))
    assert again["invited"] == again["updated"] == again["cancelled"] == []
    assert len(_notices(engine)) == len(invitations)

    # Moving the meeting updates every invitation: same uid, sequence 1, the new date.
    new_date = date.fromisoformat(meeting["meeting_date"]) + timedelta(days=1)
    ok(admin.post(f"/panel/meetings/{mid}/move", {"new_date": iso(new_date), "reason": "Room"}))
    moved = _invitations(admin, mid)
    assert [(i["uid"], i["sequence"]) for i in moved] == [(i["uid"], 1) for i in invitations]
    sent = _sent(engine, controller, inbox)
    assert len(sent) == len(expected)
    for _rcpt, message in sent:
        method, event = _event(message)
        assert method == "REQUEST" and int(event["SEQUENCE"]) == 1
        assert str(event["UID"]) in uids
        assert event.decoded("DTSTART").date() == new_date
    assert any(
        n["message"].startswith("Invitation changed")
        for n in ok(cast.ssw.get("/notifications"))
        if n["category"] == "notification"
    )

    # A rebuild after publishing: a third child joins at the end (only its people told);
    # the second leaves (its invitations cancelled) and the third moves up into its slot.
    third = cast.adoption_child()
    ok(admin.post(f"/panel/meetings/{mid}/agenda", {}))
    after_add = {i["uid"]: i for i in _invitations(admin, mid)}
    new = [i for i in after_add.values() if i["uid"] not in uids]
    assert {(i["child_id"], i["role"]) for i in new} == {
        (third["child_id"], "social_worker"),
        (third["child_id"], "team_manager"),
    }
    assert all(after_add[u]["sequence"] == 1 for u in uids)  # nobody else told
    _sent(engine, controller, inbox)
    sw.fire(second, "change_plan", iso(today()), {"reason": "Plan changed to SGO"})
    ok(admin.post(f"/panel/meetings/{mid}/agenda", {}))
    after_drop = {i["uid"]: i for i in _invitations(admin, mid)}
    changed = {
        u: (i["status"], i["sequence"])
        for u, i in after_drop.items()
        if (i["status"], i["sequence"]) != (after_add[u]["status"], after_add[u]["sequence"])
    }
    second_uids = {i["uid"] for i in after_add.values() if i["child_id"] == second["child_id"]}
    third_uids = {i["uid"] for i in after_add.values() if i["child_id"] == third["child_id"]}
    assert changed == {
        **{u: ("cancelled", 2) for u in second_uids},
        **{u: ("active", 1) for u in third_uids},
    }
    methods = Counter(_event(m)[0] for _r, m in _sent(engine, controller, inbox))
    assert methods == {"CANCEL": len(second_uids), "REQUEST": len(third_uids)}

    # Cancelling the meeting cancels every active invitation.
    active = [i for i in after_drop.values() if i["status"] == "active"]
    ok(admin.post(f"/panel/meetings/{mid}/cancel", {"reason": "Chair unwell"}))
    assert all(i["status"] == "cancelled" for i in _invitations(admin, mid))
    sent = _sent(engine, controller, inbox)
    reached = [i for i in active if i["recipient_id"] in with_address]
    assert len(sent) == len(reached)
    for _rcpt, message in sent:
        method, event = _event(message)
        assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == after_drop[str(event["UID"])]["sequence"] + 1


def test_a_member_sends_apologies_and_names_a_representative(
    preset: str, mail: tuple[Controller, Inbox], make_user: UserFactory, engine: Engine
) -> None:
    controller, inbox = mail
    cast = Cast(make_user, engine)
    admin, sw = cast.p.admin, cast.p.sw
    nurse = make_user("nurse", "read_only", team="north")
    set_email(engine, nurse.user_id, "nurse@example.test")
    # Naming a seat's holder is the administrator's.
    refused = sw.post("/panel/seats", {"member_key": "health", "user_id": nurse.user_id})
    assert refused.status_code == 403
    bad = admin.post("/panel/seats", {"member_key": "no_such_seat", "user_id": nurse.user_id})
    assert bad.status_code == 422
    ok(admin.post("/panel/seats", {"member_key": "health", "user_id": nurse.user_id}))
    cast.adoption_child()
    meeting = _future_meeting(admin)
    mid = meeting["id"]
    ok(admin.post(f"/panel/meetings/{mid}/agenda", {}))
    ok(admin.post(f"/panel/meetings/{mid}/publish"))
    (mine,) = [i for i in _invitations(admin, mid) if i["member_key"] == "health"]
    assert mine["recipient_id"] == nurse.user_id and mine["kind"] == "member"
    (_rcpt, message), *_ = [
        (r, m) for r, m in _sent(engine, controller, inbox) if r == "nurse@example.test"
    ]
    method, event = _event(message)
    assert method == "REQUEST" and event.decoded("DTSTART").strftime("%H:%M") == "09:30"
    assert f"{BASE}/panel/invitations/{mine['id']}" in message.as_string()

    # The invitation is the member's: others are refused, an item's is no member's.
    assert ok(nurse.get(f"/panel/invitations/{mine['id']}"))["seat_title"].startswith("Specialist")
    assert sw.get(f"/panel/invitations/{mine['id']}").status_code == 403
    assert sw.post(f"/panel/invitations/{mine['id']}/apologies", {}).status_code == 403
    item = next(i for i in _invitations(admin, mid) if i["recipient_id"] == sw.user_id)
    assert sw.post(f"/panel/invitations/{item['id']}/apologies", {}).status_code == 404
    # A representative before apologies is refused.
    early = nurse.post(f"/panel/invitations/{mine['id']}/representative", {"representative": "X"})
    assert early.status_code == 409

    detail = ok(
        nurse.post(f"/panel/invitations/{mine['id']}/apologies", {"note": "Clinic that day"})
    )
    assert detail["attendance_status"] == "apologies" and detail["note"] == "Clinic that day"
    seats = {s["key"]: s for s in ok(admin.get(f"/panel/meetings/{mid}"))["members"]}
    assert seats["health"]["status"] == "apologies"
    assert ok(admin.get(f"/panel/meetings/{mid}"))["status"] == "scheduled"  # not held
    # The member is asked for a representative: a notice (and its email), once.
    asks = [n for n in ok(nurse.get("/notifications")) if n["step"] == "panel_representative"]
    assert len(asks) == 1 and asks[0]["link"].endswith(f"/panel/invitations/{mine['id']}")
    ok(nurse.post(f"/panel/invitations/{mine['id']}/apologies", {"note": "Clinic that day"}))
    assert (
        len([n for n in ok(nurse.get("/notifications")) if n["step"] == "panel_representative"])
        == 1
    )
    sent = _sent(engine, controller, inbox)
    assert [r for r, _m in sent] == ["nurse@example.test"]

    named = ok(
        nurse.post(
            f"/panel/invitations/{mine['id']}/representative", {"representative": "Dr Jo Bloggs"}
        )
    )
    assert named["representative"] == "Dr Jo Bloggs"
    seats = {s["key"]: s for s in ok(admin.get(f"/panel/meetings/{mid}"))["members"]}
    assert seats["health"]["representative"] == "Dr Jo Bloggs"
    with engine.connect() as conn:
        row = conn.execute(select(A).where(A.c.meeting_id == mid)).one()
    assert (row.member_key, row.user_id, row.note) == ("health", nurse.user_id, "Clinic that day")


@pytest.mark.parametrize("preset", ["torbay"], indirect=True)
def test_publishing_needs_a_built_agenda_and_a_scheduled_meeting(
    preset: str, make_user: UserFactory, engine: Engine
) -> None:
    cast = Cast(make_user, engine)
    meeting = _future_meeting(cast.p.admin)
    empty = cast.p.admin.post(f"/panel/meetings/{meeting['id']}/publish")
    assert empty.status_code == 409 and "Build the agenda" in empty.json()["message"]
    assert cast.p.admin.post("/panel/meetings/999999/publish").status_code == 404
    # The invitees' IRO must be an IRO; another team's social worker cannot record them.
    child = cast.adoption_child()
    wrong = cast.p.sw.post(
        f"/panel/children/{child['child_id']}/invitees", {"iro_id": cast.ssw.user_id}
    )
    assert wrong.status_code == 422
    other = cast.ssw.post(
        f"/panel/children/{child['child_id']}/invitees", {"iro_id": cast.iro.user_id}
    )
    assert other.status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(O)).all() == []
