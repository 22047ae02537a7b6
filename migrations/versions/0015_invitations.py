"""invitations: publishing an agenda and the calendar invitations it sends (issue 14 item 2)

* ``panel_invitation``: one calendar invitation per person and agenda item (or per member
  and meeting), with its stable ``uid``, the ``sequence`` its last .ics carried and the
  slot it last announced; unique per (meeting, item key, recipient), so a republish finds
  the one it sent before and tells only those whose slot changed.
* ``panel_seat``: who holds a seat of the panel (the members told of each meeting).
* ``panel_meeting.agenda_published_at`` / ``agenda_published_by``: the publishing step.
* ``panel_attendance.note``: the note a member sends with apologies.
* ``panel_case.iro_id`` / ``supervising_social_worker_id``: who the panel invites for a
  child beside the allocated social worker and the team's managers.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "panel_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=10), nullable=False),
        sa.Column("item_key", _S(length=80), nullable=False),
        sa.Column("member_key", _S(length=50), nullable=True),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("role", _S(length=40), nullable=False),
        sa.Column("uid", _S(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("part", _S(length=50), nullable=True),
        sa.Column("slot_date", sa.Date(), nullable=False),
        sa.Column("slot_time", _S(length=5), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["recipient_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
        sa.UniqueConstraint("meeting_id", "item_key", "recipient_id", name="uq_panel_invitation"),
    )
    op.create_index(
        "ix_panel_invitation_recipient", "panel_invitation", ["recipient_id"], unique=False
    )
    op.create_table(
        "panel_seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("member_key", _S(length=50), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("panel", "member_key", name="uq_panel_seat"),
    )
    with op.batch_alter_table("panel_meeting") as batch:
        batch.add_column(sa.Column("agenda_published_at", _T(), nullable=True))
        batch.add_column(sa.Column("agenda_published_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_panel_meeting_published_by", "app_user", ["agenda_published_by"], ["id"]
        )
    with op.batch_alter_table("panel_attendance") as batch:
        batch.add_column(sa.Column("note", _S(length=500), nullable=True))
    with op.batch_alter_table("panel_case") as batch:
        batch.add_column(sa.Column("iro_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("supervising_social_worker_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_panel_case_iro", "app_user", ["iro_id"], ["id"])
        batch.create_foreign_key(
            "fk_panel_case_supervising", "app_user", ["supervising_social_worker_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("panel_case") as batch:
        batch.drop_constraint("fk_panel_case_supervising", type_="foreignkey")
        batch.drop_constraint("fk_panel_case_iro", type_="foreignkey")
        batch.drop_column("supervising_social_worker_id")
        batch.drop_column("iro_id")
    with op.batch_alter_table("panel_attendance") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("panel_meeting") as batch:
        batch.drop_constraint("fk_panel_meeting_published_by", type_="foreignkey")
        batch.drop_column("agenda_published_by")
        batch.drop_column("agenda_published_at")
    op.drop_table("panel_seat")
    op.drop_index("ix_panel_invitation_recipient", table_name="panel_invitation")
    op.drop_table("panel_invitation")
