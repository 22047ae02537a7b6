"""Several app instances on one PostgreSQL: two ``permanence serve --workers 2`` processes and
two ``permanence scheduler`` processes, on loopback.

* Eight clients racing one journey version across both instances: exactly one applied.
* Both schedulers sweep at start: every due notice is recorded once (advisory lock and
  unique keys), and its email queued once.
* Delivery shared by both schedulers, one of them killed (SIGKILL) in the middle of an SMTP
  transaction, with messages it had claimed still unsent: every message arrives, none twice.

The loopback SMTP server holds every message at a gate until both schedulers are delivering,
then holds the first scheduler's third message unanswered and kills that scheduler. A message
counts as delivered once the server has answered it (the dispatcher never saw an answer for
the held one, so sending it again is not a repeat).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx2
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.policy import Policies
from notifications.sweep import Channels, sweep
from services.config import Settings
from tests.conftest import Staff, free_port
from tests.reminder_support import set_email
from workflow.calendar import today_london

CLIENTS = 8
ROUNDS = 3
CHILDREN = 6
SENDER_A = "scheduler-a@permanence.test"
SENDER_B = "scheduler-b@permanence.test"
LEASE_SECONDS = 20  # longer than the gate holds a claimed batch, so no claim is taken early


class GatedInbox:
    """An SMTP handler that holds messages at a gate, then holds one sender's n-th message
    unanswered (the test kills that sender meanwhile); it keeps the messages it answered."""

    def __init__(self, hold_sender: str, hold_nth: int) -> None:
        self.hold_sender = hold_sender
        self.hold_nth = hold_nth
        self.received: list[Any] = []
        self.waiting: set[str] = set()
        self.held = threading.Event()
        self._counts: Counter[str] = Counter()
        self._gate: asyncio.Event | None = None

    def _gate_event(self) -> asyncio.Event:
        if self._gate is None:
            self._gate = asyncio.Event()
        return self._gate

    def open(self) -> None:
        """Let messages through (call in the server's loop)."""
        self._gate_event().set()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        sender = envelope.mail_from
        self.waiting.add(sender)
        await self._gate_event().wait()
        self._counts[sender] += 1
        if sender == self.hold_sender and self._counts[sender] == self.hold_nth:
            self.held.set()
            await asyncio.Event().wait()  # never answered: the sender dies waiting
        self.received.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _ready(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx2.HTTPError:
        return False


def _race(ports: list[int], path: str, body: dict[str, Any], headers: dict[str, str]) -> list[int]:
    """POST ``body`` from CLIENTS threads released together, alternating between the
    instances; the status codes."""
    barrier = threading.Barrier(CLIENTS)
    codes: list[int] = []

    def post(port: int) -> None:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            barrier.wait()
            codes.append(client.post(path, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=(ports[i % 2],)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return codes


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``permanence`` commands as processes of their own; all stopped afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, env: dict[str, str], *argv: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *argv],
            cwd=tmp_path,  # no .env of the developer's
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_two_instances_and_two_schedulers_on_one_database(
    engine: Engine,
    settings: Settings,
    staff: Staff,
    policies: Policies,
    spawn: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "several app instances share a PostgreSQL database; SQLite keeps one writer "
            "process (permanence serve refuses --workers above 1 on it)"
        )
    for person in (staff.sw, staff.tm, staff.tm_south, staff.sm, staff.sd):
        set_email(engine, person.user_id, f"{person.username}@example.test")
    # Children whose first review is long overdue: reminders and the whole escalation ladder.
    looked_after = (today_london() - timedelta(days=60)).isoformat()
    for i in range(CHILDREN):
        child = staff.sw.create_child(f"C-{i:04d}", looked_after_since=looked_after)
        staff.sw.start(child["id"], "permanence_planning")
    # The race's journey has nothing due: its events change no notice the sweeps record.
    raced = staff.sw.create_child("C-RACE", looked_after_since=today_london().isoformat())
    journey = staff.sw.start(raced["id"], "placed_with_parents")
    due = sweep(
        engine, policies, today_london(), channels=Channels(email=True, webhook=False), dry_run=True
    )
    assert len(due.notices) >= 4 * CHILDREN

    inbox = GatedInbox(SENDER_A, hold_nth=3)
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        common = {
            "PERMANENCE_DATABASE_URL": settings.database_url,
            "PERMANENCE_SECRET_KEY": settings.secret_key,
            "PERMANENCE_LOG_FORMAT": "json",
            "PERMANENCE_LOG_LEVEL": "WARNING",
            "PERMANENCE_DB_POOL_SIZE": "3",
            "PERMANENCE_BASE_URL": "https://permanence.example.test",
        }
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            spawn(f"serve-{n}", common, "serve", "--workers", "2", "--port", str(port))
        _wait_for("both instances", lambda: all(_ready(p) for p in ports), timeout=90)

        # Eight clients, four on each instance, racing one version: one applied, seven stale.
        headers = dict(staff.sw.headers or {})
        for round_ in range(ROUNDS):
            body = {
                "event": "hold_review",
                "expected_version": journey["version"],
                "occurred_on": today_london().isoformat(),
                "data": {"notes": f"round {round_}"},
            }
            codes = _race(ports, f"/api/v1/journeys/{journey['id']}/events", body, headers)
            assert Counter(codes) == Counter({200: 1, 409: CLIENTS - 1}), codes
            journey = staff.sw.reload(journey)
            assert journey["version"] == round_ + 2
        history = staff.sw.history(journey)
        assert [h["event"] for h in history] == ["start"] + ["hold_review"] * ROUNDS

        # The schedulers start now, so their first claims are fresh when the gate opens:
        # the lease outlasts the wait, and no claim is taken over while its holder lives.
        schedulers = {
            sender: spawn(
                f"scheduler-{sender[10]}",
                {
                    **common,
                    "PERMANENCE_SMTP_HOST": "127.0.0.1",
                    "PERMANENCE_SMTP_PORT": str(smtp.port),
                    "PERMANENCE_SMTP_FROM": sender,
                    "PERMANENCE_SMTP_TIMEOUT_SECONDS": "60",
                    "PERMANENCE_DISPATCH_INTERVAL_SECONDS": "1",
                    "PERMANENCE_NOTIFY_BATCH_SIZE": "5",
                    "PERMANENCE_NOTIFY_LEASE_SECONDS": str(LEASE_SECONDS),
                    "PERMANENCE_NOTIFY_BACKOFF_SECONDS": "1",
                },
                "scheduler",
            )
            for sender in (SENDER_A, SENDER_B)
        }
        # Both schedulers swept at start and are now each delivering their own claimed batch.
        _wait_for("both schedulers at the SMTP gate", lambda: inbox.waiting >= {SENDER_A, SENDER_B})
        with engine.connect() as conn:
            notices = conn.execute(
                select(N.c.deadline_id, N.c.step, N.c.due_on, N.c.recipient_id)
            ).all()
        assert len(notices) == len(set(notices))
        expected = {(n.deadline_id, n.step, n.due_on, n.recipient_id) for n in due.notices}
        assert expected <= set(notices)

        smtp.loop.call_soon_threadsafe(inbox.open)
        assert inbox.held.wait(timeout=60), "the first scheduler never sent a third message"
        os.killpg(schedulers[SENDER_A].pid, signal.SIGKILL)
        schedulers[SENDER_A].wait(timeout=10)

        def all_sent() -> bool:
            with engine.connect() as conn:
                unsent = conn.execute(
                    select(func.count()).select_from(O).where(O.c.status != "sent")
                ).scalar_one()
            return unsent == 0

        _wait_for("every message sent", all_sent, timeout=LEASE_SECONDS + 60)
        with engine.connect() as conn:
            outbox = conn.execute(select(O.c.id, O.c.channel, O.c.notice_id)).all()
        ids = [m["Message-ID"] for m in inbox.received]
        repeated = [i for i, count in Counter(ids).items() if count > 1]
        assert repeated == [], f"sent twice: {repeated}"
        assert set(ids) == {f"<outbox.{o.id}@permanence.example.test>" for o in outbox}
        assert {m["From"] for m in inbox.received} == {SENDER_A, SENDER_B}
        assert sum(1 for o in outbox if o.notice_id is not None) >= len(due.notices)
    finally:
        smtp.stop()
