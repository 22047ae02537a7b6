"""carer approval: the panel records a connected person's approval as foster carer

``carer_approval`` holds the date a connected person (regulations 24 and 25) was approved
as the child's foster carer, recorded by the panel administrator or chair. A child placed
with a connected person for longer than 16 weeks is in the ``connected_person_16_weeks``
cohort until an approval dated within that placement is recorded. One row per child and day.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carer_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_pk", sa.Integer(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["child_pk"], ["child.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("child_pk", "approved_on", name="uq_carer_approval_day"),
    )
    op.create_index(
        op.f("ix_carer_approval_child_pk"), "carer_approval", ["child_pk"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_carer_approval_child_pk"), table_name="carer_approval")
    op.drop_table("carer_approval")
