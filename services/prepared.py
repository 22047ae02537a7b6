"""Core statements compiled once per dialect and run on the driver's cursor (the hot path).

Building a SQLAlchemy Core statement, computing its cache key and setting up an execution
context costs far more than the database's own work for a one-row statement (measured on
SQLite: 168 us for ``select(...).where(...)`` built per call, 34 us prebuilt, 6 us on the raw
cursor). ``Prepared`` keeps what SQLAlchemy is good at - the SQL text for the dialect, the bind
casts, and the type conversions (dates stored as ISO text on SQLite, JSON serialised the
same way) - by compiling the statement once per dialect and reusing the types' own bind and
result processors, so rows written here are byte-for-byte what a Core ``execute`` writes.

Statements run on the connection's DBAPI connection, inside the transaction the
:class:`~sqlalchemy.engine.Connection` already holds, so commit and rollback stay with it; or
on a :class:`Driver`, a pooled driver connection whose transaction the caller runs itself
(the transition's hot path, :func:`services.db.driver_write` and
:func:`services.db.driver_autocommit`), which spares SQLAlchemy's connection and
transaction machinery: on SQLite that cost more per transition than the statements did.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Select, TextualSelect, UpdateBase

Processor = Callable[[Any], Any]
RowMaker = Callable[..., Any]
"""Builds a caller's object from a row's converted values, in the statement's column order."""


class Driver(NamedTuple):
    """A pooled driver (DBAPI) connection and its dialect, for statements run on it directly
    inside a transaction its holder runs (:func:`services.db.driver_write`)."""

    dbapi_connection: Any
    dialect: Dialect


Conn = Connection | Driver
"""Where a :class:`Prepared` statement runs: a SQLAlchemy connection (its transaction) or a
:class:`Driver`."""


def dbapi_of(conn: Conn) -> Any:
    """The driver's connection behind ``conn``."""
    if isinstance(conn, Driver):
        return conn.dbapi_connection
    return conn.connection.dbapi_connection


class _Missing:
    """No default: the caller must give the parameter."""


_MISSING = _Missing()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order, for qmark/numeric drivers
    # Every parameter the driver gets, in ``positional``'s order when it has one: the bind's
    # name, its type's bind processor (None: the value goes as it is) and its default (the
    # value of a literal bind, e.g. status = 'open'; _MISSING when the caller gives it).
    # Worked out once so that binding a call is one pass with no dict merge.
    params: tuple[tuple[str, Processor | None, Any], ...]
    row_type: Any  # a namedtuple class for statements that return rows
    result_processors: tuple[tuple[int, Processor], ...]


class Prepared:
    """A Core statement with named ``bindparam``s, compiled once per dialect."""

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[str, str, str], _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, str(dialect.driver), str(dialect.paramstyle))
        found = self._by_dialect.get(key)
        if found is not None:
            return found
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        binds = compiled.binds
        positional = tuple(compiled.positiontup or ()) if compiled.positional else None
        # The names as the SQL renders them (``binds`` also holds anonymous binds' keys).
        rendered = positional if positional is not None else tuple(compiled.bind_names.values())
        params: list[tuple[str, Processor | None, Any]] = []
        for name in rendered:
            bp = binds[name]
            literal = not bp.required and bp.callable is None and bp.value is not None
            proc = bp.type.dialect_impl(dialect).bind_processor(dialect)
            params.append((name, proc, bp.value if literal else _MISSING))
        row_type: Any = None
        result_processors: list[tuple[int, Processor]] = []
        returned: Any = None
        if isinstance(self.statement, Select | TextualSelect):
            returned = self.statement.selected_columns
        elif isinstance(self.statement, UpdateBase) and self.statement._returning:
            returned = self.statement.returning_column_descriptions
            returned = [d["expr"] for d in returned]
        if returned is not None:
            columns = list(returned)
            row_type = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc,no-redef]
            for i, col in enumerate(columns):
                proc = col.type.dialect_impl(dialect).result_processor(dialect, None)
                if proc is not None:
                    result_processors.append((i, proc))
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("Prepared does not handle expanding or literal-execute parameters")
        found = _Compiled(
            sql=compiled.string,
            positional=positional,
            params=tuple(params),
            row_type=row_type,
            result_processors=tuple(result_processors),
        )
        self._by_dialect[key] = found
        return found

    def bind(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL text for ``dialect`` and the driver's parameters for ``params`` (converted
        by the column types), for running on a driver cursor of one's own (e.g. async)."""
        c = self._compile(dialect)
        values: list[tuple[str, Any]] = []
        for name, proc, default in c.params:
            if name in params:
                value = params[name]
            elif default is _MISSING:
                raise KeyError(name)
            else:
                value = default
            values.append((name, value if proc is None else proc(value)))
        if c.positional is not None:
            return c.sql, tuple([v for _, v in values])
        return c.sql, dict(values)

    def execute(self, conn: Conn, params: Mapping[str, Any], *, prepare: bool = False) -> Any:
        """Run with ``params`` on ``conn``'s driver connection; returns the DBAPI cursor.

        ``prepare`` asks psycopg for a server-side prepared statement (PostgreSQL only)."""
        sql, args = self.bind(conn.dialect, params)
        cursor: Any = dbapi_of(conn).cursor()
        if prepare:
            cursor.execute(sql, args, prepare=True)
        else:
            cursor.execute(sql, args)
        return cursor

    def sql(self, dialect: Dialect) -> str:
        """The statement's SQL text for ``dialect``."""
        return self._compile(dialect).sql

    def executemany(self, cursor: Any, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of ``rows`` in one driver ``executemany`` on ``cursor`` (psycopg
        sends it in pipeline mode: one round trip, not one per row)."""
        cursor.executemany(self.sql(dialect), [self.bind(dialect, r)[1] for r in rows])

    def convert(self, dialect: Dialect, raw: Any, make: RowMaker | None = None) -> Any:
        """A driver row as a named tuple with converted values (None stays None); ``make``
        builds something else from the values instead (``make(*values)``)."""
        return None if raw is None else self._row(self._compile(dialect), raw, make)

    def rowcount(self, conn: Conn, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; the number of rows it touched."""
        cursor = self.execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _row(self, c: _Compiled, raw: Any, make: RowMaker | None = None) -> Any:
        if c.result_processors:
            raw = list(raw)
            for i, proc in c.result_processors:
                if raw[i] is not None:
                    raw[i] = proc(raw[i])
        return c.row_type._make(raw) if make is None else make(*raw)

    def first(self, conn: Conn, params: Mapping[str, Any]) -> Any:
        """The first row (a named tuple with converted values), or None."""
        c = self._compile(conn.dialect)
        cursor = self.execute(conn, params)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else self._row(c, raw)

    def all(self, conn: Conn, params: Mapping[str, Any], make: RowMaker | None = None) -> list[Any]:
        """Every row (named tuples with converted values, or what ``make`` builds from them:
        a caller that wants its own objects skips the named tuple, which counts when a
        journey's deadlines are read on every transition)."""
        c = self._compile(conn.dialect)
        cursor = self.execute(conn, params)
        try:
            raws = cursor.fetchall()
        finally:
            cursor.close()
        row = self._row
        return [row(c, r, make) for r in raws]
