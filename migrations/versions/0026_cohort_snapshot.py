"""cohort snapshot: every cohort's members, computed daily and after each import (the tracker)

``cohort_snapshot`` is one computing of the cohorts (the day membership was judged on, when
it was computed, which cohorts it holds); ``cohort_member`` its members (cohort, child, the
journey an agenda item hangs off). Computed on each view the members cost 7.5 s at national
size (issue 14); ``services.cohort_snapshot`` explains when it is refreshed.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0026"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cohort_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("cohorts", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cohort_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("cohort", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["cohort_snapshot.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_cohort_member_snapshot_cohort",
        "cohort_member",
        ["snapshot_id", "cohort"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_cohort_member_snapshot_cohort", table_name="cohort_member")
    op.drop_table("cohort_member")
    op.drop_table("cohort_snapshot")
