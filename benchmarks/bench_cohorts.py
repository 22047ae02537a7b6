"""Benchmark (not a test): every cohort at national scale, and the cohort pages at that size
(issue 13 item 11, issue 12 item 4).

One command builds a replica of England's 84,000 looked-after children in a PostgreSQL
schema of its own, times the cohorts and the pages on it, and drops the schema (``--keep``
keeps it; ``--schema NAME`` reuses a kept one and skips the load):

    .venv/bin/python benchmarks/bench_cohorts.py
    .venv/bin/python benchmarks/bench_cohorts.py --keep          # prints the schema's name
    .venv/bin/python benchmarks/bench_cohorts.py --schema NAME --requests 20
    # options: --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    #          --children 84000 --base 2000 --phase compute|pages|both --json out.json

The replica: a generated 2,000-child return (``ssda903_generate.py``) imported through the
service (journeys and deadlines derived as the importer derives them), then its children,
care records, journeys and deadlines copied ``children / base`` times with their ids offset
(``INSERT ... SELECT ... CROSS JOIN generate_series``). Every cohort then holds exactly that
many times the 2,000-child count. The national return the generator writes has the same
number of episodes; its children are more varied than 42 copies of 2,000.

Measured:

* ``services.cohorts.compute(conn, day)`` for every cohort, best of three (target 2 s);
* the daily snapshot the scheduler stores (``refresh_cohort_snapshot``), once;
* through the real app over HTTP (uvicorn on loopback, a panel administrator signed in):
  ``/panel/cohorts`` (every cohort counted) and a cohort page ``/panel/cohorts/<name>``
  (its first page of children), each ``--requests`` times after 3 warm-ups, p50/p95/max,
  read from that snapshot; and each once as of another date (computed live, not a target).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_import  # noqa: E402
import bench_transitions  # noqa: E402
import httpx2  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services import cohorts  # noqa: E402
from services.care_record.importer import import_return  # noqa: E402
from services.clock import today  # noqa: E402
from services.cohort_snapshot import refresh_cohort_snapshot  # noqa: E402
from services.db import make_engine, read_connection  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.users import create_user  # noqa: E402
from states.ssda903 import CollectionYear  # noqa: E402

PASSWORD = "bench-cohorts-password-1"
ADMIN = "bench.cohorts.admin"
COMPUTE_TARGET_S = 2.0
PAGE_TARGET_MS = 200.0

# The tables the cohorts read, parents before children: each copy's ids are offset by the
# table's largest id, and so are the columns that point at a copied table.
_COPIED = ("child", "care_child", "care_episode", "care_adoption_decision", "journey", "deadline")
_POINTS_AT = {
    "child_pk": "child",
    "child_id": "child",
    "journey_id": "journey",
}
# Unique strings: each copy gets its own (``-k`` appended).
_SUFFIXED = {("child", "reference"), ("care_child", "return_child_id")}


def _url(pg_url: str, schema: str) -> str:
    return (
        make_url(pg_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _load(engine: Engine, base: int, copies: int, year: CollectionYear, seed: int) -> None:
    """The base return imported through the service, then copied ``copies - 1`` times."""
    work = Path(tempfile.mkdtemp(prefix="bench-cohorts-"))
    t = time.perf_counter()
    bench_import.generator().generate(work, children=base, seed=seed, year=year)
    report = import_return(engine, sorted(work.glob("*.csv")), as_of=year.last_day)
    print(
        f"imported {base:,} children in {time.perf_counter() - t:.1f} s "
        f"({report.children_created:,} created, {report.children_rejected:,} rejected)",
        flush=True,
    )
    if copies <= 1:
        return
    t = time.perf_counter()
    with engine.begin() as conn:
        offsets: dict[str, int] = {}
        for table in _COPIED:
            offsets[table] = int(
                conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
            )
        for table in _COPIED:
            columns = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                        " current_schema() AND table_name = :t ORDER BY ordinal_position"
                    ),
                    {"t": table},
                )
            ]
            exprs = []
            for col in columns:
                quoted = f'"{col}"'
                if col == "id":
                    exprs.append(f"{quoted} + g * {offsets[table]}")
                elif col in _POINTS_AT and _POINTS_AT[col] in offsets and col != table:
                    exprs.append(f"{quoted} + g * {offsets[_POINTS_AT[col]]}")
                elif (table, col) in _SUFFIXED:
                    exprs.append(f"{quoted} || '-' || g")
                else:
                    exprs.append(quoted)
            names = ", ".join(f'"{c}"' for c in columns)
            conn.execute(
                text(
                    f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM {table}"
                    f" CROSS JOIN generate_series(1, {copies - 1}) AS g"
                )
            )
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    with read_connection(engine) as conn:
        sizes = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in _COPIED
        }
    print(
        f"copied {copies - 1} times in {time.perf_counter() - t:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items()),
        flush=True,
    )


def _compute(engine: Engine, on: date) -> dict[str, Any]:
    """Every cohort as of one date, best of three runs."""
    best = float("inf")
    runs = []
    sizes: dict[str, int] = {}
    for _ in range(3):
        t = time.perf_counter()
        with read_connection(engine) as conn:
            found = cohorts.compute(conn, on)
        runs.append(time.perf_counter() - t)
        best = min(best, runs[-1])
        sizes = {name: len(members) for name, members in found.items()}
    print(
        f"all cohorts as of {on}: best {best:.2f} s of "
        + ", ".join(f"{r:.2f}" for r in runs)
        + f" (target {COMPUTE_TARGET_S:g} s; load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    print("  " + ", ".join(f"{n} {c:,}" for n, c in sizes.items()), flush=True)
    return {"best_s": round(best, 3), "runs_s": [round(r, 3) for r in runs], "sizes": sizes}


def _sign_in(base: str) -> httpx2.Client:
    client = httpx2.Client(base_url=base, timeout=120)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    response = client.post(
        "/sign-in", data={"username": ADMIN, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code in (200, 303), response.status_code
    return client


def _time_page(client: httpx2.Client, path: str, requests: int) -> dict[str, Any]:
    for _ in range(3):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
    timings: list[float] = []
    size = 0
    for _ in range(requests):
        t0 = time.perf_counter()
        r = client.get(path)
        timings.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
        size = max(size, len(r.content))
    out = {
        "requests": requests,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(bench_transitions.percentile(sorted(timings), 95), 1),
        "max_ms": round(max(timings), 1),
        "kib": round(size / 1024, 1),
    }
    print(
        f"  {path}: p50 {out['p50_ms']:.0f} ms, p95 {out['p95_ms']:.0f} ms, max "
        f"{out['max_ms']:.0f} ms, {out['kib']:.0f} KiB ({requests} requests; target p95 "
        f"{PAGE_TARGET_MS:g} ms; load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return out


def _once(client: httpx2.Client, path: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        status = client.get(path).status_code
    except httpx2.TimeoutException:
        status = 0
    ms = (time.perf_counter() - t0) * 1000
    print(f"  {path} (live, once): {ms:.0f} ms, status {status}", flush=True)
    return {"status": status, "ms": round(ms, 1)}


def _pages(url: str, engine: Engine, requests: int, cohort: str, past: date) -> dict[str, Any]:
    """The snapshot as the daily job stores it, then the two pages over HTTP."""
    with read_connection(engine) as conn:
        exists = conn.execute(
            text("SELECT 1 FROM app_user WHERE username = :u"), {"u": ADMIN}
        ).first()
    if exists is None:
        create_user(engine, username=ADMIN, password=PASSWORD, roles=["panel_admin"])
    t = time.perf_counter()
    refresh_cohort_snapshot(engine, today())
    snapshot_s = time.perf_counter() - t
    print(f"daily snapshot of every cohort stored in {snapshot_s:.1f} s", flush=True)
    port = bench_transitions.free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-cohorts-{port}.log"
    env = {
        "PERMANENCE_DATABASE_URL": url,
        "PERMANENCE_SECRET_KEY": secrets.token_urlsafe(32),
        "PERMANENCE_ENVIRONMENT": "test",
        "PERMANENCE_SESSION_COOKIE_SECURE": "false",  # httpx2 sends no Secure cookie to http
        "PERMANENCE_LOG_LEVEL": "WARNING",
    }
    server_args = argparse.Namespace(workers=1, uvicorn_arg=None)
    proc = bench_transitions.start_server(
        bench_transitions.SERVICE_APP, env, port, log_path, server_args
    )
    out: dict[str, Any] = {"snapshot_s": round(snapshot_s, 2)}
    try:
        client = _sign_in(f"http://127.0.0.1:{port}")
        out["/panel/cohorts"] = _time_page(client, "/panel/cohorts", requests)
        page = f"/panel/cohorts/{cohort}"
        out[page] = _time_page(client, page, requests)
        out[f"{page}?as_of={past}"] = _once(client, f"{page}?as_of={past}")
        out[f"/panel/cohorts?as_of={past}"] = _once(client, f"/panel/cohorts?as_of={past}")
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build (or reuse) the replica, time the cohorts and the pages."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--children", type=int, default=84_000)
    parser.add_argument("--base", type=int, default=2_000, help="children imported, then copied")
    parser.add_argument("--seed", type=int, default=903)
    parser.add_argument("--year", default="2025/26")
    parser.add_argument("--phase", choices=("compute", "pages", "both"), default="both")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--cohort", default="looked_after_12m_no_plan", help="the cohort page timed (the largest)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema (its name is printed)")
    parser.add_argument("--schema", help="a schema kept by an earlier --keep run: skip the load")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    year = CollectionYear.parse(args.year)
    on = year.last_day + timedelta(days=91)
    schema = args.schema or f"bench_cohorts_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if not args.schema:
        admin = make_engine(args.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    url = _url(args.pg_url, schema)
    engine = make_engine(url)
    results: dict[str, Any] = {"children": args.children, "schema": schema}
    try:
        if not args.schema:
            upgrade(engine)
            copies = max(1, args.children // args.base)
            _load(engine, args.base, copies, year, args.seed)
        print(f"uptime: {os.popen('uptime').read().strip()}", flush=True)
        if args.phase in ("compute", "both"):
            results["compute"] = _compute(engine, on)
        if args.phase in ("pages", "both"):
            results["pages"] = _pages(url, engine, args.requests, args.cohort, on)
        print(f"uptime: {os.popen('uptime').read().strip()}", flush=True)
    finally:
        engine.dispose()
        if args.keep or args.schema:
            print(f"kept schema {schema} (drop it with DROP SCHEMA {schema} CASCADE)")
        else:
            admin = make_engine(args.pg_url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
