"""``permanence audit verify`` as an operator runs it: a real subprocess on the real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from services.audit import record
from tests.services.test_audit_chain import _alter_row

PERMANENCE = [sys.executable, "-m", "app.cli"]


def _verify(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": database_url, "PERMANENCE_LOG_FORMAT": "json"}
    return subprocess.run(
        [*PERMANENCE, "audit", "verify"], capture_output=True, text=True, env=env, timeout=120
    )


def _write(engine: Engine, n: int) -> list[int]:
    for i in range(n):
        with engine.begin() as conn:
            record(conn, actor_id=None, action="test.cli", entity="child", entity_id=i + 1)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]


def test_an_intact_trail_exits_0_with_its_summary(engine: Engine, database_url: str) -> None:
    _write(engine, 3)
    result = _verify(database_url)
    assert result.returncode == 0, result.stderr
    assert "audit chain intact: 3 rows checked, 0 unchained" in result.stdout


def test_an_altered_row_exits_1_naming_it(engine: Engine, database_url: str) -> None:
    ids = _write(engine, 4)
    # As the database owner would: the append-only guard lifted for the one UPDATE.
    _alter_row(engine, ids[1])
    result = _verify(database_url)
    assert result.returncode == 1
    assert f"audit chain broken at row {ids[1]}: content does not match its hash" in result.stderr
    assert "intact" not in result.stdout


def test_the_demo_trail_verifies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {**os.environ, "PERMANENCE_DATABASE_URL": url, "PERMANENCE_LOG_FORMAT": "json"}
    demo = subprocess.run(
        [*PERMANENCE, "demo"], capture_output=True, text=True, env=env, timeout=300
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    result = _verify(url)
    assert result.returncode == 0, result.stderr
    assert "audit chain intact" in result.stdout
    checked = int(result.stdout.split("intact: ")[1].split(" rows")[0])
    assert checked > 0
