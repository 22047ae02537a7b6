"""raised escalation: the panel escalates drift to the service director

``raised_escalation`` holds an escalation a person raised rather than one a missed
deadline's ladder reached: the panel's decision ``escalate`` on an item, or the chair's
"escalate drift" on a child. Each opens a deadline of kind ``panel_escalation`` (no journey:
closing a journey must not answer it) whose escalation notices go to the service managers and
the service director at once, so the existing list, breach register and acknowledgement
apply. ``source_key`` is unique (raising the same thing twice adds nothing) and
``deadline_id`` is unique (one escalation per deadline).

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "raised_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", _S(length=200), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=True),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("reason", _S(length=2000), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deadline_id"], ["deadline.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["raised_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
        sa.UniqueConstraint("deadline_id"),
    )
    op.create_index(
        op.f("ix_raised_escalation_child_id"), "raised_escalation", ["child_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_raised_escalation_child_id"), table_name="raised_escalation")
    op.drop_table("raised_escalation")
