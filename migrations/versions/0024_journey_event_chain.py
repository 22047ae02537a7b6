"""journey history chain: each journey event carries a hash over its content and the previous
event's hash of the same journey (issue 10)

One chain per journey, not one for the authority: the journey's version check already
serialises its events, so chaining them takes no lock of its own. Events written before this
revision keep empty hashes; ``permanence audit verify`` reports them as unchained and checks
each journey's chain from its first hashed event on.

Revision ID: 0024
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN, not batch mode: batch would rebuild the table and drop the append-only
    # triggers on SQLite.
    op.add_column("journey_event", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("journey_event", sa.Column("row_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("journey_event", "row_hash")
    op.drop_column("journey_event", "prev_hash")
