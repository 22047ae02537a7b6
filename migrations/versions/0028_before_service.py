"""deadlines before the service, and the queue of care-record imports

The queue (``care_import_queue`` and its files, ``services.care_record.queue``): an upload
recorded with its bytes and SHA-256, run by the scheduler, with its report or error.


``deadline.before_service`` marks a deadline that fell due before the child's record entered
the service (the care-record import that derived its journey): while it is open it is not a
breach, gets no reminder or escalation, and waits on the child page for someone to record
whether it was met (and when) or missed (``services.deadlines``). Existing imported
journeys' open deadlines due before the day their journey was created are marked.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime

IMPORT_USERNAME = "system:care-record-import"


def upgrade() -> None:
    # In place, not a batch (see downgrade).
    op.add_column(
        "deadline",
        sa.Column("before_service", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bind = op.get_bind()
    created_on = (
        "date(journey.created_at)"
        if bind.dialect.name == "sqlite"
        else "CAST(journey.created_at AS date)"
    )
    # Journeys the import started: their first event is the import's system user's.
    bind.execute(
        sa.text(
            f"""
            UPDATE deadline SET before_service = true
            WHERE deadline.status = 'open' AND deadline.journey_id IN (
                SELECT journey.id FROM journey
                JOIN journey_event ON journey_event.journey_id = journey.id
                    AND journey_event.journey_version = 1
                JOIN app_user ON app_user.id = journey_event.actor_id
                WHERE app_user.username = :importer AND deadline.due_on < {created_on}
            )
            """
        ),
        {"importer": IMPORT_USERNAME},
    )
    op.create_table(
        "care_import_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("la", _S(length=100), nullable=True),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("queued_at", _T(), nullable=False),
        sa.Column("started_at", _T(), nullable=True),
        sa.Column("finished_at", _T(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", _S(length=1000), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["import_id"], ["care_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_care_import_queue_status", "care_import_queue", ["status"])
    op.create_table(
        "care_import_queue_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=255), nullable=False),
        sa.Column("sha256", _S(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["care_import_queue.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_care_import_queue_file_queue_id", "care_import_queue_file", ["queue_id"])


def downgrade() -> None:
    op.drop_index("ix_care_import_queue_file_queue_id", table_name="care_import_queue_file")
    op.drop_table("care_import_queue_file")
    op.drop_index("ix_care_import_queue_status", table_name="care_import_queue")
    op.drop_table("care_import_queue")
    # Not a batch: on SQLite a batch recreates ``deadline``, whose drop the rows pointing at
    # it refuse; SQLite (3.35+) drops the column in place, as 0024 does.
    op.drop_column("deadline", "before_service")
