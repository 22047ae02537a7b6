"""The outbox keys: written once in Python, and once in SQL for the set-based sweep; the
two must agree, or a sweep and a retry would queue the same message twice."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from notifications.models import (
    EMAIL_KEY_SQL,
    WEBHOOK_KEY_SQL,
    digest_key,
    email_key,
    webhook_key,
)


def test_keys_name_what_they_deliver() -> None:
    assert email_key(41) == "email:41"
    assert webhook_key(7, "before_5", date(2026, 3, 2)) == "webhook:7:before_5:2026-03-02"
    assert webhook_key(7, "before_5", "2026-03-02") == webhook_key(7, "before_5", date(2026, 3, 2))
    assert digest_key(3, date(2026, 1, 9)) == "digest:3:2026-01-09"


def test_the_sql_keys_are_the_python_keys(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the SQL keys are PostgreSQL's (SQLite's sweep builds them in Python)")
    row = {"id": 41, "deadline_id": 7, "step": "before_5", "due_on": date(2026, 3, 2)}
    with engine.connect() as conn:
        email, webhook = conn.execute(
            text(
                f"SELECT {EMAIL_KEY_SQL}, {WEBHOOK_KEY_SQL} FROM (SELECT CAST(:id AS integer)"
                " AS id, CAST(:deadline_id AS integer) AS deadline_id, CAST(:step AS text)"
                " AS step, CAST(:due_on AS date) AS due_on) AS recorded"
            ),
            row,
        ).one()
    assert email == email_key(41)
    assert webhook == webhook_key(7, "before_5", date(2026, 3, 2))
