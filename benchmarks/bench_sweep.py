"""Benchmark (not a test): the reminder sweep over 1,000,000 deadlines, and email throughput.

Builds a database with N open deadlines, of which a fraction (default 5%) has a reminder
step falling due on the sweep's day (5 working days before their due date); the rest are
due months ahead. Then times:

* the sweep that finds the due ones and records their notices and outbox rows (one
  transaction), and a second sweep the same day (nothing left to do);
* a dry run (the finding alone);
* email delivery through the dispatcher to a real aiosmtpd server on loopback.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py --db sqlite
    psql -h 127.0.0.1 -U postgres -c 'create database sweepbench'
    .venv/bin/python benchmarks/bench_sweep.py --db postgres \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/sweepbench
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, insert, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifications.channels import SmtpConfig
from notifications.dispatcher import DispatchConfig, dispatch
from notifications.models import OUTBOX as O
from notifications.policy import build_policies
from notifications.sweep import Channels, sweep
from services.db import insert_id, make_engine
from services.migrate import upgrade
from services.models import CHILDREN, JOURNEYS, USERS
from workflow.calendar import add_working_days

AS_OF = date(2026, 6, 10)
TABLES = ("outbox", "notice", "deadline", "journey_event", "journey", "child", "app_user")


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))


def build(engine: Engine, n: int, due_fraction: float, children: int = 1000) -> int:
    """Fill the database; return how many deadlines have a step due on AS_OF."""
    _wipe(engine)
    stamp = datetime.now(UTC)
    with engine.begin() as conn:
        users = []
        for name, role, team in (
            ("sw", "social_worker", "north"),
            ("tm", "team_manager", "north"),
            ("sm", "service_manager", None),
            ("sd", "service_director", None),
        ):
            users.append(
                insert_id(
                    conn.execute(
                        insert(USERS).values(
                            username=name,
                            display_name=name,
                            email=f"{name}@example.test",
                            password_hash="x",
                            roles=[role],
                            team=team,
                            active=True,
                            created_at=stamp,
                        )
                    )
                )
            )
        conn.execute(
            insert(CHILDREN),
            [
                {
                    "id": i + 1,
                    "reference": f"B-{i + 1:06d}",
                    "given_name": "Bench",
                    "family_name": "Child",
                    "date_of_birth": date(2018, 1, 1),
                    "looked_after_since": date(2026, 1, 1),
                    "team": "north",
                    "allocated_social_worker_id": users[0],
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(children)
            ],
        )
        conn.execute(
            insert(JOURNEYS),
            [
                {
                    "id": i + 1,
                    "child_id": i + 1,
                    "type": "care_proceedings",
                    "state": "issued",
                    "status": "active",
                    "version": 1,
                    "definition_version": 1,
                    "started_on": date(2026, 1, 1),
                    "data": {},
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(children)
            ],
        )
    due_day = add_working_days(AS_OF, 5)  # only the 5-day reminder falls due on AS_OF
    rng = random.Random(7)
    due_count = 0
    rows: list[tuple[Any, ...]] = []
    for i in range(n):
        child = i % children + 1
        if rng.random() < due_fraction:
            due_on = due_day
            due_count += 1
        else:
            due_on = AS_OF + timedelta(days=rng.randint(40, 400))
        rows.append((child, child, "court_direction", str(i), due_on, users[0], stamp))
    t = time.perf_counter()
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(
                "COPY deadline (journey_id, child_id, kind, ref, due_on, owner_id, owner_role,"
                " status, created_at, updated_at) FROM STDIN"
            ) as copy:
                for r in rows:
                    copy.write_row((*r[:6], "social_worker", "open", r[6], r[6]))
            raw.commit()
            cur.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
    else:
        stamp_text = stamp.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO deadline (journey_id, child_id, kind, ref, due_on, owner_id,"
                " owner_role, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'social_worker', 'open', ?, ?)",
                [(*r[:4], r[4].isoformat(), r[5], stamp_text, stamp_text) for r in rows],
            )
            conn.exec_driver_sql("ANALYZE")
    print(f"  loaded {n:,} deadlines ({due_count:,} due) in {time.perf_counter() - t:.1f} s")
    return due_count


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """Counts what the SMTP server receives."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def run(url: str, n: int, due_fraction: float, emails: int, reuse: bool = False) -> None:
    """Build, sweep, sweep again, dry-run, and deliver ``emails`` emails."""
    engine = make_engine(url)
    upgrade(engine)
    print(f"{engine.dialect.name}: {url}")
    if reuse:
        # Keep the loaded deadlines; forget what earlier runs recorded. On PostgreSQL
        # TRUNCATE, as a fresh build does: DELETE leaves 50,000 dead index entries under the
        # very keys the next sweep inserts, which made repeated runs slower and erratic.
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE outbox, notice"))
            else:
                conn.execute(text("DELETE FROM outbox"))
                conn.execute(text("DELETE FROM notice"))
            expected = conn.execute(
                text("SELECT count(*) FROM deadline WHERE due_on = :d"),
                {"d": add_working_days(AS_OF, 5)},
            ).scalar_one()
    else:
        expected = build(engine, n, due_fraction)
    policies = build_policies(
        before=[5, 1],
        on_due=True,
        overdue=True,
        escalate=[1, 5, 10],
        statutory_kinds=["first_review", "second_review", "permanence_plan"],
        statutory_escalate=[1, 3, 5],
        overrides={},
    )
    t = time.perf_counter()
    dry = sweep(engine, policies, AS_OF, dry_run=True)
    dry_s = time.perf_counter() - t
    t = time.perf_counter()
    result = sweep(engine, policies, AS_OF, channels=Channels(email=True))
    sweep_s = time.perf_counter() - t
    t = time.perf_counter()
    again = sweep(engine, policies, AS_OF, channels=Channels(email=True))
    again_s = time.perf_counter() - t
    assert len(result.notices) == expected == len(dry.notices), (len(result.notices), expected)
    assert again.notices == []
    print(f"  dry run (find only):          {dry_s:6.2f} s  {len(dry.notices):,} due")
    print(
        f"  sweep (find + record):        {sweep_s:6.2f} s  {len(result.notices):,} notices,"
        f" {result.outbox:,} outbox rows"
    )
    print(f"  second sweep (nothing to do): {again_s:6.2f} s")

    # Email throughput: keep `emails` outbox rows pending, deliver them to aiosmtpd.
    with engine.begin() as conn:
        first = conn.execute(text("SELECT min(id) FROM outbox")).scalar_one()
        conn.execute(update(O).where(O.c.id >= first + emails).values(status="sent"))
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        config = DispatchConfig(
            base_url="http://127.0.0.1:8000",
            smtp=SmtpConfig(host="127.0.0.1", port=controller.port),
        )
        t = time.perf_counter()
        outcome = dispatch(engine, config)
        mail_s = time.perf_counter() - t
    finally:
        controller.stop()
    assert outcome.sent == emails == sink.count, (outcome.sent, sink.count)
    print(f"  email: {emails:,} delivered in {mail_s:.2f} s = {emails / mail_s:,.0f} per second")
    engine.dispose()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--due-fraction", type=float, default=0.05)
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--sqlite-path", default="/tmp/sweepbench.sqlite3")
    parser.add_argument(
        "--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/sweepbench"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the deadlines already loaded")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        run(f"sqlite:///{args.sqlite_path}", args.n, args.due_fraction, args.emails, args.reuse)
    if args.db in ("postgres", "both"):
        run(args.pg_url, args.n, args.due_fraction, args.emails, args.reuse)


if __name__ == "__main__":
    main()
