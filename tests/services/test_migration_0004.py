"""Migration 0004 round trip (upgrade, downgrade, upgrade) with rows present, on a database
of its own: a fresh SQLite file, or a private PostgreSQL schema when the suite runs there."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.services.conftest import migrate_to

STAMP = "'2026-11-23 10:00:00'"


def _notice_fks(engine: Engine) -> set[str]:
    return {fk["constrained_columns"][0] for fk in inspect(engine).get_foreign_keys("notice")}


def test_0004_upgrade_and_downgrade_with_rows(scratch: Engine) -> None:
    migrate_to(scratch, "0003")
    with scratch.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_user (id, username, display_name, password_hash, roles, active,"
                f" created_at) VALUES (1, 'u', '', 'x', '[]', true, {STAMP})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO child (id, reference, given_name, family_name, date_of_birth, team,"
                f" version, created_at, updated_at) VALUES (1, 'R-1', 'A', 'B', '2020-01-01',"
                f" 'north', 1, {STAMP}, {STAMP})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journey (id, child_id, type, state, status, version,"
                " definition_version, started_on, data, created_at, updated_at) VALUES"
                f" (1, 1, 'sgo', 's', 'active', 1, 1, '2026-01-01', '{{}}', {STAMP}, {STAMP})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO deadline (id, journey_id, child_id, kind, ref, due_on, owner_role,"
                f" status, created_at, updated_at) VALUES (1, 1, 1, 'review', '', '2026-12-01',"
                f" 'social_worker', 'open', {STAMP}, {STAMP})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO notice (id, deadline_id, journey_id, child_id, recipient_id,"
                " category, step, deadline_kind, due_on, fire_on, swept_on, created_at) VALUES"
                " (1, 1, 1, 1, 1, 'reminder', 'due', 'review', '2026-12-01', '2026-12-01',"
                f" '2026-12-01', {STAMP})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox (notice_id, recipient_id, channel, dedupe_key, payload,"
                f" status, attempts, next_attempt_at, created_at) VALUES (1, 1, 'email',"
                f" 'email:1', '{{}}', 'pending', 0, {STAMP}, {STAMP})"
            )
        )
    assert {"journey_id", "child_id"} <= _notice_fks(scratch)

    migrate_to(scratch, "0004")
    assert _notice_fks(scratch) == {"deadline_id", "recipient_id", "acknowledged_by_id"}
    with scratch.begin() as conn:
        # A notice with no child and one with no deadline (an event) are now possible.
        conn.execute(
            text(
                "INSERT INTO notice (id, recipient_id, category, step, fire_on, swept_on,"
                " created_at, event_key, subject, link) VALUES (2, 1, 'notification',"
                f" 'tracker_circulated', '2026-12-01', '2026-12-01', {STAMP}, 'e:1', 's', '/x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox (notice_id, recipient_id, channel, dedupe_key, payload,"
                f" status, attempts, next_attempt_at, created_at) VALUES (2, 1, 'email',"
                f" 'email:2', '{{}}', 'pending', 0, {STAMP}, {STAMP})"
            )
        )
    with pytest.raises(IntegrityError), scratch.begin() as conn:  # once per event and recipient
        conn.execute(
            text(
                "INSERT INTO notice (recipient_id, category, step, fire_on, swept_on,"
                f" created_at, event_key) VALUES (1, 'notification', 't', '2026-12-01',"
                f" '2026-12-01', {STAMP}, 'e:1')"
            )
        )

    migrate_to(scratch, "0003", down=True)
    assert {"journey_id", "child_id"} <= _notice_fks(scratch)
    with scratch.connect() as conn:
        # The deadline notice survives with its outbox row; the event notice cannot.
        assert conn.execute(text("SELECT id FROM notice")).scalars().all() == [1]
        assert conn.execute(text("SELECT dedupe_key FROM outbox")).scalars().all() == ["email:1"]

    migrate_to(scratch, "head")
    with scratch.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notice")).scalar() == 1
