"""index walks at national size: the escalations' level filter and the meeting page

``ix_notice_open_escalation`` (partial: escalations not acknowledged) was (due date,
deadline); it is now (due date, deadline, step), so the director's level filter ("level
reached") finds each group's highest rung by an index-only walk of the open escalations
before joining any deadline, journey or child (``notifications.service._top_rung_groups``;
0.9 s at national size, filtering the grouped rows after the joins). The page's other
walks use the same leading columns in the same order.

``ix_panel_item_meeting_rolled`` and ``ix_panel_item_meeting_not_rolled`` (partial, by
status: meeting, part, position) let the meeting page read a meeting's items not rolled
and its first 100 rolled, and count the rolled, without filtering the 150,000 rolled items
of an agenda built from every cohort (``panels.service.common.item_rows``). Issue 12,
item 4.

Revision ID: 0035
Revises: 0032
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "category = 'escalation' AND acknowledged_at IS NULL"
_ESCALATIONS = "ix_notice_open_escalation"
_ITEMS = (
    ("ix_panel_item_meeting_rolled", "status = 'rolled'"),
    ("ix_panel_item_meeting_not_rolled", "status <> 'rolled'"),
)


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        table,
        columns,
        unique=False,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index(_ESCALATIONS, table_name="notice")
    _partial(_ESCALATIONS, "notice", ["due_on", "deadline_id", "step"], _OPEN)
    for name, where in _ITEMS:
        _partial(name, "panel_item", ["meeting_id", "part", "position"], where)


def downgrade() -> None:
    for name, _ in _ITEMS:
        op.drop_index(name, table_name="panel_item")
    op.drop_index(_ESCALATIONS, table_name="notice")
    _partial(_ESCALATIONS, "notice", ["due_on", "deadline_id"], _OPEN)
