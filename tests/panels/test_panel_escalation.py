"""The panel escalates drift to the service director (issue 14 item 1): a decision
``escalate`` and the chair's "escalate drift" reach the service managers and the director
through the ladder's notices, inbox and email, carry the panel's reason, stay on the
director's list and in the breach register until acknowledged, and happen once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from notifications.digest import queue_digests
from notifications.dispatcher import dispatch
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.models import RAISED
from notifications.policy import Policies
from notifications.sweep import Channels, sweep
from services.clock import today
from services.models import AUDIT_LOG as A
from services.models import DEADLINES as D
from tests.conftest import Api, Inbox, UserFactory
from tests.panel_support import Journeys, People, iso, ok, people
from tests.reminder_support import dispatch_config, set_email
from workflow.calendar import add_working_days

BASE = "https://permanence.example.test"
NAME = ("Zebedee", "Quillfeather")
REASON = "No adopters identified after nine months; family finding has stalled."


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


@pytest.fixture
def mail(smtp: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Email on (the panel queues it) and the loopback SMTP server; before the app starts."""
    controller, inbox = smtp
    monkeypatch.setenv("PERMANENCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(controller.port))
    yield controller, inbox


def _tracked_item(cast: People, **child: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A held meeting's agenda item for a child on the adoption tracker, and the meeting."""
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=60))})
    )
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    factory = Journeys(cast.sw)
    c = factory.child(legal_status="placement_order", **child)
    journey = cast.sw.start(c["id"], "adoption", iso(factory.start))
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting['id']}/agenda", {}))
    item = next(
        i
        for p in agenda["parts"]
        for i in p["items"]
        if i["child_id"] == journey["child_id"] and i["part"] == "adoption_tracking"
    )
    return item, meeting


def _raised_notices(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(N).where(N.c.deadline_kind == "panel_escalation").order_by(N.c.id)
            ).all()
        )


def _open(api: Api) -> list[dict[str, Any]]:
    return [
        e
        for e in ok(api.get("/escalations?status=open"))
        if e["deadline_kind"] == "panel_escalation"
    ]


def _breaches(api: Api) -> list[dict[str, Any]]:
    return [b for b in ok(api.get("/breaches")) if b["kind"] == "panel_escalation"]


def test_decision_escalate_reaches_the_director_until_acknowledged(
    mail: tuple[Controller, Inbox],
    make_user: UserFactory,
    engine: Engine,
    policies: Policies,
    web_as: Callable[[Api], Any],
) -> None:
    controller, inbox = mail
    cast = people(make_user)
    sm = make_user("sm", "service_manager")
    set_email(engine, cast.director.user_id, "director@example.test")
    set_email(engine, sm.user_id, "sm@example.test")
    item, _meeting = _tracked_item(cast, given_name=NAME[0], family_name=NAME[1])
    reference = item["child_reference"]

    decision = ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision", {"outcome": "escalate", "notes": REASON}
        ),
        201,
    )
    assert decision["outcome"] == "escalate"

    # The inbox: the director's rung and the service manager's, at once; the chair (who is
    # also a service manager) raised it and is not told of it.
    (top,) = [n for n in ok(cast.director.get("/notifications")) if n["category"] == "escalation"]
    assert top["step"] == "escalate_service_director"
    assert top["deadline_kind"] == "panel_escalation" and top["child_reference"] == reference
    assert f"Panel escalation of drift for {reference}" in top["message"]
    assert top["link"].endswith(f"/director/escalations/{top['id']}/acknowledge")
    (middle,) = [n for n in ok(sm.get("/notifications")) if n["category"] == "escalation"]
    assert middle["step"] == "escalate_service_manager"
    assert [n for n in ok(cast.chair.get("/notifications")) if n["category"] == "escalation"] == []

    # The email, through the outbox to a real SMTP server: reference and link, no name.
    sent = dispatch(engine, dispatch_config(controller.port))
    assert sent.sent == 2 and sent.failed == 0
    by_rcpt = {tuple(rcpt): message for rcpt, message in inbox.messages}
    assert set(by_rcpt) == {("director@example.test",), ("sm@example.test",)}
    message = by_rcpt[("director@example.test",)]
    text = f"{message['Subject']}\n{message.get_payload(decode=True).decode()}"
    assert message["Subject"] == f"Escalation: the panel has escalated drift for {reference}"
    assert f"{BASE}/director/escalations/{top['id']}/acknowledge" in text
    assert NAME[0] not in text and NAME[1] not in text

    # The director's list (API and page) and the breach register carry the panel's reason.
    listed = _open(cast.director)
    assert {e["level"] for e in listed} == {"service_manager", "service_director"}
    assert all(e["reason"] == REASON and e["raised_by"] == "panel.chair" for e in listed)
    assert all(e["child_reference"] == reference and e["panel"] == "wirral" for e in listed)
    (breach,) = _breaches(cast.director)
    assert breach["status"] == "open" and breach["reason"] == REASON
    assert breach["due_on"] == iso(today()) and breach["child_reference"] == reference
    assert [e["level"] for e in breach["escalations"]] == ["service_manager", "service_director"]
    director_page = web_as(cast.director)
    page = director_page.get("/director")
    assert page.status_code == 200
    assert REASON in page.text and reference in page.text
    ack_page = director_page.get(f"/director/escalations/{top['id']}/acknowledge")
    assert ack_page.status_code == 200 and REASON in ack_page.text

    # Once: the decision recorded again, and the chair's escalation of the same item, send
    # nothing more; the sweep has nothing to remind or climb for it.
    ok(
        cast.chair.post(
            f"/panel/items/{item['id']}/decision", {"outcome": "escalate", "notes": REASON}
        ),
        201,
    )
    again = ok(cast.chair.post(f"/panel/items/{item['id']}/escalate", {"reason": "again"}))
    assert again["created"] is False and again["open"] is True and again["reason"] == REASON
    for n in range(0, 15):
        swept = sweep(engine, policies, add_working_days(today(), n), channels=Channels(True))
        assert [p for p in swept.notices if p.deadline_kind == "panel_escalation"] == []
    assert len(_raised_notices(engine)) == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RAISED)).scalar() == 1
        raised_audit = conn.execute(select(A).where(A.c.action == "escalation_raised")).all()
    assert len(raised_audit) == 1 and raised_audit[0].actor_id == cast.chair.user_id
    assert raised_audit[0].details["item_id"] == item["id"]
    assert REASON not in str(raised_audit[0].details)  # the audit trail names no child

    # The morning digest lists it for both, waiting for an answer (it names no journey).
    assert queue_digests(engine, today(), base_url=BASE) == 2
    with engine.connect() as conn:
        digest = conn.execute(
            select(O.c.payload)
            .where(O.c.recipient_id == cast.director.user_id)
            .where(O.c.notice_id.is_(None))
        ).scalar_one()
    (entry,) = digest["items"]
    assert entry["child_reference"] == reference and entry["journey_title"]
    assert entry["status"].startswith("escalated to you")
    assert entry["link"] == f"{BASE}/director#open-escalations"

    # A team manager sees it (their team's child) but may not answer the director's rung.
    assert (
        cast.tm.post(f"/escalations/{top['id']}/acknowledge", {"comment": "x"}).status_code == 403
    )

    # Acknowledged: off the list, the page and the register; its deadline is met.
    answered = ok(
        cast.director.post(
            f"/escalations/{top['id']}/acknowledge",
            {"comment": "Adoption manager to widen the search; review in 4 weeks."},
        )
    )
    assert answered["status"] == "acknowledged" and answered["acknowledged_by"] == "director"
    assert _open(cast.director) == [] and _open(sm) == []
    assert _breaches(cast.director) == []
    page = director_page.get("/director")
    assert REASON not in page.text
    with engine.connect() as conn:
        deadline = conn.execute(select(D).where(D.c.kind == "panel_escalation")).one()
        acks = conn.execute(select(A).where(A.c.action == "acknowledge_escalation")).all()
    assert (deadline.status, deadline.met_on) == ("met", today())
    assert len(acks) == 1 and acks[0].entity_id == top["id"]

    # Answered, the same item still escalates no more; the chair may escalate the child anew.
    ok(cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "escalate"}), 201)
    assert len(_raised_notices(engine)) == 2
    anew = ok(
        cast.chair.post(
            f"/panel/children/{item['child_id']}/escalate", {"reason": "Still no adopters."}
        ),
        201,
    )
    assert anew["created"] is True and anew["item_id"] is None
    assert [e["reason"] for e in _open(cast.director)] == ["Still no adopters."] * 2


def test_chair_escalates_drift_on_a_child_and_a_social_worker_cannot(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    item, _meeting = _tracked_item(cast)
    child_id = item["child_id"]
    path = f"/panel/children/{child_id}/escalate"
    reason = {"reason": "Placement at risk and no permanence plan for 14 months."}

    # Nobody but the chair: 403, and nothing is written.
    for api in (cast.sw, cast.tm, cast.admin, cast.director):
        refused = api.post(path, reason)
        assert refused.status_code == 403, (api.username, refused.text)
    assert cast.director.post(f"/panel/items/{item['id']}/escalate", reason).status_code == 403
    assert cast.sw.post(f"/panel/items/{item['id']}/escalate", reason).status_code == 403
    assert ok(cast.chair.post(path, {"reason": ""}), 422)
    assert ok(cast.chair.post(path, {"reason": "   "}), 422)
    assert ok(cast.chair.post("/panel/children/999999/escalate", reason), 404)
    assert _raised_notices(engine) == []

    raised = ok(cast.chair.post(path, reason), 201)
    assert raised["created"] is True and raised["open"] is True
    assert raised["reason"] == reason["reason"] and raised["child_id"] == child_id
    assert raised["notified"] == [cast.director.user_id]  # the chair is the only manager
    # A double click, or the item's escalation while the child's is open: the same one.
    assert ok(cast.chair.post(path, reason))["id"] == raised["id"]
    assert ok(cast.chair.post(f"/panel/items/{item['id']}/escalate", reason))["created"] is False
    ok(cast.chair.post(f"/panel/items/{item['id']}/decision", {"outcome": "escalate"}), 201)
    (listed,) = _open(cast.director)
    assert listed["reason"] == reason["reason"] and listed["journey_id"] is None
    assert listed["recipient"] == "director"
    assert cast.sw.get("/escalations").status_code == 403


def test_chair_escalates_drift_from_the_meeting_page(
    make_user: UserFactory, engine: Engine, web_as: Callable[[Api], Any]
) -> None:
    cast = people(make_user)
    item, meeting = _tracked_item(cast)
    form_path = f"/panel/meetings/{meeting['id']}/items/{item['id']}/escalate"
    chair = web_as(cast.chair)
    page = chair.get(f"/panel/meetings/{meeting['id']}")
    assert page.status_code == 200 and f'href="{form_path}"' in page.text
    # Not offered to, and refused for, anyone but the chair.
    social_worker = web_as(cast.sw)
    assert f'href="{form_path}"' not in social_worker.get(f"/panel/meetings/{meeting['id']}").text
    assert social_worker.get(form_path).status_code == 403
    assert social_worker.post(form_path, {"reason": "drift"}).status_code == 403
    assert _raised_notices(engine) == []

    assert chair.get(form_path).status_code == 200
    blank = chair.post(form_path, {"reason": "  "})
    assert blank.status_code == 400 and "Enter the reason" in blank.text
    assert _raised_notices(engine) == []
    reason = "Care plan unchanged across three reviews; no family finding started."
    done = chair.post(form_path, {"reason": reason})
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/panel/meetings/{meeting['id']}?done=escalated#item-{item['id']}"
    )
    again = chair.post(form_path, {"reason": reason})
    assert again.headers["location"].startswith(
        f"/panel/meetings/{meeting['id']}?done=already_escalated"
    )
    (listed,) = _open(cast.director)
    assert listed["reason"] == reason and listed["raised_by"] == "panel.chair"
    director_page = web_as(cast.director).get("/director")
    assert reason in director_page.text and item["child_reference"] in director_page.text
