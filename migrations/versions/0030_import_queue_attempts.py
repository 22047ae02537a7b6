"""claims of a queued care-record import counted

``care_import_queue.attempts``: how many times a scheduler claimed the import. A claim
left ``running`` by a process that died is put back in the queue by the scheduler's job
once it is older than the timeout, and marked failed after the configured number of
claims (``services.care_record.queue.recover_stale``).

Revision ID: 0030
Revises: 0033
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An import running now was claimed once.
    op.add_column(
        "care_import_queue",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE care_import_queue SET attempts = 1 WHERE status = 'running'")


def downgrade() -> None:
    # In place, as 0028 drops its column (SQLite 3.35+), not a batch that recreates the table.
    op.drop_column("care_import_queue", "attempts")
