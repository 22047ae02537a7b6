"""sign-in throttle: failed sign-ins per account and per client address (issue 10 item 3)

One row per account (the SHA-256 of the typed username, known user or not) and per client
address: consecutive failures, the back-off's end, and when an account was locked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", _S(length=10), nullable=False),
        sa.Column("subject", _S(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _T(), nullable=True),
        sa.Column("blocked_until", _T(), nullable=True),
        sa.Column("locked_at", _T(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "subject"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttle")
