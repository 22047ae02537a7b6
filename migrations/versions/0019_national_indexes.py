"""national indexes: the reads that grow with the data, at 84,000 children (issue 12 item 4)

Measured with ``benchmarks/bench_national.py`` (10 million journey events, 1 million open
deadlines) and ``EXPLAIN ANALYZE``:

* ``ix_deadline_child_status_due (child_id, status, due_on)``: a page of children's open
  deadlines (My work's next due date and its deadline list, the tracker's 500 children,
  the child page's cohorts) read by child. With only ``ix_deadline_child_id`` each child's
  whole deadline history (met ones included: a hundred for a long placement) was fetched
  and filtered; this index reaches the open ones and their dates alone.
* ``ix_deadline_met_late (due_on) WHERE status = 'met' AND met_on > due_on AND kind <>
  'panel_escalation'``: the deadlines met late, the half of the breach rule
  (``services.deadlines.met_late``) that ``ix_deadline_status_due`` cannot narrow: without
  it the director's breach count and breaches per month read every met deadline.

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MET_LATE = "status = 'met' AND met_on > due_on AND kind <> 'panel_escalation'"


def upgrade() -> None:
    op.create_index("ix_deadline_child_status_due", "deadline", ["child_id", "status", "due_on"])
    op.create_index(
        "ix_deadline_met_late",
        "deadline",
        ["due_on"],
        postgresql_where=sa.text(_MET_LATE),
        sqlite_where=sa.text(_MET_LATE),
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_met_late", table_name="deadline")
    op.drop_index("ix_deadline_child_status_due", table_name="deadline")
