"""The ``permanence`` command as an operator runs it (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.conftest import free_port

PERMANENCE = [sys.executable, "-m", "app.cli"]


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "PERMANENCE_DATABASE_URL": database_url, "PERMANENCE_LOG_FORMAT": "json"}


def test_user_create_reads_password_from_stdin(database_url: str, app_client: TestClient) -> None:
    result = subprocess.run(
        [*PERMANENCE, "user", "create", "new.worker", "--role", "social_worker", "--team", "east"],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        env=_env(database_url),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "created user new.worker" in result.stdout
    assert "a-long-password" not in result.stdout + result.stderr
    token = app_client.post(
        "/api/v1/auth/token", data={"username": "new.worker", "password": "a-long-password"}
    )
    assert token.status_code == 200
    me = app_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    ).json()
    assert me["roles"] == ["social_worker"]
    assert me["team"] == "east"


def test_user_create_refuses_unknown_role(database_url: str, app_client: TestClient) -> None:
    result = subprocess.run(
        [*PERMANENCE, "user", "create", "x", "--role", "wizard"],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        env=_env(database_url),
        timeout=60,
    )
    assert result.returncode == 2
    assert "Unknown or missing roles: wizard" in result.stderr


def test_serve_demo_starts_with_demo_users_and_caseload(tmp_path: Path) -> None:
    if os.environ.get("PERMANENCE_TEST_DATABASE_URL"):
        pytest.skip("the demo runs on its own SQLite file; covered by the SQLite run")
    port = free_port()
    env = _env(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    process = subprocess.Popen(
        [*PERMANENCE, "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        token = httpx2.post(
            f"{base}/api/v1/auth/token",
            data={"username": "sw.north", "password": "demo-password"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        children = httpx2.get(f"{base}/api/v1/children", headers=headers).json()
        assert len(children) >= 15
        assert {c["team"] for c in children} == {"north"}
        deadlines = httpx2.get(f"{base}/api/v1/deadlines", headers=headers).json()
        assert deadlines, "the demo caseload has open deadlines"
        assert httpx2.get(f"{base}/docs").status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "sw.north" in output and "demo-password" in output  # logins printed on start


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one-writer.sqlite3'}"
    result = subprocess.run(
        [*PERMANENCE, "serve", "--workers", "2", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=_env(url),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "serve it with one worker (use PostgreSQL for --workers)" in result.stderr
    assert not (tmp_path / "one-writer.sqlite3").exists()  # refused before touching it
