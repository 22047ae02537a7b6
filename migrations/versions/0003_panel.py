"""panel: meetings, attendance, referrals, agenda items, decisions, actions, cases; deadline
rows that hang off a meeting (issue 4)

``deadline`` gains ``meeting_id``, and its ``journey_id`` / ``child_id`` become nullable so a
meeting's own deadline (minutes due, owned by the panel administrator) is an ordinary
deadline row with no child.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def _stamp() -> sa.Column[object]:
    return sa.Column("created_at", _T(), nullable=False)


def _rebuild_deadline(nullable: bool) -> None:
    """Change deadline's columns; on SQLite that copies the table (batch mode).

    SQLite enforces foreign keys while it drops the old copy, which fails once ``notice``
    rows point at deadlines; ``PRAGMA foreign_keys`` is ignored inside a transaction, so the
    copy runs in its own transaction with enforcement off, then the keys are checked.
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
        bind.exec_driver_sql("BEGIN")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        if nullable:
            batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                "fk_deadline_meeting_id", "panel_meeting", ["meeting_id"], ["id"]
            )
            batch_op.create_index("ix_deadline_meeting_id", ["meeting_id"], unique=False)
        batch_op.alter_column("journey_id", existing_type=sa.Integer(), nullable=nullable)
        batch_op.alter_column("child_id", existing_type=sa.Integer(), nullable=nullable)
        if not nullable:
            batch_op.drop_index("ix_deadline_meeting_id")
            batch_op.drop_constraint("fk_deadline_meeting_id", type_="foreignkey")
            batch_op.drop_column("meeting_id")
    if sqlite:
        bad = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if bad:
            raise RuntimeError(f"foreign keys broken by the deadline copy: {bad[:5]}")
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN")


def upgrade() -> None:
    op.create_table(
        "panel_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("start_time", _S(length=5), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=12), nullable=False),
        sa.Column("reason", _S(length=500), nullable=True),
        sa.Column("minutes_status", _S(length=10), nullable=False),
        sa.Column("minutes", sa.JSON(), nullable=False),
        sa.Column("minutes_approved_at", _T(), nullable=True),
        sa.Column("minutes_approved_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _stamp(),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["minutes_approved_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("panel", "scheduled_for", name="uq_panel_meeting_slot"),
    )
    op.create_index("ix_panel_meeting_panel_date", "panel_meeting", ["panel", "meeting_date"])

    op.create_table(
        "panel_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_key", _S(length=50), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("person", _S(length=200), nullable=False),
        sa.Column("status", _S(length=15), nullable=False),
        sa.Column("representative", _S(length=200), nullable=True),
        sa.Column("recorded_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "member_key", name="uq_panel_attendance"),
    )
    op.create_index("ix_panel_attendance_meeting_id", "panel_attendance", ["meeting_id"])

    op.create_table(
        "panel_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("decision_type", _S(length=50), nullable=False),
        sa.Column("status", _S(length=15), nullable=False),
        sa.Column("referred_by", sa.Integer(), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("pack_due_on", sa.Date(), nullable=False),
        sa.Column("pack_submitted_on", sa.Date(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("funding", sa.JSON(), nullable=False),
        sa.Column("reason", _S(length=500), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        _stamp(),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["referred_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_panel_referral_meeting_status", "panel_referral", ["meeting_id", "status"])
    op.create_index("ix_panel_referral_journey_id", "panel_referral", ["journey_id"])
    op.create_index("ix_panel_referral_child_id", "panel_referral", ["child_id"])

    op.create_table(
        "panel_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("part", _S(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", _S(length=30), nullable=False),
        sa.Column("cohorts", sa.JSON(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("reason", _S(length=500), nullable=True),
        sa.Column("rolled_since", sa.Date(), nullable=True),
        sa.Column("review_weeks", sa.Integer(), nullable=True),
        _stamp(),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["panel_referral.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_panel_item_meeting_part", "panel_item", ["meeting_id", "part", "position"])
    op.create_index("ix_panel_item_child_id", "panel_item", ["child_id"])

    op.create_table(
        "panel_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.Column("outcome", _S(length=50), nullable=False),
        sa.Column("event", _S(length=50), nullable=True),
        sa.Column("journey_version", sa.Integer(), nullable=True),
        sa.Column("meets_needs", _S(length=10), nullable=True),
        sa.Column("resources_child", _S(length=2000), nullable=False),
        sa.Column("resources_carers", _S(length=2000), nullable=False),
        sa.Column("notes", _S(length=4000), nullable=False),
        sa.Column("funding", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["panel_item.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_panel_decision_item_id", "panel_decision", ["item_id"])
    op.create_index("ix_panel_decision_meeting_id", "panel_decision", ["meeting_id"])

    op.create_table(
        "panel_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("description", _S(length=1000), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_role", _S(length=50), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _stamp(),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["panel_meeting.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["panel_item.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_panel_action_meeting_id", "panel_action", ["meeting_id"])
    op.create_index("ix_panel_action_child_id", "panel_action", ["child_id"])

    op.create_table(
        "panel_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel", _S(length=50), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=True),
        sa.Column("review_weeks", sa.Integer(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("last_meeting_id", sa.Integer(), nullable=True),
        sa.Column("last_outcome", _S(length=50), nullable=True),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["journey_id"], ["journey.id"]),
        sa.ForeignKeyConstraint(["last_meeting_id"], ["panel_meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("panel", "child_id", name="uq_panel_case"),
    )

    _rebuild_deadline(nullable=True)


def downgrade() -> None:
    # Meeting-level deadlines have no child: they cannot survive the NOT NULL coming back.
    op.execute("DELETE FROM deadline WHERE child_id IS NULL OR journey_id IS NULL")
    _rebuild_deadline(nullable=False)
    op.drop_table("panel_case")
    op.drop_index("ix_panel_action_child_id", table_name="panel_action")
    op.drop_index("ix_panel_action_meeting_id", table_name="panel_action")
    op.drop_table("panel_action")
    op.drop_index("ix_panel_decision_meeting_id", table_name="panel_decision")
    op.drop_index("ix_panel_decision_item_id", table_name="panel_decision")
    op.drop_table("panel_decision")
    op.drop_index("ix_panel_item_child_id", table_name="panel_item")
    op.drop_index("ix_panel_item_meeting_part", table_name="panel_item")
    op.drop_table("panel_item")
    op.drop_index("ix_panel_referral_child_id", table_name="panel_referral")
    op.drop_index("ix_panel_referral_journey_id", table_name="panel_referral")
    op.drop_index("ix_panel_referral_meeting_status", table_name="panel_referral")
    op.drop_table("panel_referral")
    op.drop_index("ix_panel_attendance_meeting_id", table_name="panel_attendance")
    op.drop_table("panel_attendance")
    op.drop_index("ix_panel_meeting_panel_date", table_name="panel_meeting")
    op.drop_table("panel_meeting")
