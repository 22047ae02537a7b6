"""drift snapshot: the director's figures computed after each sweep, read by the page

``drift_snapshot`` is one computing of the figures (the date they are for, when they were
read); ``drift_count`` its counts by team (and journey type, or breach month and status).
Recomputed on each request the figures cost 1.6-2 s at national size (issue 12, item 4);
``services.drift_snapshot`` explains why a snapshot, not a summary kept per transition.

Revision ID: 0025
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0025"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "drift_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "drift_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("figure", _S(length=10), nullable=False),
        sa.Column("team", _S(length=50), nullable=True),
        sa.Column("journey_type", _S(length=50), nullable=True),
        sa.Column("status", _S(length=10), nullable=True),
        sa.Column("month", sa.Date(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["drift_snapshot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_drift_count_snapshot_id"), "drift_count", ["snapshot_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_drift_count_snapshot_id"), table_name="drift_count")
    op.drop_table("drift_count")
    op.drop_table("drift_snapshot")
