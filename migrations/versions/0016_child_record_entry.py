"""child record entry: approved minutes write each child's panel entry to their record

``panel_record_entry`` holds one row per child on an approved meeting's agenda and minutes
version: the decisions with their reasons, the actions with owners and due dates, the next
review date the chair set (issue 14, item 3). A correction re-approves the minutes as a new
version, which adds rows; ``uq_record_entry_version`` (item, version) makes writing one
version twice impossible.

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "panel_record_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.Column("minutes_version", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("part", _S(length=50), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["panel_item.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "minutes_version", name="uq_record_entry_version"),
    )
    op.create_index(
        "ix_record_entry_child", "panel_record_entry", ["child_id", "held_on"], unique=False
    )
    op.create_index(
        op.f("ix_panel_record_entry_meeting_id"),
        "panel_record_entry",
        ["meeting_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_panel_record_entry_meeting_id"), table_name="panel_record_entry")
    op.drop_index("ix_record_entry_child", table_name="panel_record_entry")
    op.drop_table("panel_record_entry")
