"""Benchmark journey transitions: straight through the engine, and through the HTTP API.

Not a test. It creates N children, each with a ``placed_with_parents`` journey, and fires the
repeatable internal event ``hold_review`` (which meets the open review deadline and opens the
next one: a state-preserving transition with a guard, a version bump, an audit row and two
deadline writes). Then it measures:

* engine: transitions per second through ``JourneyService.fire`` (engine + storage, no HTTP),
  one thread, for a fixed time after a warm-up;
* http: transitions per second and p50/p99 latency through ``POST /api/v1/journeys/{id}/events``
  under uvicorn with one worker, ``--clients`` concurrent keep-alive connections driven by a
  light asyncio load generator (raw HTTP/1.1), for a fixed time after a warm-up. Each client
  owns its own journeys and sends their current ``expected_version``; any answer other than
  200 counts as an error.

Each phase gets its own fresh set of N journeys. SQLite runs on a temporary file unless
``--database-url`` names a database (PostgreSQL: ``postgresql+psycopg://postgres@host/db``).

    python benchmarks/bench_transitions.py                       # SQLite temp file, both phases
    python benchmarks/bench_transitions.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import floor  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

import states  # noqa: E402
from services.access import Principal  # noqa: E402
from services.auth import issue_token  # noqa: E402
from services.children import create_child  # noqa: E402
from services.clock import today  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine, read_connection  # noqa: E402
from services.journeys import JourneyService  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.models import JOURNEYS as J  # noqa: E402
from services.schemas import ChildCreate  # noqa: E402
from services.teams import add_team, list_teams  # noqa: E402
from services.users import create_user, load_principal  # noqa: E402

JOURNEY_TYPE = "placed_with_parents"
EVENT = "hold_review"
TEAM = "bench"


# -- set-up ----------------------------------------------------------------------------------


@dataclass
class Fixture:
    """The database, the acting social worker and a set of journeys with their versions."""

    engine: Engine
    service: JourneyService
    principal: Principal
    run_id: str
    journeys: list[int] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)


def setup_database(url: str, pool_size: int) -> tuple[Engine, JourneyService, Principal, str]:
    """Migrate, create a social worker for this run, build the service."""
    engine = make_engine(url, pool_size=pool_size)
    upgrade(engine)
    run_id = secrets.token_hex(4)
    if TEAM not in {t.name for t in list_teams(engine)}:
        add_team(engine, TEAM, actor_id=None)
    user_id = create_user(
        engine,
        username=f"bench-{run_id}",
        password=secrets.token_urlsafe(16),
        roles=["social_worker"],
        team=TEAM,
    )
    principal = load_principal(engine, user_id)
    assert principal is not None
    service = JourneyService(engine, states.build_registry(), Settings().policy())
    return engine, service, principal, run_id


def create_journeys(
    engine: Engine, service: JourneyService, principal: Principal, run_id: str, tag: str, n: int
) -> tuple[list[int], dict[int, int]]:
    """N children, each with a placed-with-parents journey started a year ago."""
    started = today() - timedelta(days=365)
    journeys: list[int] = []
    versions: dict[int, int] = {}
    for i in range(n):
        child_id = create_child(
            engine,
            ChildCreate(
                reference=f"B-{run_id}-{tag}-{i:05d}",
                given_name="Bench",
                family_name=f"Child{i}",
                date_of_birth=date(2018, 1, 1),
                looked_after_since=started,
                legal_status="care_order",
            ),
            principal,
        )
        view = service.start(
            child_id, JOURNEY_TYPE, started_on=started, data=None, principal=principal
        )
        journeys.append(view.id)
        versions[view.id] = view.version
    return journeys, versions


def event_date() -> date:
    """The review date every benchmark event carries (same date again is allowed)."""
    return today() - timedelta(days=1)


def db_versions(engine: Engine, journeys: list[int]) -> int:
    """Sum of (version - 1) over ``journeys``: events fired on them since their start."""
    with read_connection(engine) as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(J.c.version - 1), 0)).where(J.c.id.in_(journeys))
        ).scalar_one()
    return int(total)


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


# -- engine phase ----------------------------------------------------------------------------


def bench_loop(
    fire_one: Callable[[int, int], int],
    journeys: list[int],
    versions: dict[int, int],
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """Call ``fire_one(journey, version) -> new version`` round-robin over the journeys in
    one thread; time the measured window."""
    latencies: list[float] = []
    errors = 0
    i = 0
    n = len(journeys)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    measured = 0
    cpu_at_measure: float | None = None
    while True:
        t0 = time.perf_counter()
        if t0 >= stop_at:
            break
        if cpu_at_measure is None and t0 >= measure_from:
            cpu_at_measure = time.process_time()
        jid = journeys[i % n]
        i += 1
        try:
            versions[jid] = fire_one(jid, versions[jid])
            ok = True
        except Exception as exc:  # count and carry on
            ok = False
            print(f"error on journey {jid}: {exc!r}", file=sys.stderr)
        t1 = time.perf_counter()
        if t0 >= measure_from:
            if ok:
                measured += 1
                latencies.append(t1 - t0)
            else:
                errors += 1
    cpu = time.process_time() - (cpu_at_measure or 0.0)
    latencies.sort()
    return {
        "cpu_us_per_transition": cpu / max(1, measured + errors) * 1e6,
        "transitions": measured,
        "seconds": duration,
        "per_second": measured / duration,
        "errors": errors,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "total_fired": i,
    }


def bench_engine(
    service: JourneyService,
    principal: Principal,
    journeys: list[int],
    versions: dict[int, int],
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """``JourneyService.fire`` in one thread."""
    on = event_date()
    data = {"notes": "benchmark review"}

    def fire_one(jid: int, version: int) -> int:
        view = service.fire(
            jid,
            event=EVENT,
            expected_version=version,
            occurred_on=on,
            data=data,
            principal=principal,
        )
        return view.version

    return bench_loop(fire_one, journeys, versions, warmup, duration)


def bench_raw(
    url: str,
    actor_id: int,
    journeys: list[int],
    versions: dict[int, int],
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """The floor (:mod:`floor`): the same transaction in raw SQL through the driver, one
    thread."""
    on = event_date()
    if url.startswith("sqlite"):
        conn: Any = floor.sqlite_connect(url.split("///", 1)[1])

        def fire_one(jid: int, version: int) -> int:
            floor.sqlite_fire(conn, jid, version, on, actor_id)
            return version + 1
    else:
        import psycopg

        conn = psycopg.connect(floor.pg_conninfo(url), autocommit=True)

        def fire_one(jid: int, version: int) -> int:
            floor.pg_fire(conn, jid, version, on, actor_id)
            return version + 1

    try:
        return bench_loop(fire_one, journeys, versions, warmup, duration)
    finally:
        conn.close()


# -- HTTP phase ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVICE_APP = "app.main:create_app"
BARE_APP = "bare_app:create_app"


def start_server(
    app: str, env_extra: dict[str, str], port: int, log_path: Path, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    """uvicorn with ``--workers`` workers serving the factory ``app``: the service or the
    bare endpoint, with the same options."""
    env = {**os.environ, **env_extra, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'benchmarks'}"}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--no-access-log",
        *(args.uvicorn_arg or []),
    ]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    # Generous: on a machine shared by several engineers (load average 15-18 on 2 cores) a
    # first /readyz has taken more than the half second and the minute once allowed.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited early; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the server did not become ready; see {log_path}")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


@dataclass
class ClientStats:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0  # non-200 answers, warm-up included


async def http_client(
    port: int,
    token: str,
    journeys: list[int],
    versions: dict[int, int],
    measure_from: float,
    stop_at: float,
    stats: ClientStats,
) -> None:
    """One keep-alive connection firing events at its own journeys, one request at a time."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
    ).encode()
    get_head = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    on = event_date().isoformat()
    i = 0
    clock = time.perf_counter  # loop.time() is millisecond-grained under uvloop
    try:
        while True:
            t0 = clock()
            if t0 >= stop_at:
                break
            jid = journeys[i % len(journeys)]
            i += 1
            body = (
                f'{{"event":"{EVENT}","expected_version":{versions[jid]},'
                f'"occurred_on":"{on}","data":{{"notes":"benchmark review"}}}}'
            ).encode()
            writer.write(
                b"POST /api/v1/journeys/%d/events HTTP/1.1\r\n" % jid
                + head
                + b"Content-Length: %d\r\n\r\n" % len(body)
                + body
            )
            status, _payload = await read_response(reader)
            t1 = clock()
            stats.sent += 1
            if status == 200:
                versions[jid] += 1
            else:
                stats.failed += 1
                if t0 >= measure_from:
                    stats.errors[status] = stats.errors.get(status, 0) + 1
                # Re-read the journey so the next request carries the right version.
                writer.write(b"GET /api/v1/journeys/%d HTTP/1.1\r\n" % jid + get_head)
                st, payload = await read_response(reader)
                if st == 200:
                    versions[jid] = int(json.loads(payload)["version"])
                continue
            if t0 >= measure_from:
                stats.ok += 1
                stats.latencies.append(t1 - t0)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def drive(
    port: int,
    token: str,
    journeys: list[int],
    versions: dict[int, int],
    clients: int,
    warmup: float,
    duration: float,
) -> list[ClientStats]:
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    owned = [journeys[c::clients] for c in range(clients)]
    stats = [ClientStats() for _ in range(clients)]
    await asyncio.gather(
        *(
            http_client(port, token, owned[c], versions, measure_from, stop_at, stats[c])
            for c in range(clients)
        )
    )
    return stats


def run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def bench_http(
    url: str,
    fx_engine: Engine,
    principal: Principal,
    journeys: list[int],
    versions: dict[int, int],
    args: argparse.Namespace,
    *,
    bare: bool = False,
) -> dict[str, Any]:
    """The service's HTTP endpoint under uvicorn, or (``bare``) the bare endpoint's floor."""
    secret = secrets.token_urlsafe(32)
    token = issue_token(principal.user_id, secret, 60)
    port = args.port or free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-uvicorn-{port}.log"
    if bare:
        app = BARE_APP
        env = {
            "BARE_DATABASE_URL": url,
            "BARE_ACTOR_ID": str(principal.user_id),
            "BARE_POOL_SIZE": str(args.pool_size),
        }
    else:
        app = SERVICE_APP
        env = {
            "PERMANENCE_DATABASE_URL": url,
            "PERMANENCE_SECRET_KEY": secret,
            "PERMANENCE_LOG_FORMAT": "json",
            "PERMANENCE_LOG_LEVEL": args.server_log_level,
            "PERMANENCE_ENVIRONMENT": "production",
            "PERMANENCE_DB_POOL_SIZE": str(args.pool_size),
        }
    proc = start_server(app, env, port, log_path, args)
    try:
        before = db_versions(fx_engine, journeys)
        cpu_before = _tree_cpu(proc.pid)
        wall_before = time.perf_counter()
        stats = run_loop(
            drive(port, token, journeys, versions, args.clients, args.warmup, args.duration)
        )
        wall = time.perf_counter() - wall_before
        cpu = _tree_cpu(proc.pid) - cpu_before
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    latencies = sorted(x for s in stats for x in s.latencies)
    ok = sum(s.ok for s in stats)
    errors: dict[int, int] = {}
    for s in stats:
        for code, count in s.errors.items():
            errors[code] = errors.get(code, 0) + count
    fired = db_versions(fx_engine, journeys) - before
    sent_ok = sum(s.sent for s in stats) - sum(s.failed for s in stats)
    return {
        "transitions": ok,
        "seconds": args.duration,
        "per_second": ok / args.duration,
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "server_cpu_percent": 100 * cpu / wall if cpu >= 0 else None,
        "server_cpu_us_per_request": 1e6 * cpu / max(1, sum(s.sent for s in stats)),
        "db_events_written": fired,
        "client_200s": sent_ok,
        "server_log": str(log_path),
    }


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (Linux), or -1."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields_[11]) + int(fields_[12])) / ticks
    except (OSError, ValueError, IndexError):
        return -1.0


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its children (uvicorn's workers), or -1."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return _proc_cpu(pid) + sum(max(0.0, _proc_cpu(int(c))) for c in children)


# -- main ------------------------------------------------------------------------------------


def _print(label: str, r: dict[str, Any]) -> None:
    line = (
        f"{label:<16} {r['per_second']:8.0f} transitions/s  "
        f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
        f"({r['transitions']} in {r['seconds']:.0f} s, errors {r['errors']})"
    )
    print(line, flush=True)


def _print_server(r: dict[str, Any]) -> None:
    print(
        f"{'':<16} server CPU {r['server_cpu_percent']:.0f}% of one core "
        f"({r['server_cpu_us_per_request']:.0f} us per request), "
        f"mean {r['mean_ms']:.2f} ms, max {r['max_ms']:.1f} ms, "
        f"errors by status {r['errors_by_status'] or '{}'}; "
        f"events written {r['db_events_written']} = 200s answered {r['client_200s']}: "
        f"{'yes' if r['db_events_written'] == r['client_200s'] else 'NO'}",
        flush=True,
    )


def _ratios(results: dict[str, Any]) -> dict[str, float]:
    """Each service figure over its floor from this run, printed and returned."""
    ratios: dict[str, float] = {}
    for service, floor_, label in (
        ("engine", "raw", "engine / raw driver"),
        ("http", "bare", "http / bare endpoint"),
    ):
        if service in results and floor_ in results and results[floor_]["per_second"]:
            ratio = results[service]["per_second"] / results[floor_]["per_second"]
            ratios[f"{service}/{floor_}"] = ratio
            print(
                f"ratio {label}: {ratio:.2f} "
                f"({results[service]['per_second']:.0f} / {results[floor_]['per_second']:.0f}"
                f" transitions/s; p99 {results[service]['p99_ms']:.1f} ms"
                f" vs {results[floor_]['p99_ms']:.1f} ms)",
                flush=True,
            )
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument("--children", type=int, default=200, help="children (journeys) per phase")
    parser.add_argument(
        "--phase", choices=("engine", "http", "both"), default="both", help="what to measure"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--uvicorn-arg",
        action="append",
        help="extra uvicorn argument, repeatable (e.g. --uvicorn-arg=--loop=asyncio)",
    )
    parser.add_argument(
        "--server-log-level", default="INFO", help="the server's PERMANENCE_LOG_LEVEL"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run the floors side by side: the same transaction in raw SQL through the "
        "driver (before the engine phase) and behind a bare FastAPI endpoint under the same "
        "uvicorn (before the http phase); print the ratios",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (both servers)")
    parser.add_argument(
        "--pool-size", type=int, default=10, help="database connections per server worker"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.children < args.clients:
        parser.error("--children must be at least --clients (each client owns its journeys)")

    tmp: tempfile.TemporaryDirectory[str] | None = None
    url = args.database_url
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="bench-")
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
    engine, service, principal, run_id = setup_database(url, pool_size=10)
    dialect = engine.dialect.name
    print(
        f"database {dialect} ({url.split('@')[-1] if '@' in url else url}), "
        f"{args.children} children per phase, run {run_id}",
        flush=True,
    )
    results: dict[str, Any] = {
        "database": dialect,
        "children": args.children,
        "loadavg_before": os.getloadavg(),
    }

    def journeys_for(tag: str) -> tuple[list[int], dict[int, int]]:
        return create_journeys(engine, service, principal, run_id, tag, args.children)

    try:
        if args.phase in ("engine", "both"):
            if args.floor:
                journeys, versions = journeys_for("r")
                r = bench_raw(
                    url, principal.user_id, journeys, versions, args.warmup, args.duration
                )
                results["raw"] = r
                _print(f"raw {dialect}", r)
            journeys, versions = journeys_for("e")
            r = bench_engine(service, principal, journeys, versions, args.warmup, args.duration)
            results["engine"] = r
            _print(f"engine {dialect}", r)
            print(
                f"{'':<16} bench process CPU {r['cpu_us_per_transition']:.0f} us per transition "
                "(engine + driver; a database server's own CPU is not included)",
                flush=True,
            )
        if args.phase in ("http", "both"):
            if args.floor:
                journeys, versions = journeys_for("b")
                r = bench_http(url, engine, principal, journeys, versions, args, bare=True)
                results["bare"] = r
                _print(f"bare {dialect}", r)
                _print_server(r)
            journeys, versions = journeys_for("h")
            r = bench_http(url, engine, principal, journeys, versions, args)
            results["http"] = r
            _print(f"http {dialect}", r)
            _print_server(r)
        if args.floor:
            results["ratios"] = _ratios(results)
    finally:
        engine.dispose()
        if tmp is not None:
            tmp.cleanup()
    results["loadavg_after"] = os.getloadavg()
    print(
        "load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *results["loadavg_before"], *results["loadavg_after"]
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
