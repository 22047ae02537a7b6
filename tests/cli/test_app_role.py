"""PostgreSQL: `permanence migrate` with PERMANENCE_APP_ROLE sets up a role that may read
and append to the history tables but not change them, and use the others freely."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg.errors
import pytest
import sqlalchemy.exc
from sqlalchemy import Connection, Engine, text

from services.audit import record

PERMANENCE = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def app_role(engine: Engine, database_url: str) -> Iterator[str]:
    """A role made for this test by `permanence migrate` (roles are the server's, shared by
    every schema: a unique name, dropped after)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    role = f"permanence_app_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": database_url,
        "PERMANENCE_LOG_FORMAT": "json",
        "PERMANENCE_APP_ROLE": role,
    }
    result = subprocess.run(
        [*PERMANENCE, "migrate"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"role {role} granted" in result.stdout
    yield role
    with engine.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))


def _as_role(conn: Connection, role: str) -> None:
    conn.execute(text(f"SET LOCAL ROLE {role}"))


def _refused(engine: Engine, role: str, sql: str) -> None:
    with pytest.raises(sqlalchemy.exc.ProgrammingError) as caught, engine.begin() as conn:
        _as_role(conn, role)
        conn.execute(text(sql))
    # Refused by the grants, before the append-only trigger is reached.
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), caught.value


def test_the_app_role_appends_to_history_but_cannot_change_it(
    engine: Engine, app_role: str
) -> None:
    with engine.begin() as conn:
        _as_role(conn, app_role)
        record(conn, actor_id=None, action="test.as_app", entity="child", entity_id=1)
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1
    for sql in (
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE journey_event SET event = 'forged'",
        "DELETE FROM journey_event",
        "TRUNCATE journey_event",
        "DELETE FROM alembic_version",
    ):
        _refused(engine, app_role, sql)


def test_the_app_role_changes_the_other_tables(engine: Engine, app_role: str) -> None:
    with engine.begin() as conn:
        _as_role(conn, app_role)
        conn.execute(text("UPDATE team SET title = 'North team' WHERE name = 'north'"))
        conn.execute(
            text("INSERT INTO team (name, title, created_at) VALUES ('west', 'West', now())")
        )
        conn.execute(text("DELETE FROM team WHERE name = 'west'"))
        assert conn.execute(text("SELECT title FROM team WHERE name = 'north'")).scalar_one() == (
            "North team"
        )


def test_the_owner_still_can(engine: Engine, app_role: str) -> None:
    with engine.begin() as conn:
        record(conn, actor_id=None, action="test.owner", entity="child", entity_id=1)
    with engine.begin() as conn:
        # The owner is not bound by the grants (the trigger is lifted as in the chain tests).
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("UPDATE audit_log SET action = 'owner-fixed'"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        assert conn.execute(text("SELECT action FROM audit_log")).scalar_one() == "owner-fixed"


def test_a_role_on_sqlite_is_refused(tmp_path: object) -> None:
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        "PERMANENCE_LOG_FORMAT": "json",
        "PERMANENCE_APP_ROLE": "permanence_app",
    }
    result = subprocess.run(
        [*PERMANENCE, "migrate"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "SQLite has no roles" in result.stderr
