"""Benchmark the panel tracker page: 500 children, rendered as HTML for a signed-in browser.

Not a test. It records N children (default 500) with journeys over the panel's cohorts
(the agenda benchmark's mix), a referral to the panel and two open deadlines each, so every
child is a row of the tracker. It then serves the real app with uvicorn on loopback, signs
in through the sign-in page as the panel administrator, and times ``GET /panel/tracker``
end to end from an HTTP client (session lookup, tracker query, template, transfer):

    python benchmarks/bench_tracker_page.py                     # SQLite temp file
    python benchmarks/bench_tracker_page.py --children 500 --requests 50
    python benchmarks/bench_tracker_page.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Target (issue 5): under 300 ms for 500 children on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx2  # noqa: E402
import uvicorn  # noqa: E402
from bench_agenda import bench_database, drop_bench_schema  # noqa: E402
from bench_agenda import seed as seed_children  # noqa: E402
from sqlalchemy import Engine, insert, select  # noqa: E402

import states  # noqa: E402
from app.main import create_app  # noqa: E402
from panels.config import load_panel  # noqa: E402
from panels.models import MEETINGS as M  # noqa: E402
from panels.models import REFERRALS as R  # noqa: E402
from panels.service import PanelService  # noqa: E402
from services.clock import now_utc, today  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.models import DEADLINES as D  # noqa: E402
from services.models import JOURNEYS as J  # noqa: E402
from services.users import create_user, load_principal  # noqa: E402

PASSWORD = "bench-password-1"


def seed_tracker(engine: Engine, panel: PanelService, admin_id: int) -> None:
    """A referral to the first meeting and two open deadlines for every journey without one."""
    stamp = now_utc()
    with engine.begin() as conn:
        meeting = conn.execute(select(M.c.id, M.c.meeting_date).order_by(M.c.meeting_date)).first()
        assert meeting is not None, "generate the planner first"
        referred = set(conn.execute(select(R.c.journey_id)).scalars())
        journeys = conn.execute(select(J.c.id, J.c.child_id)).all()
        conn.execute(
            insert(R),
            [
                {
                    "panel": panel.key,
                    "meeting_id": meeting.id,
                    "journey_id": j.id,
                    "child_id": j.child_id,
                    "decision_type": panel.config.decision_types[0].key,
                    "status": "awaiting_pack",
                    "referred_by": admin_id,
                    "referred_on": today(),
                    "pack_due_on": meeting.meeting_date,
                    "checklist": {},
                    "documents": [],
                    "funding": {},
                    "history": [],
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for j in journeys
                if j.id not in referred
            ],
        )
        conn.execute(
            insert(D),
            [
                {
                    "journey_id": j.id,
                    "child_id": j.child_id,
                    "kind": kind,
                    "ref": "",
                    "due_on": today() + timedelta(days=(j.id * 7) % 60 - offset),
                    "owner_role": "social_worker",
                    "status": "open",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for j in journeys
                for kind, offset in (("review", 20), ("permanence_plan", 0))
            ],
        )


def serve(settings: Settings) -> tuple[uvicorn.Server, str]:
    """The app on a free loopback port in a background thread."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def sign_in(base: str, username: str) -> httpx2.Client:
    """A client signed in through the sign-in page."""
    client = httpx2.Client(base_url=base, timeout=30)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    response = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code in (200, 303), response.status_code
    return client


def main() -> None:
    """Seed, serve, sign in, time the page and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--panel", default="leicestershire")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url, schema = bench_database(args.database_url, "bench_tracker")
    os.environ["PERMANENCE_PANEL"] = args.panel
    settings = Settings(
        database_url=url,
        environment="test",
        log_level="WARNING",
        password_time_cost=1,
        password_memory_kib=8,
        password_parallelism=1,
        # httpx2, unlike a browser, will not send a Secure cookie to http://127.0.0.1.
        session_cookie_secure=False,
    )
    engine = make_engine(url)
    upgrade(engine)
    panel = PanelService(engine, states.build_registry(), load_panel(args.panel), settings.policy())
    admin_id = create_user(engine, username="bench.admin", password=PASSWORD, roles=["panel_admin"])
    principal = load_principal(engine, admin_id)
    assert principal is not None
    panel.generate(principal, today() + timedelta(days=1))
    seed_children(engine, args.children, panel, admin_id)
    seed_tracker(engine, panel, admin_id)
    rows = len(panel.tracker(principal))

    server, base = serve(settings)
    try:
        client = sign_in(base, "bench.admin")
        first = client.get("/panel/tracker")
        assert first.status_code == 200, first.status_code
        html_rows = first.text.count('<tr class="govuk-table__row">') - 1
        timings = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get("/panel/tracker")
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"database={engine.dialect.name} children={args.children} tracker rows={rows} "
            f"(table rows in page={html_rows}) page={len(first.content) / 1024:.0f} KiB"
        )
        print(
            f"GET /panel/tracker over {args.requests} requests: median "
            f"{statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"min {timings[0]:.1f} ms, max {timings[-1]:.1f} ms (target < 300 ms)"
        )
    finally:
        server.should_exit = True
        engine.dispose()
        drop_bench_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
