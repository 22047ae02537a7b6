"""``permanence user unlock USERNAME`` lifts a sign-in lock, audited (issue 10 item 3)."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from services.clock import now_utc
from services.models import AUDIT_LOG as A
from services.models import SIGN_IN_THROTTLE as T
from services.sign_in import ACCOUNT, account_key, is_locked
from tests.cli.test_cli import PERMANENCE, _env
from tests.conftest import PASSWORD, Api


def _unlock(database_url: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PERMANENCE, "user", "unlock", name],
        capture_output=True,
        text=True,
        env=_env(database_url),
        timeout=60,
    )


def test_user_unlock_lifts_the_lock(
    database_url: str, app_client: TestClient, sw: Api, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(T).values(
                scope=ACCOUNT,
                subject=account_key(sw.username),
                user_id=sw.user_id,
                failures=10,
                last_failure_at=now_utc(),
                locked_at=now_utc(),
            )
        )
    form = {"username": sw.username, "password": PASSWORD}
    assert app_client.post("/api/v1/auth/token", data=form).status_code == 429

    result = _unlock(database_url, sw.username)
    assert result.returncode == 0, result.stderr
    assert f"unlocked {sw.username}" in result.stdout
    assert not is_locked(engine, sw.username)
    assert app_client.post("/api/v1/auth/token", data=form).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(
            select(A.c.actor_id, A.c.entity_id, A.c.details).where(A.c.action == "account_unlocked")
        ).one()
    assert (row.actor_id, row.entity_id) == (None, sw.user_id)
    assert row.details["by"] == "cli" and row.details["was_locked"] is True


def test_user_unlock_of_an_unknown_user_is_an_error(database_url: str, engine: Engine) -> None:
    result = _unlock(database_url, "nobody")
    assert result.returncode == 2
    assert "no user 'nobody'" in result.stderr
