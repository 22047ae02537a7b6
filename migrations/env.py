"""Alembic environment: uses the connection handed in by services.migrate, or the URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Every package's tables, registered on SQLModel.metadata (deadline points at the panel's).
import app.web.models  # noqa: F401
import notifications.models  # noqa: F401
import panels.models  # noqa: F401
import services.care_record.models
import services.care_record.queue
import services.cohort_snapshot
import services.drift_snapshot
import services.models  # noqa: F401
from services.config import get_settings
from services.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    # The service's engine, not a bare one: on SQLite it issues BEGIN itself, which the
    # migrations that switch foreign keys off between transactions (0003, 0004) rely on.
    with make_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
