"""The bound on concurrent password checks (issue 10 item 3): more sign-ins at once than
permits, and the ones that wait too long are answered 429 with Retry-After."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, update

from services.config import Settings
from services.models import USERS as U
from services.sign_in import PasswordGate, SignInBusy
from services.users import create_user
from tests.conftest import PASSWORD, LiveServer


@pytest.fixture
def settings(database_url: str) -> Settings:
    """One check at a time, and a short wait for it."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        log_format="json",
        auto_migrate=False,
        password_time_cost=1,
        password_memory_kib=64,
        password_parallelism=1,
        password_checks_at_once=1,
        password_check_wait_seconds=0.05,
    )


def test_a_gate_admits_its_permits_and_refuses_after_the_wait() -> None:
    async def scenario() -> list[str]:
        gate = PasswordGate(2, 0.05)
        release = asyncio.Event()
        outcomes: list[str] = []

        async def check(name: str) -> None:
            try:
                async with gate.permit():
                    outcomes.append(f"{name} in")
                    await release.wait()
            except SignInBusy as exc:
                outcomes.append(f"{name} busy {exc.retry_after}")

        holders = [asyncio.create_task(check(n)) for n in ("a", "b")]
        await asyncio.sleep(0)
        await check("c")  # both permits are held: c waits 50 ms, then is refused
        release.set()
        await asyncio.gather(*holders)
        await check("d")  # the permits are back
        return outcomes

    assert asyncio.run(scenario()) == ["a in", "b in", "c busy 1", "d in"]


def test_waiters_are_served_by_priority_then_newest_first() -> None:
    async def scenario() -> list[str]:
        gate = PasswordGate(1, 5.0)
        served: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with gate.permit():
                await release.wait()

        async def check(name: str, priority: int) -> None:
            async with gate.permit(priority):
                served.append(name)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiting = []
        for name, priority in (("old guess", 3), ("older fresh", 0), ("new fresh", 0)):
            waiting.append(asyncio.create_task(check(name, priority)))
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *waiting)
        return served

    assert asyncio.run(scenario()) == ["new fresh", "older fresh", "old guess"]


def test_concurrent_sign_ins_beyond_the_permits_get_429(
    engine: Engine, live_server: LiveServer
) -> None:
    names = [f"sw.{i}" for i in range(6)]
    for name in names:
        create_user(engine, username=name, password=PASSWORD, roles=["social_worker"], team="north")
    # A costly hash (about 0.1-0.3 s to check here), so the checks really overlap.
    slow = PasswordHasher(time_cost=3, memory_cost=32768, parallelism=1).hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(U).values(password_hash=slow))

    def attempt(name: str) -> httpx2.Response:
        return httpx2.post(
            f"{live_server.base_url}/api/v1/auth/token",
            data={"username": name, "password": PASSWORD},
            timeout=30,
        )

    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(attempt, names))
    codes = sorted(a.status_code for a in answers)
    assert 200 in codes
    busy = [a for a in answers if a.status_code == 429]
    assert busy, codes
    for answer in busy:
        assert answer.json()["error"] == "sign_in_busy"
        assert answer.headers["Retry-After"] == "1"
    assert set(codes) <= {200, 429}
