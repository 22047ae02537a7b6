"""teams: the managed list of the authority's teams

Until now a team was whatever text a user's or a child's record held, so a mistyped team hid
a child from everyone. The list starts with every team already in use (its name as its title
until a system administrator renames it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=100), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.execute(
        "INSERT INTO team (name, title, created_at)"
        " SELECT name, name, CURRENT_TIMESTAMP FROM ("
        " SELECT team AS name FROM app_user WHERE team IS NOT NULL AND team <> ''"
        " UNION SELECT team AS name FROM child WHERE team <> '') AS in_use"
    )


def downgrade() -> None:
    op.drop_table("team")
