"""Benchmark agenda building: 500 children and a 6-month forward planner.

Not a test. It records N children (default 500) with journeys spread over the cohorts the
panel tracks (adoption plans, placed with parents for over a year, looked after for over a
year without an approved long-term plan, SGO plans, care proceedings) plus accepted
referrals for every meeting, straight into the database, then measures:

* ``pure``: cohort membership (set-based reads, ``services.cohorts``) and placing within
  capacity for every meeting of the 6-month planner;
* ``service``: ``PanelService.build_agenda`` for every meeting of the planner, each one write
  transaction that loads the candidates, places them, writes the items and rolls the
  overflow (what an administrator's click does).

    python benchmarks/bench_agenda.py                          # SQLite temp file, Wirral preset
    python benchmarks/bench_agenda.py --panel torbay --children 500
    python benchmarks/bench_agenda.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import states  # noqa: E402
from panels import agenda as agenda_builder  # noqa: E402
from panels import cohorts as cohort_rules  # noqa: E402
from panels.config import load_panel  # noqa: E402
from panels.models import MEETINGS as M  # noqa: E402
from panels.models import REFERRALS as R  # noqa: E402
from panels.service import PanelService  # noqa: E402
from services.clock import now_utc, today  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine, read_connection  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.models import CHILDREN as C  # noqa: E402
from services.models import JOURNEYS as J  # noqa: E402
from services.users import create_user, load_principal  # noqa: E402

MIX = (  # journey type, state, share of children
    ("adoption", "placement_order_granted", 0.25),
    ("placed_with_parents", "placed", 0.2),
    ("permanence_planning", "plan_recorded", 0.3),
    ("sgo", "assessment_in_progress", 0.15),
    ("care_proceedings", "ico_made", 0.1),
)


def seed(engine: Engine, n: int, panel: PanelService, admin_id: int) -> None:
    """N children with journeys, and 8 accepted referrals for each planned meeting."""
    stamp = now_utc()
    start = today() - timedelta(days=500)
    children = [
        {
            "reference": f"B-{i:05d}",
            "given_name": "Bench",
            "family_name": "Child",
            "date_of_birth": date(2015, 1, 1),
            "looked_after_since": start,
            "legal_status": "care_order",
            "team": f"team{i % 8}",
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(C), children)
        ids = [r.id for r in conn.execute(text("SELECT id FROM child ORDER BY id"))]
        journeys = []
        cut = 0
        for jtype, state, share in MIX:
            count = round(share * n)
            for child_id in ids[cut : cut + count]:
                journeys.append(
                    {
                        "child_id": child_id,
                        "type": jtype,
                        "state": state,
                        "status": "active",
                        "version": 1,
                        "definition_version": 1,
                        "started_on": start,
                        "data": {"placed_on": start.isoformat()},
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
            cut += count
        conn.execute(insert(J), journeys)
        sgo = [
            r
            for r in conn.execute(
                text("SELECT id, child_id FROM journey WHERE type = 'sgo' ORDER BY id")
            )
        ]
        meetings = list(conn.execute(select(M.c.id, M.c.meeting_date).order_by(M.c.meeting_date)))
        referrals = []
        for k, meeting in enumerate(meetings):
            for j in sgo[k * 8 % len(sgo) :][:8]:
                referrals.append(
                    {
                        "panel": panel.key,
                        "meeting_id": meeting.id,
                        "journey_id": j.id,
                        "child_id": j.child_id,
                        "decision_type": panel.config.decision_types[0].key,
                        "status": "accepted",
                        "referred_by": admin_id,
                        "referred_on": start,
                        "pack_due_on": meeting.meeting_date,
                        "checklist": {},
                        "documents": [],
                        "funding": {},
                        "history": [],
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
        if referrals:
            conn.execute(insert(R), referrals)


def bench_database(url: str | None, name: str) -> tuple[str, str | None]:
    """The database to run in: a fresh SQLite temp file when ``url`` is None; on PostgreSQL
    a private schema (returned, to drop afterwards), so the benchmark never touches anyone's
    tables."""
    if url is None:
        folder = tempfile.mkdtemp(prefix=f"{name}-")
        return f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}", None
    if not url.startswith("postgresql"):
        return url, None
    schema = f"{name}_{os.getpid()}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    scoped = (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    return scoped, schema


def drop_bench_schema(url: str | None, schema: str | None) -> None:
    """Drop the private schema ``bench_database`` made (nothing on SQLite)."""
    if url is None or schema is None:
        return
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--panel", default="wirral")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url, schema = bench_database(args.database_url, "bench_agenda")
    engine = make_engine(url)
    upgrade(engine)
    config = load_panel(args.panel)
    settings = Settings(database_url=url, environment="test")
    panel = PanelService(engine, states.build_registry(), config, settings.policy())
    admin_id = create_user(
        engine, username=f"bench.admin.{os.getpid()}", password="x" * 12, roles=["panel_admin"]
    )
    principal = load_principal(engine, admin_id)
    assert principal is not None
    planner = panel.generate(principal, today() + timedelta(days=1))
    seed(engine, args.children, panel, admin_id)
    dates = [m.meeting_date for m in planner]

    # Cohort membership (set-based reads, services.cohorts) and placing for each meeting.
    takes = {s for p in config.parts for s in p.takes if s != "referrals"}
    best = float("inf")
    placed = rolled = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with read_connection(engine) as conn:
            next_due = cohort_rules.load_next_due(conn)
        placed = rolled = 0
        for on in dates:
            with read_connection(engine) as conn:
                members = cohort_rules.members(conn, takes, on, next_due)
            candidates: list[Any] = [
                agenda_builder.Candidate(
                    part=p.key,
                    source=m.cohort,
                    child_id=m.child_id,
                    journey_id=m.journey_id,
                    next_due=m.next_due,
                    order=m.child_id,
                )
                for m in members
                for p in config.parts
                if m.cohort in p.takes
            ]
            built = agenda_builder.build_agenda(config.parts, candidates)
            placed += sum(len(p.items) for p in built.parts)
            rolled += len(built.rolled)
        best = min(best, time.perf_counter() - t0)
    print(
        f"database={engine.dialect.name} panel={args.panel} children={args.children} "
        f"meetings={len(dates)} ({dates[0]} to {dates[-1]})"
    )
    print(
        f"pure:    {best * 1000:8.1f} ms for the whole planner "
        f"({placed} items placed, {rolled} rolled; best of {args.repeat})"
    )

    # Service: build every meeting's agenda through PanelService, one transaction each.
    t0 = time.perf_counter()
    items = 0
    for m in planner:
        out = panel.build_agenda(m.id, principal, as_of=today())
        items += sum(len(p.items) for p in out.parts)
    elapsed = time.perf_counter() - t0
    print(
        f"service: {elapsed * 1000:8.1f} ms for {len(planner)} agendas "
        f"({elapsed * 1000 / len(planner):.1f} ms each, {items} items listed)"
    )
    engine.dispose()
    drop_bench_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
