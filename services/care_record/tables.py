"""The tables of the SSDA903 return, recognised by their columns, not by their file names.

A CSV file is one table. Its first row holds the column titles (compared without case, spaces
or a byte-order mark); the table is the one whose identifying columns are all present. Columns
beyond the ones read here are ignored.

========================  =====================================  ===============================
table                     identified by                          read
========================  =====================================  ===============================
header                    CHILD, SEX, DOB, ETHNIC                also UPN, MOTHER, MC_DOB
episodes                  CHILD, DECOM, RNE, LS, PLACE           also CIN, PLACE_PROVIDER, DEC,
                                                                 REC, REASON_PLACE_CHANGE,
                                                                 HOME_POST, PL_POST, URN
reviews                   CHILD, REVIEW, REVIEW_CODE
placed_for_adoption       CHILD, DATE_PLACED                     also DATE_PLACED_CEASED,
                                                                 REASON_PLACED_CEASED
ad1                       CHILD, DATE_INT, DATE_MATCH            also FOSTER_CARE, NB_ADOPTR,
                                                                 SEX_ADOPTR, LS_ADOPTR
uasc                      CHILD, DUC (and no ETHNIC)
previous_permanence       CHILD, PREV_PERM                       also LA_PERM, DATE_PERM
allocation                CHILD, REFERENCE                       also GIVEN_NAME, FAMILY_NAME,
                                                                 TEAM, SOCIAL_WORKER
========================  =====================================  ===============================

The allocation file is not part of the return: it comes from the case management system and
says who each child is (issue 13 item 4). Its columns: ``CHILD`` (the return's child id),
``REFERENCE`` (the case reference shown instead of a name), ``GIVEN_NAME``, ``FAMILY_NAME``,
``TEAM`` (the team's name) and ``SOCIAL_WORKER`` (the allocated worker's username). Blank team
or worker means unallocated.

The repeated ``DOB`` (and ``SEX``) columns of the reviews, placed-for-adoption, AD1, UASC and
previous-permanence tables copy the header's; they are neither read nor kept, so a second copy
of a date of birth never enters the record.

The return's other tables (OC2, OC3, missing episodes, social worker episodes and, from
2026/27, deprivation of liberty orders) are recognised and skipped, so a whole return can be
given without sorting it first. A regional file may carry an ``LA`` column: see ``reader.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class TableKind(StrEnum):
    """The tables this package knows."""

    HEADER = "header"
    EPISODES = "episodes"
    REVIEWS = "reviews"
    PLACED_FOR_ADOPTION = "placed_for_adoption"
    AD1 = "ad1"
    UASC = "uasc"
    PREVIOUS_PERMANENCE = "previous_permanence"
    ALLOCATION = "allocation"
    OC2 = "oc2"
    OC3 = "oc3"
    MISSING = "missing"
    SOCIAL_WORKER_EPISODES = "social_worker_episodes"
    DEPRIVATION_OF_LIBERTY = "deprivation_of_liberty"


@dataclass(frozen=True)
class TableSpec:
    """How a table is recognised and which of its columns are read."""

    kind: TableKind
    signature: frozenset[str]
    reads: tuple[str, ...]
    excludes: frozenset[str] = frozenset()
    used: bool = True

    def matches(self, columns: Iterable[str]) -> bool:
        """True if ``columns`` (normalised titles) identify this table."""
        present = set(columns)
        return self.signature <= present and not (self.excludes & present)


def _spec(
    kind: TableKind,
    signature: tuple[str, ...],
    extra: tuple[str, ...] = (),
    *,
    excludes: tuple[str, ...] = (),
    used: bool = True,
) -> TableSpec:
    return TableSpec(kind, frozenset(signature), signature + extra, frozenset(excludes), used)


SPECS: tuple[TableSpec, ...] = (
    _spec(TableKind.HEADER, ("CHILD", "SEX", "DOB", "ETHNIC"), ("UPN", "MOTHER", "MC_DOB")),
    _spec(
        TableKind.EPISODES,
        ("CHILD", "DECOM", "RNE", "LS", "PLACE"),
        (
            "CIN",
            "PLACE_PROVIDER",
            "DEC",
            "REC",
            "REASON_PLACE_CHANGE",
            "HOME_POST",
            "PL_POST",
            "URN",
        ),
    ),
    _spec(TableKind.REVIEWS, ("CHILD", "REVIEW", "REVIEW_CODE")),
    _spec(
        TableKind.PLACED_FOR_ADOPTION,
        ("CHILD", "DATE_PLACED"),
        ("DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
    ),
    _spec(
        TableKind.AD1,
        ("CHILD", "DATE_INT", "DATE_MATCH"),
        ("FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"),
    ),
    _spec(TableKind.UASC, ("CHILD", "DUC"), excludes=("ETHNIC",)),
    _spec(TableKind.PREVIOUS_PERMANENCE, ("CHILD", "PREV_PERM"), ("LA_PERM", "DATE_PERM")),
    _spec(
        TableKind.ALLOCATION,
        ("CHILD", "REFERENCE"),
        ("GIVEN_NAME", "FAMILY_NAME", "TEAM", "SOCIAL_WORKER"),
    ),
    _spec(TableKind.OC2, ("CHILD", "SDQ_SCORE"), used=False),
    _spec(TableKind.OC3, ("CHILD", "IN_TOUCH"), used=False),
    _spec(TableKind.MISSING, ("CHILD", "MIS_START"), used=False),
    _spec(TableKind.SOCIAL_WORKER_EPISODES, ("CHILD", "SW_ID"), used=False),
    _spec(TableKind.DEPRIVATION_OF_LIBERTY, ("CHILD", "DOLO_START"), used=False),
)

SPEC_BY_KIND: Mapping[TableKind, TableSpec] = {spec.kind: spec for spec in SPECS}

LA_COLUMN = "LA"
"""The column a regional file uses to say which authority a row belongs to."""


class UnrecognisedTable(ValueError):
    """A file whose columns match no table, or more than one."""


def normalise_title(title: str) -> str:
    """A column title as compared: no byte-order mark, no surrounding space, upper case."""
    return title.replace("\ufeff", "").strip().upper()


def recognise(columns: Iterable[str], *, file: str) -> TableSpec:
    """The table whose identifying columns are all in ``columns``.

    Raises :class:`UnrecognisedTable` naming the file when none or several match.
    """
    titles = [normalise_title(c) for c in columns]
    found = [spec for spec in SPECS if spec.matches(titles)]
    if len(found) == 1:
        return found[0]
    if not found:
        wanted = "; ".join(
            f"{spec.kind.value}: {', '.join(sorted(spec.signature))}" for spec in SPECS if spec.used
        )
        raise UnrecognisedTable(
            f"{file}: its columns match no SSDA903 table (each needs these columns: {wanted})"
        )
    names = ", ".join(spec.kind.value for spec in found)
    raise UnrecognisedTable(f"{file}: its columns fit several tables ({names}); split the file")


@dataclass(frozen=True)
class RawRow:
    """One data row of one table, as text: only the columns the table reads (``""`` if absent).

    ``row`` is the row's number as a spreadsheet shows it: the column titles are row 1. The
    values hold personal data (dates of birth, UPNs, postcodes), so they stay out of ``repr``.
    """

    table: TableKind
    file: str
    row: int
    values: Mapping[str, str] = field(repr=False)

    def get(self, column: str) -> str:
        """The stripped text of ``column`` (``""`` when blank or absent)."""
        return self.values.get(column, "")


@dataclass(frozen=True)
class ChildRows:
    """Every row of one child across the files given, in file order and then row order."""

    child_id: str
    rows: tuple[RawRow, ...]

    def of(self, table: TableKind) -> tuple[RawRow, ...]:
        """The child's rows of one table."""
        return tuple(row for row in self.rows if row.table is table)
