"""audit chain: each audit row carries a hash over its content and the previous row's hash

Rows written before this revision keep empty hashes; ``permanence audit verify`` reports them
as unchained and checks the chain from the first hashed row on. On SQLite, ``REPLACE INTO`` /
``INSERT OR REPLACE`` would delete and re-insert an existing row without firing the DELETE
trigger, so a BEFORE INSERT trigger refuses any insert whose id is already taken.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("audit_log", "journey_event")


def upgrade() -> None:
    # ADD COLUMN, not batch mode: batch would rebuild the table and drop the append-only
    # triggers of 0001 on SQLite.
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
