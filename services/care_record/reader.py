"""Reading an SSDA903 return: streaming CSV, several files and years at once, one child at a time.

``open_return(paths)`` reads each file once to recognise its table (``tables.py``), check its
``LA`` column and build an index; ``CareReturn.children()`` then yields every child's rows, and
``CareReturn.records()`` the child's clean record or its rejections (``rules.py``).

How rows are grouped by child
-----------------------------
The rules need all of one child's rows together (overlapping episodes, a date of birth after an
episode's start, the same child in several years' headers), but the files are too big to hold:
the national return has about 84,000 children and 730,000 rows. So no file is held in memory.
The first pass keeps, per child, an index of byte offsets: for each run of consecutive rows of
that child in a file, the file, the run's first and last byte and its first row number. DfE
extracts list a child's rows together, so a child has about one run per file and the index
costs some tens of bytes per child per file. The second pass visits the children in the order
they first appear, seeks to each of the child's runs and parses only those rows. At most one
child's rows are ever parsed at once; the index is the only thing that grows with the return.
A file that changes between the two passes is refused rather than read at stale offsets.

Files are read as bytes; a line is decoded as UTF-8 (a byte-order mark is dropped) or, failing
that, as Windows-1252, which is what older case management exports write. A quoted value may
hold commas, quotes and line breaks.

Several authorities in one file
-------------------------------
A regional file can carry an ``LA`` column. Without ``la``, files holding more than one
authority (together) are refused, and the error names the authorities. With ``la``, only that
authority's rows are read (compared without case or surrounding spaces); the others are counted
and skipped. Files without an ``LA`` column are taken as that authority's own.
"""

from __future__ import annotations

import csv
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from os import PathLike
from typing import BinaryIO

from services.care_record.rejections import Rejection
from services.care_record.rules import ChildOutcome, check_child
from services.care_record.tables import (
    LA_COLUMN,
    ChildRows,
    RawRow,
    TableKind,
    TableSpec,
    normalise_title,
    recognise,
)
from workflow.calendar import today_london

_SPAN = 4  # one run in the index: file number, first byte, end byte, first row number


class ReaderError(ValueError):
    """The files cannot be read as a return (the message says which file and why)."""


class SeveralAuthorities(ReaderError):
    """The files hold rows for more than one authority and no ``la`` was given."""

    def __init__(
        self, message: str, authorities: tuple[str, ...], by_file: dict[str, tuple[str, ...]]
    ) -> None:
        super().__init__(message)
        self.authorities = authorities
        self.by_file = by_file


@dataclass(frozen=True)
class SourceFile:
    """One file of the return, as the first pass found it."""

    path: str
    table: TableKind
    used: bool
    data_rows: int
    rows_kept: int
    rows_other_authorities: int
    authorities: tuple[str, ...]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _fields(raw: bytes) -> list[str]:
    text = _decode(raw)
    if '"' not in text:
        # Most rows hold no quotes: a plain split is several times faster than the csv module.
        return text.rstrip("\r\n").split(",")
    return next(csv.reader([text]))


_MAX_LINES_PER_RECORD = 50


def _records(lines: Iterable[bytes]) -> Iterator[bytes]:
    """CSV records from lines: a record whose quotes are unbalanced continues on the next line.

    A stray quote must not swallow the rest of a file into one record, so a record stops after
    a few dozen lines whatever its quotes (its rows then fail the rules, as they should).
    """
    pending = b""
    joined = 0
    for line in lines:
        pending += line
        joined += 1
        if pending.count(b'"') % 2 == 0 or joined >= _MAX_LINES_PER_RECORD:
            yield pending
            pending = b""
            joined = 0
    if pending:
        yield pending


def _lines(chunk: bytes) -> list[bytes]:
    """``chunk`` cut after each ``\\n``, as iterating over a binary file cuts it."""
    parts = chunk.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass
class _OpenFile:
    path: str
    spec: TableSpec
    columns: dict[str, int]
    stamp: tuple[int, int] = (0, 0)  # size and modification time when indexed


def _stamp(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


class CareReturn:
    """An indexed return: its files, the rows that name no child, and each child's rows."""

    def __init__(
        self,
        files: tuple[SourceFile, ...],
        opened: list[_OpenFile],
        index: dict[str, array[int]],
        unattached: tuple[Rejection, ...],
    ) -> None:
        self.files = files
        self.unattached = unattached
        self._opened = opened
        self._index = index

    @property
    def child_count(self) -> int:
        """How many distinct child ids the files hold."""
        return len(self._index)

    def child_ids(self) -> tuple[str, ...]:
        """The child ids in the order they first appear in the files."""
        return tuple(self._index)

    def children(self) -> Iterator[ChildRows]:
        """Every child's rows, one child at a time, in the order the children first appear."""
        with ExitStack() as stack:
            handles: list[BinaryIO] = [
                stack.enter_context(open(f.path, "rb")) for f in self._opened
            ]
            for f in self._opened:
                if _stamp(f.path) != f.stamp:
                    raise ReaderError(f"{f.path}: changed since it was indexed; read it again")
            for child_id, spans in self._index.items():
                rows: list[RawRow] = []
                for k in range(0, len(spans), _SPAN):
                    number, start, end, first_row = spans[k : k + _SPAN]
                    handle = handles[number]
                    handle.seek(start)
                    chunk = handle.read(end - start)
                    opened = self._opened[number]
                    for offset, raw in enumerate(_records(_lines(chunk))):
                        rows.append(_raw_row(opened, first_row + offset, _fields(raw)))
                yield ChildRows(child_id, tuple(rows))

    def records(self, *, as_of: date | None = None) -> Iterator[ChildOutcome]:
        """Each child's clean record or rejections, judged as of ``as_of`` (default today)."""
        day = as_of if as_of is not None else today_london()
        for rows in self.children():
            yield check_child(rows, as_of=day)


def _raw_row(opened: _OpenFile, row: int, fields: Sequence[str]) -> RawRow:
    values = {
        column: (fields[i].strip() if i < len(fields) else "")
        for column, i in opened.columns.items()
    }
    return RawRow(opened.spec.kind, opened.path, row, values)


def _la_key(value: str) -> str:
    return value.strip().casefold()


def open_return(paths: Iterable[str | PathLike[str]], *, la: str | None = None) -> CareReturn:
    """Recognise and index the files of a return (see the module's docstring).

    Raises :class:`ReaderError` for a file that is no SSDA903 table, and
    :class:`SeveralAuthorities` when the files hold several authorities and ``la`` is None.
    """
    wanted = None if la is None else _la_key(la)
    index: dict[str, array[int]] = {}
    unattached: list[Rejection] = []
    files: list[SourceFile] = []
    opened: list[_OpenFile] = []
    seen_authorities: dict[str, str] = {}
    any_la_column = False

    for given in paths:
        path = str(given)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the with block just below
        except OSError as exc:
            raise ReaderError(f"{path}: cannot be opened ({exc.strerror})") from None
        with handle:
            head = handle.readline()
            titles = [normalise_title(t) for t in _fields(head)] if head.strip() else []
            try:
                spec = recognise(titles, file=path)
            except ValueError as exc:
                raise ReaderError(str(exc)) from None
            positions = {title: i for i, title in enumerate(titles) if title}
            la_at = positions.get(LA_COLUMN)
            any_la_column = any_la_column or la_at is not None
            number = len(opened)
            if spec.used:
                columns = {c: positions[c] for c in spec.reads if c in positions}
                opened.append(_OpenFile(path, spec, columns, _stamp(path)))
            child_at = positions["CHILD"]
            counts = _index_file(
                handle,
                start=len(head),
                number=number,
                path=path,
                spec=spec,
                child_at=child_at,
                la_at=la_at,
                wanted=wanted,
                index=index,
                unattached=unattached,
            )
        data_rows, kept, other, in_file = counts
        for key, name in in_file.items():
            seen_authorities.setdefault(key, name)
        files.append(
            SourceFile(path, spec.kind, spec.used, data_rows, kept, other, tuple(in_file.values()))
        )

    if wanted is None and len(seen_authorities) > 1:
        names = tuple(sorted(seen_authorities.values(), key=str.casefold))
        raise SeveralAuthorities(
            f"the files hold rows for {len(names)} authorities ({', '.join(names)}); "
            "name the authority to import (--la)",
            names,
            {f.path: f.authorities for f in files if f.authorities},
        )
    if wanted is not None and any_la_column and wanted not in seen_authorities:
        held = ", ".join(sorted(seen_authorities.values(), key=str.casefold)) or "none"
        raise ReaderError(f"no rows for authority {la!r}: the files' LA column holds {held}")
    return CareReturn(tuple(files), opened, index, tuple(unattached))


def _index_file(
    handle: BinaryIO,
    *,
    start: int,
    number: int,
    path: str,
    spec: TableSpec,
    child_at: int,
    la_at: int | None,
    wanted: str | None,
    index: dict[str, array[int]],
    unattached: list[Rejection],
) -> tuple[int, int, int, dict[str, str]]:
    """One pass over a file's data rows: runs of each child's rows into ``index``."""
    offset = start
    row = 1
    data_rows = kept = other = 0
    authorities: dict[str, str] = {}
    for raw in _records(handle):
        row += 1
        begin, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        data_rows += 1
        fields = _fields(raw)
        if la_at is not None:
            name = fields[la_at].strip() if la_at < len(fields) else ""
            if name:
                authorities.setdefault(_la_key(name), name)
            if wanted is not None and _la_key(name) != wanted:
                other += 1
                continue
        if not spec.used:
            continue
        kept += 1
        child = fields[child_at].strip() if child_at < len(fields) else ""
        if not child:
            unattached.append(
                Rejection.of(
                    file=path,
                    row=row,
                    column="CHILD",
                    raw_value="",
                    reason="missing child id",
                    child_id=None,
                )
            )
            continue
        spans = index.get(child)
        if spans is None:
            spans = index[child] = array("q")
        if spans and spans[-4] == number and spans[-2] == begin:
            spans[-2] = offset  # the run goes on: this row follows the child's last one
        else:
            spans.extend((number, begin, offset, row))
    return data_rows, kept, other, authorities
