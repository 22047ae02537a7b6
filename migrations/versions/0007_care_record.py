"""care record: the SSDA903 return stored per child, and the runs that imported it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def _provenance() -> list[sa.Column[object]]:
    # Where the fact came from, the import that wrote it, and the one that withdrew it.
    return [
        sa.Column("source_file", _S(length=500), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("care_import.id"), nullable=False),
        sa.Column("withdrawn_by", sa.Integer(), sa.ForeignKey("care_import.id"), nullable=True),
    ]


def _child() -> sa.Column[object]:
    return sa.Column("child_pk", sa.Integer(), sa.ForeignKey("child.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "care_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("started_at", _T(), nullable=False),
        sa.Column("finished_at", _T(), nullable=True),
        sa.Column("la", _S(length=100), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )
    op.create_table(
        "care_child",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("child_pk", sa.Integer(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("return_child_id", _S(length=50), nullable=False),
        sa.Column("sex", _S(length=10), nullable=False),
        sa.Column("ethnicity", _S(length=10), nullable=False),
        sa.Column("upn", _S(length=20), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("mother", _S(length=10), nullable=True),
        sa.Column("mothers_child_born_on", sa.Date(), nullable=True),
        sa.Column("header_file", _S(length=500), nullable=False),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("fingerprint", _S(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("care_import.id"), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.UniqueConstraint("child_pk"),
        sa.UniqueConstraint("return_child_id"),
    )
    op.create_table(
        "care_episode",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("reason_new", _S(length=10), nullable=False),
        sa.Column("legal_status", _S(length=10), nullable=False),
        sa.Column("category_of_need", _S(length=10), nullable=True),
        sa.Column("placement", _S(length=10), nullable=False),
        sa.Column("provider", _S(length=10), nullable=True),
        sa.Column("reason_ceased", _S(length=10), nullable=True),
        sa.Column("reason_place_change", _S(length=10), nullable=True),
        sa.Column("home_postcode", _S(length=20), nullable=True),
        sa.Column("placement_postcode", _S(length=20), nullable=True),
        sa.Column("urn", _S(length=20), nullable=True),
        *_provenance(),
    )
    op.create_index("ix_care_episode_child_start", "care_episode", ["child_pk", "start"])
    op.create_table(
        "care_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("participation", _S(length=10), nullable=False),
        *_provenance(),
    )
    op.create_index("ix_care_review_child_held", "care_review", ["child_pk", "held_on"])
    op.create_table(
        "care_adoption_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("ceased_on", sa.Date(), nullable=True),
        sa.Column("reason_ceased", _S(length=10), nullable=True),
        *_provenance(),
    )
    op.create_index(
        "ix_care_adoption_decision_child", "care_adoption_decision", ["child_pk", "decided_on"]
    )
    op.create_table(
        "care_adoption_match",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("matched_on", sa.Date(), nullable=False),
        sa.Column("foster_carers", _S(length=10), nullable=True),
        sa.Column("number_of_adopters", _S(length=10), nullable=True),
        sa.Column("adopters_sex", _S(length=10), nullable=True),
        sa.Column("adopters_legal_status", _S(length=10), nullable=True),
        *_provenance(),
    )
    op.create_index(
        "ix_care_adoption_match_child", "care_adoption_match", ["child_pk", "decided_on"]
    )
    op.create_table(
        "care_uasc",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("ceased_on", sa.Date(), nullable=True),
        *_provenance(),
    )
    op.create_index("ix_care_uasc_child_pk", "care_uasc", ["child_pk"])
    op.create_table(
        "care_previous_permanence",
        sa.Column("id", sa.Integer(), primary_key=True),
        _child(),
        sa.Column("kind", _S(length=10), nullable=True),
        sa.Column("local_authority", _S(length=100), nullable=True),
        sa.Column("ordered_year", sa.Integer(), nullable=True),
        sa.Column("ordered_month", sa.Integer(), nullable=True),
        sa.Column("ordered_day", sa.Integer(), nullable=True),
        *_provenance(),
    )
    op.create_index(
        "ix_care_previous_permanence_child_pk", "care_previous_permanence", ["child_pk"]
    )


def downgrade() -> None:
    for table in (
        "care_previous_permanence",
        "care_uasc",
        "care_adoption_match",
        "care_adoption_decision",
        "care_review",
        "care_episode",
        "care_child",
        "care_import",
    ):
        op.drop_table(table)
