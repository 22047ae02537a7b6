"""Bring the database to the newest schema (Alembic), safely from several processes."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

_LOCK_KEY = 726_100_001  # PostgreSQL advisory lock: one migrator at a time


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
