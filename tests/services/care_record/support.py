"""Small SSDA903 returns written by the tests, and where the shared synthetic return lives."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from services.care_record.reader import CareReturn, open_return
from services.care_record.rules import Accepted, ChildOutcome, Rejected

HEADER = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODES = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
)
REVIEWS = ("CHILD", "DOB", "REVIEW", "REVIEW_CODE")
PLACED_FOR_ADOPTION = (
    "CHILD",
    "DOB",
    "DATE_PLACED",
    "DATE_PLACED_CEASED",
    "REASON_PLACED_CEASED",
)
AD1 = (
    "CHILD",
    "DOB",
    "DATE_INT",
    "DATE_MATCH",
    "FOSTER_CARE",
    "NB_ADOPTR",
    "SEX_ADOPTR",
    "LS_ADOPTR",
)
UASC = ("CHILD", "SEX", "DOB", "DUC")
PREVIOUS_PERMANENCE = ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM")
ALLOCATION = ("CHILD", "REFERENCE", "GIVEN_NAME", "FAMILY_NAME", "TEAM", "SOCIAL_WORKER")

AS_OF = date(2026, 12, 2)


def write_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, str]], encoding: str = "utf-8"
) -> Path:
    """A CSV file with ``columns`` as its titles; each row gives some of them."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
    return path


def header(child: str, **values: str) -> dict[str, str]:
    """A header row, valid for any year up to 2023/24 unless told otherwise."""
    row = {
        "CHILD": child,
        "SEX": "1",
        "DOB": "01/06/2012",
        "ETHNIC": "WBRI",
        "UPN": "A123456789012",
    }
    row.update(values)
    return row


def episode(child: str, decom: str, dec: str = "", **values: str) -> dict[str, str]:
    """An episode row: a foster placement under a full care order unless told otherwise."""
    row = {
        "CHILD": child,
        "DECOM": decom,
        "DEC": dec,
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U4",
        "PLACE_PROVIDER": "PR1",
        "REC": "X1" if dec else "",
        "HOME_POST": "AB1 2CD",
        "PL_POST": "EF3 4GH",
        "URN": "SC123456",
    }
    row.update(values)
    return row


@dataclass
class SmallReturn:
    """A return written table by table into a directory (one CSV file per table)."""

    folder: Path
    tables: dict[str, tuple[Sequence[str], list[dict[str, str]]]] = field(default_factory=dict)

    def add(self, name: str, columns: Sequence[str], *rows: dict[str, str]) -> SmallReturn:
        self.tables.setdefault(name, (columns, []))[1].extend(rows)
        return self

    def headers(self, *rows: dict[str, str]) -> SmallReturn:
        return self.add("header", HEADER, *rows)

    def episodes(self, *rows: dict[str, str]) -> SmallReturn:
        return self.add("episodes", EPISODES, *rows)

    def write(self) -> list[Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [
            write_csv(self.folder / f"{name}.csv", columns, rows)
            for name, (columns, rows) in self.tables.items()
        ]

    def open(self, *, la: str | None = None) -> CareReturn:
        return open_return(self.write(), la=la)

    def outcomes(self, *, as_of: date = AS_OF) -> dict[str, ChildOutcome]:
        return {o.child_id: o for o in self.open().records(as_of=as_of)}


def accepted(outcome: ChildOutcome) -> Accepted:
    """The outcome, which must be an acceptance (the rejections are shown if not)."""
    if isinstance(outcome, Rejected):
        pytest.fail("rejected: " + "; ".join(str(r) for r in outcome.rejections))
    return outcome


def rejected(outcome: ChildOutcome) -> Rejected:
    """The outcome, which must be a rejection."""
    assert isinstance(outcome, Rejected), f"accepted: {outcome}"
    return outcome


def fake_data_folder() -> Path:
    """The synthetic SSDA903 return of data-to-insight's validator (MIT), kept in the
    repository (``tests/data/ssda903-fake``, a copy of ``../shared/data/ssda903-fake``) so
    every clone runs these tests; ``PERMANENCE_SSDA903_FAKE`` names another copy."""
    named = os.environ.get("PERMANENCE_SSDA903_FAKE")
    return Path(named) if named else FAKE_DATA


FAKE_DATA = Path(__file__).resolve().parents[2] / "data" / "ssda903-fake"
