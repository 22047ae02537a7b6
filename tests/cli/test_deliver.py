"""``permanence deliver``: the outbox, delivered by a real subprocess to a real SMTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from notifications.policy import Policies
from notifications.sweep import Channels, sweep
from tests.conftest import Inbox, Staff
from tests.reminder_support import d, first_review_child, set_email

PERMANENCE = [sys.executable, "-m", "app.cli"]


def test_deliver_sends_what_remind_no_deliver_left_in_the_outbox(
    database_url: str,
    engine: Engine,
    staff: Staff,
    policies: Policies,
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    for api in (staff.sw, staff.tm, staff.sm, staff.sd):
        set_email(engine, api.user_id, f"{api.username}@example.test")
    first_review_child(staff.sw, "C-0777", start="2026-04-24")
    queued = sweep(engine, policies, d("2026-05-27"), channels=Channels(email=True)).outbox
    assert queued > 0
    assert inbox.messages == []
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": database_url,
        "PERMANENCE_LOG_FORMAT": "json",
        "PERMANENCE_SMTP_HOST": "127.0.0.1",
        "PERMANENCE_SMTP_PORT": str(controller.port),
    }
    run = subprocess.run(
        [*PERMANENCE, "deliver", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"delivery": {"sent": queued, "retrying": 0, "failed": 0}}
    assert len(inbox.messages) == queued
    assert {rcpt[0] for rcpt, _ in inbox.messages} >= {"sw.north@example.test"}
    # Delivered once: a second run has nothing to send.
    again = subprocess.run(
        [*PERMANENCE, "deliver"], capture_output=True, text=True, env=env, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "delivery: 0 sent, 0 to retry, 0 failed"
    assert len(inbox.messages) == queued
