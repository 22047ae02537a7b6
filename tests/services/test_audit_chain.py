"""The audit trail proves itself: each row's hash covers its content and the row before it."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import Engine, text

from services.audit import record, verify


def _write(engine: Engine, n: int) -> None:
    for i in range(n):
        with engine.begin() as conn:
            record(
                conn,
                actor_id=None,
                action="test.write",
                entity="child",
                entity_id=i + 1,
                details={"field": "team", "before": "north", "after": f"south {i}"},
            )


def _alter_row(engine: Engine, row_id: int) -> None:
    """Change one row as someone with the database owner's rights would, lifting the guard."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(
                text("UPDATE audit_log SET action = 'forged' WHERE id = :id"), {"id": row_id}
            )
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        else:
            guard = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'audit_log_no_update'")
            ).scalar_one()
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(
                text("UPDATE audit_log SET action = 'forged' WHERE id = :id"), {"id": row_id}
            )
            conn.execute(text(guard))  # the guard stays for the tests that follow


def test_an_intact_trail_verifies(engine: Engine) -> None:
    _write(engine, 4)
    result = verify(engine)
    assert result.ok and result.checked == 4


def test_an_altered_row_is_named(engine: Engine) -> None:
    _write(engine, 4)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]
    _alter_row(engine, ids[2])
    result = verify(engine)
    assert not result.ok
    assert result.broken_id == ids[2]


def test_sqlite_replace_into_cannot_overwrite_a_row(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("REPLACE INTO is SQLite's")
    _write(engine, 1)
    with engine.connect() as conn:
        row_id = conn.execute(text("SELECT id FROM audit_log")).scalar_one()
    for verb in ("REPLACE INTO", "INSERT OR REPLACE INTO"):
        with pytest.raises(sqlalchemy.exc.DBAPIError), engine.begin() as conn:
            conn.execute(
                text(
                    f"{verb} audit_log (id, at, actor_id, action, entity, entity_id, details)"
                    " VALUES (:id, '2026-01-01 00:00:00', NULL, 'forged', 'child', 1, '{}')"
                ),
                {"id": row_id},
            )
    assert verify(engine).ok
