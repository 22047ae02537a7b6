"""deadlines before the service: an imported journey's back-dated deadlines

``deadline.before_service`` marks a deadline that fell due before the child's record entered
the service (the care-record import that derived its journey): while it is open it is not a
breach, gets no reminder or escalation, and waits on the child page for someone to record
whether it was met (and when) or missed (``services.deadlines``). Existing imported
journeys' open deadlines due before the day their journey was created are marked.

Revision ID: 0028
Revises: 0024
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMPORT_USERNAME = "system:care-record-import"


def upgrade() -> None:
    with op.batch_alter_table("deadline") as batch:
        batch.add_column(
            sa.Column("before_service", sa.Boolean(), nullable=False, server_default=sa.false())
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


def downgrade() -> None:
    with op.batch_alter_table("deadline") as batch:
        batch.drop_column("before_service")
