"""open escalations: the director's page walks them by index, the snapshot counts them

``ix_notice_open_escalation`` (partial: escalations not acknowledged, by due date and
deadline) lets a page of the director's open escalations be read by an index walk that stops
after its 25 groups; ``drift_snapshot.escalations_counted`` marks a snapshot whose counts
include the open escalation groups (``escalation`` rows of ``drift_count``), so the page no
longer groups every open escalation on each request (issue 12, item 4: 2.4-3.5 s at
national size, 134,000 open escalation notices).

Revision ID: 0033
Revises: 0028
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "category = 'escalation' AND acknowledged_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_notice_open_escalation",
        "notice",
        ["due_on", "deadline_id"],
        unique=False,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    with op.batch_alter_table("drift_snapshot") as batch:
        batch.add_column(
            sa.Column(
                "escalations_counted", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("drift_snapshot") as batch:
        batch.drop_column("escalations_counted")
    op.drop_index("ix_notice_open_escalation", table_name="notice")
