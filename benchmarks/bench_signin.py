"""Benchmark sign-in under a password-guessing flood (issue 10 item 3).

Not a test. It serves the real app with uvicorn as a subprocess on loopback (SQLite temp file,
production argon2 cost: 64 MiB per check), then for ``--seconds`` (default 30) runs
``--clients`` (default 32) concurrent clients that do nothing but fail to sign in on
``POST /api/v1/auth/token``, as fast as the server answers (they ignore ``Retry-After``).
Meanwhile another user signs in with the right password once a second, from an address of its
own, and each of those sign-ins is timed. The server's resident memory is sampled from
``/proc`` every 50 ms, and its peak (``VmHWM``) read at the end.

Where the attackers come from (``--addresses``):

- ``per-client`` (default): each client has its own loopback address (127.0.1.N) and guesses
  at its own real account, so the per-account and per-address back-off soon answer most
  guesses with a 429 that costs no password check.
- ``fresh``: every guess comes from a new address (127.1.x.y, a new connection each) and names
  a new, unknown user, so no throttle ever applies and only the bound on concurrent password
  checks stands between the flood and the server's memory (the worst case).

    python benchmarks/bench_signin.py                      # 32 clients, 30 s, per-client
    python benchmarks/bench_signin.py --addresses fresh --seconds 10
    python benchmarks/bench_signin.py --server-root /tmp/before   # serve another checkout

Targets (issue 10): peak server RSS under 300 MiB; the correct sign-in answered within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from services.auth import configure_password_hashing  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.users import create_user  # noqa: E402

PASSWORD = "bench-password-1"
WRONG = "wrong-password-1"
LEGIT = "legit.user"
LEGIT_ADDRESS = "127.0.0.200"
MIB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def seed(database_url: str, clients: int) -> None:
    """Migrate, and create the legitimate user and one target account per client."""
    settings = Settings(database_url=database_url)
    configure_password_hashing(settings)  # the production cost, as the server uses
    engine = make_engine(database_url)
    upgrade(engine)
    create_user(engine, username=LEGIT, password=PASSWORD, roles=["social_worker"], team=None)
    for i in range(clients):
        create_user(engine, username=f"target.{i}", password=PASSWORD, roles=["social_worker"])
    engine.dispose()


def start_server(database_url: str, port: int, server_root: Path) -> subprocess.Popen[bytes]:
    """uvicorn with the app factory, one worker, as a child process."""
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": database_url,
        "PERMANENCE_SECRET_KEY": "bench-secret-key-that-is-long-enough-for-hs256",
        "PERMANENCE_LOG_LEVEL": "WARNING",
        "PERMANENCE_LOG_FORMAT": "json",
        "PERMANENCE_AUTO_MIGRATE": "false",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "app.main:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=server_root, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx2.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited during start-up")
    process.kill()
    raise RuntimeError("uvicorn did not start")


async def attacker(
    base: str, index: int, mode: str, stop: float, statuses: Counter[int], counter: list[int]
) -> None:
    """Fail to sign in, again and again, until ``stop``."""
    form = {"username": f"target.{index}", "password": WRONG}
    if mode == "per-client":
        transport = httpx2.AsyncHTTPTransport(local_address=f"127.0.1.{index + 1}")
        async with httpx2.AsyncClient(transport=transport, base_url=base, timeout=30) as client:
            while time.monotonic() < stop:
                try:
                    response = await client.post("/api/v1/auth/token", data=form)
                    statuses[response.status_code] += 1
                except httpx2.HTTPError:
                    statuses[0] += 1
        return
    while time.monotonic() < stop:
        counter[0] += 1
        n = counter[0]
        address = f"127.1.{(n >> 8) & 255}.{n & 255 or 1}"
        form = {"username": f"nobody.{n}", "password": WRONG}
        transport = httpx2.AsyncHTTPTransport(local_address=address)
        async with httpx2.AsyncClient(transport=transport, base_url=base, timeout=30) as client:
            try:
                response = await client.post("/api/v1/auth/token", data=form)
                statuses[response.status_code] += 1
            except httpx2.HTTPError:
                statuses[0] += 1


async def legitimate(base: str, stop: float, timings: list[float], codes: Counter[int]) -> None:
    """A correct sign-in by another user once a second, each timed end to end."""
    transport = httpx2.AsyncHTTPTransport(local_address=LEGIT_ADDRESS)
    async with httpx2.AsyncClient(transport=transport, base_url=base, timeout=30) as client:
        await asyncio.sleep(1.0)  # let the flood build up first
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/auth/token", data={"username": LEGIT, "password": PASSWORD}
            )
            timings.append(time.perf_counter() - started)
            codes[response.status_code] += 1
            await asyncio.sleep(max(0.0, 1.0 - timings[-1]))


async def sample_rss(pid: int, stop: float, samples: list[int]) -> None:
    """The server's resident set every 50 ms."""
    while time.monotonic() < stop:
        samples.append(_status_kib(pid, "VmRSS"))
        await asyncio.sleep(0.05)


async def flood(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    stop = time.monotonic() + args.seconds
    statuses: Counter[int] = Counter()
    legit_codes: Counter[int] = Counter()
    timings: list[float] = []
    samples: list[int] = []
    counter = [0]
    await asyncio.gather(
        sample_rss(pid, stop, samples),
        legitimate(base, stop, timings, legit_codes),
        *(attacker(base, i, args.addresses, stop, statuses, counter) for i in range(args.clients)),
    )
    return {
        "attempts": sum(statuses.values()),
        "attacker_statuses": dict(sorted(statuses.items())),
        "legit_statuses": dict(sorted(legit_codes.items())),
        "legit_seconds_max": round(max(timings), 3) if timings else None,
        "legit_seconds_p50": round(statistics.median(timings), 3) if timings else None,
        "legit_sign_ins": len(timings),
        "rss_sampled_max_mib": round(max(samples) / 1024, 1) if samples else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the flood lasts")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--addresses", choices=("per-client", "fresh"), default="per-client")
    parser.add_argument(
        "--server-root", type=Path, default=ROOT, help="the checkout whose app is served"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")

    with tempfile.TemporaryDirectory(prefix="bench-signin-") as folder:
        database_url = f"sqlite:///{folder}/bench.sqlite3"
        seed(database_url, args.clients)
        port = _free_port()
        server = start_server(database_url, port, args.server_root.resolve())
        base = f"http://127.0.0.1:{port}"
        try:
            # One correct sign-in first, so the baseline includes a finished argon2 check.
            warm = httpx2.post(
                f"{base}/api/v1/auth/token", data={"username": LEGIT, "password": PASSWORD}
            )
            assert warm.status_code == 200, warm.text
            baseline = _status_kib(server.pid, "VmRSS")
            figures = asyncio.run(flood(base, server.pid, args))
            peak = _status_kib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "clients": args.clients,
        "seconds": args.seconds,
        "addresses": args.addresses,
        "server_root": str(args.server_root),
        "rss_baseline_mib": round(baseline / 1024, 1),
        "rss_peak_mib": round(peak / 1024, 1),
        **figures,
    }
    figures["targets_met"] = bool(
        figures["rss_peak_mib"] < 300
        and figures["legit_seconds_max"] is not None
        and figures["legit_seconds_max"] < 1.0
        and set(figures["legit_statuses"]) == {200}
    )
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
