"""Bring the database to the newest schema (Alembic), safely from several processes."""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

_LOCK_KEY = 726_100_001  # PostgreSQL advisory lock: one migrator at a time

# The history tables: the service's role may read and append to them, never change them.
APPEND_ONLY_TABLES = ("audit_log", "journey_event")
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations.

    The folder is found, not imported: its ``env.py`` imports every package's tables (for
    autogenerate), and the service layer must not depend on the packages above it."""
    spec = find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations package is not installed beside the service")
    config = Config()
    config.set_main_option("script_location", str(Path(spec.submodule_search_locations[0])))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head. On PostgreSQL, concurrent starters wait for the first to finish."""
    config = alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            conn.commit()
        try:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()


def grant_app_role(engine: Engine, role: str) -> None:
    """Set up ``role``, the PostgreSQL role the service runs as, on the schema the engine
    works in (its ``search_path``): created if missing (NOLOGIN: the operator gives it a
    password and LOGIN), SELECT, INSERT, UPDATE and DELETE on every table except the
    append-only history tables, where it gets SELECT and INSERT only (no UPDATE, DELETE or
    TRUNCATE), SELECT only on ``alembic_version``, and USAGE on the sequences. Run by the
    database owner after each migration, so new tables get their grants too."""
    if engine.dialect.name != "postgresql":
        raise ValueError("An application role is a PostgreSQL setting; SQLite has no roles.")
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"{role!r} is not a plain role name (lower-case letters, digits, _).")
    with engine.begin() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        if exists is None:
            conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        # The schema name comes from the server, the role name passed the pattern above.
        s = f'"{schema}"'
        conn.execute(text(f"GRANT USAGE ON SCHEMA {s} TO {role}"))
        conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {role}"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {role}")
        )
        for table in APPEND_ONLY_TABLES:
            conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {s}.{table} FROM {role}"))
        conn.execute(
            text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {s}.alembic_version FROM {role}")
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {role}"))
