"""The care record's tables: the SSDA903 return as the service stores it.

Alembic migration ``0007`` creates them. Each table hangs off the existing ``child`` table
(``child_pk``). A fact a newer extract of the same period no longer holds is never deleted:
``withdrawn_by`` names the import that withdrew it, and readers skip withdrawn rows.
``source_file``/``source_row`` keep where each fact came from, for journey event data.

Personal data (UPN, dates of birth, postcodes) lives here because the service needs it; it
is never written to logs, emails or import reports (see ``rejections.safe_value``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models import core_table


class CareImport(SQLModel, table=True):
    """One import run: who, when, each file's SHA-256 and the counts of its report."""

    __tablename__: ClassVar[Any] = "care_import"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    started_at: datetime
    finished_at: datetime | None = None
    la: str | None = Field(default=None, max_length=100)
    # [{"file": name as given, "sha256": hex}], in the order given.
    files: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CareChild(SQLModel, table=True):
    """The return's header of one child, linked one-to-one to the service's child."""

    __tablename__: ClassVar[Any] = "care_child"

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id", unique=True)
    return_child_id: str = Field(unique=True, max_length=50)
    sex: str = Field(max_length=10)
    ethnicity: str = Field(max_length=10)
    upn: str | None = Field(default=None, max_length=20)
    date_of_birth: date
    mother: str | None = Field(default=None, max_length=10)
    mothers_child_born_on: date | None = None
    header_file: str = Field(max_length=500)
    header_row: int
    # A digest of the whole stored record: an unchanged child is found without reading its
    # rows back, so re-importing the same files writes nothing.
    fingerprint: str = Field(max_length=64)
    import_id: int = Field(foreign_key="care_import.id")
    updated_at: datetime


class CareEpisode(SQLModel, table=True):
    """One episode of care (one legal status, one placement)."""

    __tablename__: ClassVar[Any] = "care_episode"
    __table_args__ = (Index("ix_care_episode_child_start", "child_pk", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id")
    start: date
    end: date | None = None
    reason_new: str = Field(max_length=10)
    legal_status: str = Field(max_length=10)
    category_of_need: str | None = Field(default=None, max_length=10)
    placement: str = Field(max_length=10)
    provider: str | None = Field(default=None, max_length=10)
    reason_ceased: str | None = Field(default=None, max_length=10)
    reason_place_change: str | None = Field(default=None, max_length=10)
    home_postcode: str | None = Field(default=None, max_length=20)
    placement_postcode: str | None = Field(default=None, max_length=20)
    urn: str | None = Field(default=None, max_length=20)
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class CareReview(SQLModel, table=True):
    """A looked-after review and the child's participation code."""

    __tablename__: ClassVar[Any] = "care_review"
    __table_args__ = (Index("ix_care_review_child_held", "child_pk", "held_on"),)

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id")
    held_on: date
    participation: str = Field(max_length=10)
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class CareAdoptionDecision(SQLModel, table=True):
    """A should-be-placed-for-adoption decision, and its reversal if any."""

    __tablename__: ClassVar[Any] = "care_adoption_decision"
    __table_args__ = (Index("ix_care_adoption_decision_child", "child_pk", "decided_on"),)

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id")
    decided_on: date
    ceased_on: date | None = None
    reason_ceased: str | None = Field(default=None, max_length=10)
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class CareAdoptionMatch(SQLModel, table=True):
    """Adoption matching (AD1): the date of the decision and the date matched."""

    __tablename__: ClassVar[Any] = "care_adoption_match"
    __table_args__ = (Index("ix_care_adoption_match_child", "child_pk", "decided_on"),)

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id")
    decided_on: date
    matched_on: date
    foster_carers: str | None = Field(default=None, max_length=10)
    number_of_adopters: str | None = Field(default=None, max_length=10)
    adopters_sex: str | None = Field(default=None, max_length=10)
    adopters_legal_status: str | None = Field(default=None, max_length=10)
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class CareUasc(SQLModel, table=True):
    """The child was an unaccompanied asylum-seeking child (and when that ceased)."""

    __tablename__: ClassVar[Any] = "care_uasc"

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id", index=True)
    ceased_on: date | None = None
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class CarePreviousPermanence(SQLModel, table=True):
    """A permanence order before this period of care; the date's parts may be unknown."""

    __tablename__: ClassVar[Any] = "care_previous_permanence"

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id", index=True)
    kind: str | None = Field(default=None, max_length=10)
    local_authority: str | None = Field(default=None, max_length=100)
    ordered_year: int | None = None
    ordered_month: int | None = None
    ordered_day: int | None = None
    source_file: str = Field(max_length=500)
    source_row: int
    import_id: int = Field(foreign_key="care_import.id")
    withdrawn_by: int | None = Field(default=None, foreign_key="care_import.id")


class PendingImport(SQLModel, table=True):
    """Files a system administrator uploaded on the import page, kept between the dry run
    and applying it (migration ``0014``), so "apply" imports exactly the bytes that were
    dry-run. Found by the SHA-256 of a random token the page holds, and only for the user
    and browser session that uploaded them; gone once applied, or after an hour."""

    __tablename__: ClassVar[Any] = "pending_import"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    actor_id: int = Field(foreign_key="app_user.id")
    session_id: int
    created_at: datetime
    # The latest dry run: when, for which authority, and each file's SHA-256 as it read them.
    dry_run_at: datetime | None = None
    la: str | None = Field(default=None, max_length=100)
    dry_run_files: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))


class PendingImportFile(SQLModel, table=True):
    """One uploaded file of a :class:`PendingImport`, its bytes and their SHA-256."""

    __tablename__: ClassVar[Any] = "pending_import_file"

    id: int | None = Field(default=None, primary_key=True)
    pending_id: int = Field(foreign_key="pending_import.id", index=True)
    number: int
    name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


CARE_IMPORTS = core_table(CareImport)
CARE_CHILDREN = core_table(CareChild)
CARE_EPISODES = core_table(CareEpisode)
CARE_REVIEWS = core_table(CareReview)
CARE_ADOPTION_DECISIONS = core_table(CareAdoptionDecision)
CARE_ADOPTION_MATCHES = core_table(CareAdoptionMatch)
CARE_UASC = core_table(CareUasc)
CARE_PREVIOUS_PERMANENCE = core_table(CarePreviousPermanence)


class CarerApproval(SQLModel, table=True):
    """The panel's record that a connected person's approval as foster carer was given
    (issue 13 item 6): it takes the child off the 16-week connected-person cohort for the
    placement it falls in. Not part of the return; migration ``0013``."""

    __tablename__: ClassVar[Any] = "carer_approval"
    __table_args__ = (UniqueConstraint("child_pk", "approved_on", name="uq_carer_approval_day"),)

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id", index=True)
    approved_on: date
    recorded_by: int = Field(foreign_key="app_user.id")
    recorded_at: datetime


CARER_APPROVALS = core_table(CarerApproval)
PENDING_IMPORTS = core_table(PendingImport)
PENDING_IMPORT_FILES = core_table(PendingImportFile)


class ConfirmDismissal(SQLModel, table=True):
    """A person's record that a child on the "to confirm" list has nothing to confirm, with
    their reason (issue 13 item 5; migration ``0022``). It holds for the one fact that put the
    child there (the reason and the day that fact began): a new fact puts the child back."""

    __tablename__: ClassVar[Any] = "care_confirm_dismissal"
    __table_args__ = (
        UniqueConstraint("child_pk", "reason", "since", name="uq_care_confirm_dismissal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_pk: int = Field(foreign_key="child.id", index=True)
    reason: str = Field(max_length=50)
    since: date
    note: str = Field(max_length=2000)
    recorded_by: int = Field(foreign_key="app_user.id")
    recorded_at: datetime
    version: int = Field(default=1)


CONFIRM_DISMISSALS = core_table(ConfirmDismissal)
