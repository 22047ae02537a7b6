"""A rejected row: which file, row and column, the value, and why, without personal data.

Issue 13 item 10: UPN, postcodes and dates of birth never reach a log line, an email or an
import report. A :class:`Rejection` is part of the import report, so it is built to be safe to
print wherever it goes:

* it names the child by the return's child id (``CHILD``), never by anything else;
* the value of a personal column (:data:`PERSONAL_COLUMNS`) is never kept: a bad date of
  birth is reported as "not a date" with the value withheld, a date of birth after an
  episode's start is reported on the episode's start date, never on the date of birth;
* any other value is kept only when it cannot be personal data in the wrong column: short
  (at most 12 characters), made of letters, digits and ``/ . - _`` only, and not shaped like a
  postcode. Anything else is replaced by a placeholder, because a file whose columns have
  shifted can put a postcode or a UPN under a code's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERSONAL_COLUMNS = frozenset(
    {"DOB", "MC_DOB", "UPN", "HOME_POST", "PL_POST", "GIVEN_NAME", "FAMILY_NAME"}
)
"""Columns whose values are personal data and never appear in a rejection."""

WITHHELD = "(withheld: personal data)"
NOT_SHOWN = "(not shown)"

_SAFE = re.compile(r"[A-Za-z0-9/.\-_]{0,12}")
_POSTCODE = re.compile(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]?[0-9][A-Za-z]{2}")


def safe_value(column: str, value: str) -> str:
    """``value`` as it may appear in a report, or a placeholder when it might be personal."""
    if column in PERSONAL_COLUMNS:
        return WITHHELD
    if _SAFE.fullmatch(value) is None or _POSTCODE.fullmatch(value) is not None:
        return NOT_SHOWN
    return value


@dataclass(frozen=True, kw_only=True)
class Rejection:
    """One problem with one row. ``value`` is already safe to print (see :func:`safe_value`)."""

    file: str
    row: int
    column: str
    value: str
    reason: str
    child_id: str | None

    @classmethod
    def of(
        cls, *, file: str, row: int, column: str, raw_value: str, reason: str, child_id: str | None
    ) -> Rejection:
        """A rejection whose value is made safe here, so no caller can forget to."""
        return cls(
            file=file,
            row=row,
            column=column,
            value=safe_value(column, raw_value),
            reason=reason,
            child_id=child_id,
        )

    def __str__(self) -> str:
        who = f"child {self.child_id}" if self.child_id else "no child id"
        shown = self.value if self.value in (WITHHELD, NOT_SHOWN) else repr(self.value)
        return f"{self.file} row {self.row}, {self.column} {shown}: {self.reason} ({who})"

    def as_dict(self) -> dict[str, str | int | None]:
        """The rejection for a JSON report."""
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "child_id": self.child_id,
        }
