"""confirm dismissal: a person records that a child on the "to confirm" list needs nothing

``care_confirm_dismissal`` holds, per child, the reason the child was on the care record's
"to confirm" list, the day the fact behind it began, and the note of the person who said
there is nothing to confirm. One row per child, reason and day; versioned.

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0022"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_confirm_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_pk", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["child_pk"], ["child.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("child_pk", "reason", "since", name="uq_care_confirm_dismissal"),
    )
    op.create_index(
        op.f("ix_care_confirm_dismissal_child_pk"),
        "care_confirm_dismissal",
        ["child_pk"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_care_confirm_dismissal_child_pk"), table_name="care_confirm_dismissal")
    op.drop_table("care_confirm_dismissal")
