"""quorum: decisions of a meeting below quorum, and their ratifying (issue 14 item 4)

* ``panel_decision.quorate``: false when the decision was recorded at a meeting below the
  panel's quorum (``panels.quorum``); existing decisions are quorate.
* ``panel_decision.event_data``: the journey event's data of a not-quorate decision, kept
  until it is ratified (the event fires then).
* ``panel_decision.ratification`` (pending | ratified | not_ratified),
  ``ratified_meeting_id``, ``ratified_by``, ``ratified_at``, ``ratification_reason``: the
  chair's ratifying at a later, quorate meeting.

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("panel_decision") as batch:
        batch.add_column(
            sa.Column("quorate", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("event_data", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("ratification", _S(length=12), nullable=True))
        batch.add_column(sa.Column("ratified_meeting_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ratified_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ratified_at", _T(), nullable=True))
        batch.add_column(sa.Column("ratification_reason", _S(length=500), nullable=True))
        batch.create_foreign_key(
            "fk_panel_decision_ratified_meeting", "panel_meeting", ["ratified_meeting_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_panel_decision_ratified_by", "app_user", ["ratified_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("panel_decision") as batch:
        batch.drop_constraint("fk_panel_decision_ratified_by", type_="foreignkey")
        batch.drop_constraint("fk_panel_decision_ratified_meeting", type_="foreignkey")
        for column in (
            "ratification_reason",
            "ratified_at",
            "ratified_by",
            "ratified_meeting_id",
            "ratification",
            "event_data",
            "quorate",
        ):
            batch.drop_column(column)
