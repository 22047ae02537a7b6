"""Delivery: a real SMTP server on loopback (aiosmtpd), a webhook, retries, the inbox."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select, update

from notifications.digest import queue_digests
from notifications.dispatcher import DispatchConfig, dispatch
from notifications.models import OUTBOX as O
from notifications.policy import Policies
from notifications.sweep import Channels, sweep
from services.clock import now_utc
from tests.conftest import Inbox, Staff, free_port
from tests.reminder_support import d, dispatch_config, first_review_child, set_email

NAME = ("Zebedee", "Quillfeather")
DOB = "2017-02-13"


@pytest.fixture
def staff(staff: Staff, engine: Engine) -> Staff:
    """The ladder (conftest's), each with an email address."""
    people = staff
    for api in (people.sw, people.tm, people.tm_south, people.sm, people.sd):
        set_email(engine, api.user_id, f"{api.username}@example.test")
    return people


def _child_with_name(staff: Staff) -> dict[str, Any]:
    child = staff.sw.create_child(
        "C-0777",
        given_name=NAME[0],
        family_name=NAME[1],
        date_of_birth=DOB,
        looked_after_since="2026-04-24",
    )
    return staff.sw.start(child["id"], "permanence_planning")


def test_email_reaches_a_real_smtp_server_without_name_or_birth_date(
    engine: Engine, staff: Staff, policies: Policies, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    journey = _child_with_name(staff)
    # First swept the day after the due date: the reminders before and on the day are
    # behind it and not sent (issue 13 item 9); the overdue notice and escalation are.
    result = sweep(engine, policies, d("2026-05-27"), channels=Channels(email=True))
    assert result.outbox == 2
    outcome = dispatch(engine, dispatch_config(controller.port))
    assert (outcome.sent, outcome.retrying, outcome.failed) == (2, 0, 0)
    assert len(inbox.messages) == 2
    by_to: dict[str, list[Any]] = {}
    for rcpt, message in inbox.messages:
        by_to.setdefault(rcpt[0], []).append(message)
    assert sorted(by_to) == ["sw.north@example.test", "tm.north@example.test"]
    escalation = by_to["tm.north@example.test"][0]
    assert escalation["Subject"].startswith("Escalation: First looked-after review for C-0777")
    for _, message in inbox.messages:
        raw = message.as_string()
        body = message.get_payload(decode=True).decode()
        assert "C-0777" in body
        assert "Permanence planning" in body
        assert "26 May 2026" in body
        assert f"https://permanence.example.test/journeys/{journey['id']}" in body
        for secret in (*NAME, DOB, "13 February 2017", "13/02/2017"):
            assert secret not in raw
    # Delivered once: another pass sends nothing.
    assert dispatch(engine, dispatch_config(controller.port)).sent == 0


def test_smtp_down_retries_with_backoff_then_delivers(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    port = free_port()  # nobody listens here yet
    first_review_child(staff.sw)
    # Swept on before_5's day and before_1's: two notices (a first sweep on the 22nd
    # alone would skip before_5, which is behind it).
    sweep(engine, policies, d("2026-05-18"), channels=Channels(email=True))
    sweep(engine, policies, d("2026-05-22"), channels=Channels(email=True))
    config = dispatch_config(port, max_attempts=4, backoff_seconds=60)
    start = now_utc()
    down = dispatch(engine, config, now=start)
    assert (down.sent, down.retrying, down.failed) == (0, 2, 0)
    with engine.connect() as conn:
        rows = conn.execute(select(O.c.status, O.c.attempts, O.c.next_attempt_at)).all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert all(r.next_attempt_at >= start + timedelta(seconds=59) for r in rows)
    # Before the backoff is over nothing is tried; a second failure doubles the wait.
    assert dispatch(engine, config, now=start + timedelta(seconds=30)).retrying == 0
    assert dispatch(engine, config, now=start + timedelta(seconds=61)).retrying == 2
    with engine.connect() as conn:
        waits = conn.execute(select(O.c.next_attempt_at)).scalars().all()
    assert all(w >= start + timedelta(seconds=61 + 119) for w in waits)
    # The server comes back: the notices are delivered, nothing lost, nothing twice.
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = dispatch(engine, config, now=start + timedelta(minutes=10))
    finally:
        controller.stop()
    assert (up.sent, up.retrying, up.failed) == (2, 0, 0)
    assert len(handler.messages) == 2
    with engine.connect() as conn:
        assert conn.execute(select(O.c.status)).scalars().all() == ["sent", "sent"]


def test_after_the_last_try_a_message_is_failed_but_kept(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)
    sweep(engine, policies, d("2026-05-18"), channels=Channels(email=True))
    config = dispatch_config(free_port(), max_attempts=2, backoff_seconds=1)
    start = now_utc()
    dispatch(engine, config, now=start)
    final = dispatch(engine, config, now=start + timedelta(seconds=5))
    assert final.failed == 1
    with engine.connect() as conn:
        row = conn.execute(select(O)).one()
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.last_error
    # An operator can requeue it; the row was never lost.
    with engine.begin() as conn:
        conn.execute(update(O).values(status="pending", attempts=0))


def test_webhook_gets_one_json_post_per_step(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _child_with_name(staff)
        result = sweep(engine, policies, d("2026-05-18"), channels=Channels(webhook=True))
        assert result.outbox == 1
        config = DispatchConfig(
            base_url="https://x.test", webhook_url=f"http://127.0.0.1:{server.server_port}/hook"
        )
        assert dispatch(engine, config).sent == 1
    finally:
        server.shutdown()
    assert len(received) == 1
    hook = received[0]
    assert (hook["child_reference"], hook["step"], hook["due_on"]) == (
        "C-0777",
        "before_5",
        "2026-05-26",
    )
    assert NAME[0] not in json.dumps(hook) and DOB not in json.dumps(hook)


def test_in_app_inbox_and_read(engine: Engine, staff: Staff, policies: Policies) -> None:
    first_review_child(staff.sw)
    sweep(engine, policies, d("2026-05-18"))  # before_5 is sent only if swept on its day
    sweep(engine, policies, d("2026-05-22"))
    mine = staff.sw.get("/notifications").json()
    assert [(n["step"], n["child_reference"], n["due_on"]) for n in mine] == [
        ("before_1", "C-0001", "2026-05-26"),
        ("before_5", "C-0001", "2026-05-26"),
    ]
    assert all(n["read_at"] is None and "C-0001" in n["message"] for n in mine)
    assert staff.tm.get("/notifications").json() == []
    first = mine[0]["id"]
    # Someone else's notification is not theirs to see or mark.
    assert staff.tm.post(f"/notifications/{first}/read").status_code == 404
    marked = staff.sw.post(f"/notifications/{first}/read")
    assert marked.status_code == 200 and marked.json()["read_at"]
    unread = staff.sw.get("/notifications?unread=true").json()
    assert [n["id"] for n in unread] == [mine[1]["id"]]
    assert staff.sw.client.get("/api/v1/notifications").status_code == 401


def test_morning_digest_once_per_person_per_day(
    engine: Engine, staff: Staff, policies: Policies, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    _child_with_name(staff)
    sweep(engine, policies, d("2026-05-27"))
    assert queue_digests(engine, d("2026-05-27"), base_url="https://x.test") == 2
    assert queue_digests(engine, d("2026-05-27"), base_url="https://x.test") == 0
    dispatch(engine, dispatch_config(controller.port))
    subjects = sorted((r[0], m["Subject"]) for r, m in inbox.messages)
    assert [s[0] for s in subjects] == ["sw.north@example.test", "tm.north@example.test"]
    for _, message in inbox.messages:
        body = message.get_payload(decode=True).decode()
        assert "C-0777" in body and NAME[0] not in body and DOB not in body
