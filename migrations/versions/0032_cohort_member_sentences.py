"""cohort snapshot with each member's place, date and sentence (the cohort pages read it)

``cohort_member`` gains ``since`` (the date the child came in) and ``why`` (the sentence the
page shows), and
``cohort_snapshot`` gains ``sentences`` (whether its members carry them) and ``counts`` (how
many members each cohort holds, every team's). The member index gains ``since`` and
``child_id``: a cohort page reads one page of a cohort in its order from it. A snapshot stored
before this migration does not; the cohort pages compute those cohorts live until the next
daily snapshot or import stores one that does (issue 13 item 11: at national size, the
cohort list page took over 60 s computing every cohort on each view).

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0032"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cohort_snapshot",
        sa.Column("sentences", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("cohort_snapshot", sa.Column("counts", sa.JSON(), nullable=True))
    op.add_column("cohort_member", sa.Column("since", sa.Date(), nullable=True))
    op.add_column(
        "cohort_member",
        sa.Column("why", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )
    op.drop_index("ix_cohort_member_snapshot_cohort", table_name="cohort_member")
    op.create_index(
        "ix_cohort_member_snapshot_cohort",
        "cohort_member",
        ["snapshot_id", "cohort", "since", "child_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_cohort_member_snapshot_cohort", table_name="cohort_member")
    op.create_index(
        "ix_cohort_member_snapshot_cohort", "cohort_member", ["snapshot_id", "cohort"], unique=False
    )
    with op.batch_alter_table("cohort_member") as batch:
        batch.drop_column("why")
        batch.drop_column("since")
    with op.batch_alter_table("cohort_snapshot") as batch:
        batch.drop_column("counts")
        batch.drop_column("sentences")
