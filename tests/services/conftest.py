"""Fixtures of the service layer's tests: a database of its own for migrating up and down."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine

from services.db import make_engine
from services.migrate import alembic_config
from tests.conftest import TEST_DB_ENV, drop_schema, private_schema


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Engine]:
    """An empty database for migrating up and down."""
    url = os.environ.get(TEST_DB_ENV)
    schema = None
    if url:
        try:
            scoped, schema = private_schema(url)
        except Exception as exc:
            pytest.skip(f"PostgreSQL at {url} is not reachable: {exc}")
    else:
        scoped = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    engine = make_engine(scoped)
    yield engine
    engine.dispose()
    if url and schema:
        drop_schema(url, schema)


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) ``engine``'s database to ``revision``."""
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
        conn.commit()
