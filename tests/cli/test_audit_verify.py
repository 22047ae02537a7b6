"""``permanence audit verify`` as an operator runs it: a real subprocess on the real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from services.audit import record
from tests.conftest import Api
from tests.services.test_audit_chain import _alter_row
from tests.services.test_history_chain import _as_owner

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
    assert "audit chain intact" not in result.stdout


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
    # The demo's journeys, back-dated events included, are chained through the service.
    events = int(result.stdout.split("journey history intact: ")[1].split(" events")[0])
    assert events > 0
    assert ", 0 unchained" in result.stdout.split("journey history")[1]


def test_an_event_removed_from_a_journey_exits_1_naming_the_break(
    engine: Engine, database_url: str, sw: Api
) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    for day in ("2026-01-10", "2026-01-11"):
        journey = sw.fire(journey, "hold_review", day)
    ids = [e["id"] for e in sw.history(journey)]
    intact = _verify(database_url)
    assert intact.returncode == 0, intact.stderr
    assert "journey history intact: 3 events checked in 1 journeys, 0 unchained" in intact.stdout
    with _as_owner(engine) as conn:
        conn.execute(text("DELETE FROM journey_event WHERE id = :id"), {"id": ids[1]})
    result = _verify(database_url)
    assert result.returncode == 1
    assert (
        f"journey history broken at event {ids[2]} of journey {journey['id']}:"
        " does not link to the journey's event before it"
    ) in result.stderr
    assert "audit chain intact" in result.stdout  # the audit trail itself still holds
