"""pending import: uploaded SSDA903 files kept between the dry run and applying it

``pending_import`` is one upload on the import page (who, which browser session, the SHA-256
of the token the page holds, the latest dry run's authority and file digests);
``pending_import_file`` holds each file's bytes and SHA-256, so applying imports exactly what
was dry-run, whichever worker or instance answers the second request.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "pending_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("dry_run_at", _T(), nullable=True),
        sa.Column("la", _S(length=100), nullable=True),
        sa.Column("dry_run_files", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "pending_import_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pending_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=255), nullable=False),
        sa.Column("sha256", _S(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["pending_id"], ["pending_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_pending_import_file_pending_id"),
        "pending_import_file",
        ["pending_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_import_file_pending_id"), table_name="pending_import_file")
    op.drop_table("pending_import_file")
    op.drop_table("pending_import")
