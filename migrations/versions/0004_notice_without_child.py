"""notice without a child: meeting-level reminders and general notifications

* ``notice.journey_id`` / ``child_id`` become nullable and lose their foreign keys. They
  are copies of the deadline's columns (``deadline`` keeps its own foreign keys, and
  ``notice.deadline_id`` keeps its key), so the keys only re-checked what was already true,
  at a cost of about 0.4 s per 50,000 notices in the sweep on PostgreSQL. A panel meeting's
  own deadline (minutes due) has no child, and its notices now have none either.
* ``notice.deadline_id``, ``deadline_kind`` and ``due_on`` become nullable, and the table
  gains ``event_key``, ``subject`` and ``link``: a notice raised by an event rather than a
  deadline (``notifications.notify``: the tracker circulated, minutes approved) has no
  deadline, says what happened in ``subject`` (references only, never a name) and links to
  ``link`` (a path under the service's base URL). The partial unique index
  ``uq_notice_event_recipient`` on (event_key, recipient_id) WHERE event_key IS NOT NULL
  makes it once per event and recipient; deadline notices keep their own unique key and,
  having no event key, cost that index nothing.

Downgrade deletes the notices that cannot satisfy the old NOT NULL columns (event notices
and notices without a child, with their outbox rows) and restores the keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def _foreign_keys_off() -> bool:
    """SQLite: the batch copy drops the old ``notice`` while ``outbox`` points at it, so it
    runs in its own transaction with enforcement off (the PRAGMA is ignored inside one)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN")
    return True


def _foreign_keys_on() -> None:
    bind = op.get_bind()
    bad = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if bad:
        raise RuntimeError(f"foreign keys broken by the notice copy: {bad[:5]}")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN")


def _fk_name(column: str) -> str | None:
    """The name of notice's foreign key on ``column`` (PostgreSQL named them itself)."""
    for fk in sa.inspect(op.get_bind()).get_foreign_keys("notice"):
        if fk["constrained_columns"] == [column]:
            return fk["name"]
    return None


def upgrade() -> None:
    sqlite = _foreign_keys_off()
    # 0002 created the keys unnamed: PostgreSQL named them notice_<column>_fkey, SQLite not
    # at all, and batch mode needs a name to drop one, hence the naming convention.
    names = {c: _fk_name(c) or f"fk_notice_{c}" for c in ("journey_id", "child_id")}
    with op.batch_alter_table(
        "notice",
        schema=None,
        naming_convention={"fk": "fk_%(table_name)s_%(column_0_name)s"},
    ) as batch_op:
        batch_op.drop_constraint(names["journey_id"], type_="foreignkey")
        batch_op.drop_constraint(names["child_id"], type_="foreignkey")
        for column in ("journey_id", "child_id", "deadline_id"):
            batch_op.alter_column(column, existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("deadline_kind", existing_type=_S(length=50), nullable=True)
        batch_op.alter_column("due_on", existing_type=sa.Date(), nullable=True)
        batch_op.add_column(sa.Column("event_key", _S(length=200), nullable=True))
        batch_op.add_column(sa.Column("subject", _S(length=300), nullable=True))
        batch_op.add_column(sa.Column("link", _S(length=300), nullable=True))
    op.create_index(
        "uq_notice_event_recipient",
        "notice",
        ["event_key", "recipient_id"],
        unique=True,
        sqlite_where=sa.text("event_key IS NOT NULL"),
        postgresql_where=sa.text("event_key IS NOT NULL"),
    )
    if sqlite:
        _foreign_keys_on()


def downgrade() -> None:
    # These notices cannot live under the old NOT NULL columns.
    lost = (
        "SELECT id FROM notice WHERE event_key IS NOT NULL OR deadline_id IS NULL"
        " OR journey_id IS NULL OR child_id IS NULL"
    )
    op.execute(f"DELETE FROM outbox WHERE notice_id IN ({lost})")
    op.execute(
        "DELETE FROM notice WHERE event_key IS NOT NULL OR deadline_id IS NULL"
        " OR journey_id IS NULL OR child_id IS NULL"
    )
    op.drop_index("uq_notice_event_recipient", table_name="notice")
    sqlite = _foreign_keys_off()
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("link")
        batch_op.drop_column("subject")
        batch_op.drop_column("event_key")
        batch_op.alter_column("due_on", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("deadline_kind", existing_type=_S(length=50), nullable=False)
        for column in ("journey_id", "child_id", "deadline_id"):
            batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_notice_journey_id", "journey", ["journey_id"], ["id"])
        batch_op.create_foreign_key("fk_notice_child_id", "child", ["child_id"], ["id"])
    if sqlite:
        _foreign_keys_on()
