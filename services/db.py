"""Database engines and transactions, for SQLite (default) and PostgreSQL.

SQLite: WAL so readers never wait for the writer, and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock (busy timeout) instead of one failing
half-way when it upgrades a read lock. Within one process, writers also queue on a lock of
their own before they ask SQLite: SQLite's busy handler waits by sleeping (1, 2, 5 ... 100 ms
at a time), so threads that collide on ``BEGIN IMMEDIATE`` would idle for milliseconds while
the lock is free; a Python lock hands over at once. ``BEGIN IMMEDIATE`` and the busy timeout
still order writers from other processes.

PostgreSQL also gets an asyncio engine (:func:`make_async_engine`, psycopg's async
connections in autocommit) for the API's hot path: it runs on the event loop with no
thread hand-off, and a single-statement write is its own transaction.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.prepared import Driver

_IMMEDIATE = "sqlite_immediate"

# Per SQLite engine: the engine bound to BEGIN IMMEDIATE (built once, not per transaction)
# and the process's writer lock (re-entrant, so a nested write meets SQLite's busy timeout
# and its error, as before, rather than waiting forever).
_writers: weakref.WeakKeyDictionary[Engine, tuple[Engine, threading.RLock]] = (
    weakref.WeakKeyDictionary()
)
_writers_guard = threading.Lock()


def _sqlite_writer(engine: Engine) -> tuple[Engine, threading.RLock]:
    found = _writers.get(engine)
    if found is None:
        with _writers_guard:
            found = _writers.get(engine)
            if found is None:
                found = (engine.execution_options(**{_IMMEDIATE: True}), threading.RLock())
                _writers[engine] = found
    return found


def is_sqlite(engine: Engine) -> bool:
    """True for SQLite engines."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings the service relies on.

    Its errors never carry the statement's parameters (``hide_parameters``): they hold
    children's names and dates of birth, and an error's text can reach a log line.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver: we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(_IMMEDIATE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def make_async_engine(url: str, *, pool_size: int = 10) -> AsyncEngine | None:
    """An asyncio engine for ``url`` if it is PostgreSQL (psycopg), else None.

    Its connections are in autocommit: the hot path's write is one statement, and a read
    then leaves no transaction to roll back (psycopg drops its prepared statements on every
    rollback). No pre-ping, which would cost a round trip per checkout; a connection found
    dead fails its request and the pool replaces it. At most ``pool_size`` connections per
    process, kept open: more requests than that wait on the loop for one. No overflow, since
    an overflow connection is closed when it comes back, and a new one costs a server process
    and its prepared statements (measured: reconnecting under 16 clients with 10 pooled took
    a fifth of the server's time).
    """
    if make_url(url).get_backend_name() != "postgresql":
        return None
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        hide_parameters=True,
    )


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection of ``engine`` as the driver's own (a psycopg ``AsyncConnection``),
    for statements prepared by :mod:`services.prepared`; back to the pool afterwards."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        yield raw.driver_connection


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one write transaction: committed on success, rolled back on error."""
    if not is_sqlite(engine):
        with engine.connect() as conn, conn.begin():
            yield conn
        return
    bound, lock = _sqlite_writer(engine)
    with lock, bound.connect() as conn, conn.begin():
        yield conn


@contextmanager
def driver_write(engine: Engine) -> Iterator[Driver]:
    """:func:`write_connection` on SQLite for statements run on the driver's connection
    itself (:mod:`services.prepared`): the same writer lock, ``BEGIN IMMEDIATE``, commit on
    success and rollback on error, on a pooled connection, without SQLAlchemy's
    ``Connection`` and ``Transaction`` objects and their events around it. For the
    transition's hot path, where those cost more CPU than the transaction's statements
    (``BENCHMARKS.md``, issue 12 item 5). SQLite only."""
    if not is_sqlite(engine):
        raise ValueError("driver_write is SQLite's (PostgreSQL: driver_autocommit)")
    _bound, lock = _sqlite_writer(engine)
    with lock:
        pooled = engine.raw_connection()
        try:
            dbapi = pooled.dbapi_connection
            assert dbapi is not None
            dbapi.execute("BEGIN IMMEDIATE")
            try:
                yield Driver(dbapi, engine.dialect)
            except BaseException:
                if dbapi.in_transaction:  # SQLite may have rolled it back itself
                    dbapi.execute("ROLLBACK")
                raise
            dbapi.execute("COMMIT")
        finally:
            pooled.close()


@contextmanager
def driver_autocommit(engine: Engine) -> Iterator[Driver]:
    """A pooled PostgreSQL connection of ``engine`` as the driver's own, in autocommit for
    as long as it is held (each statement its own transaction, as on the async engine:
    :func:`make_async_engine`), for a caller whose one write statement is its transaction
    (the transition's hot path). No ``BEGIN`` and ``COMMIT`` round trips around it; the
    pool's pre-ping on checkout still applies. Back in transaction mode when returned."""
    if is_sqlite(engine):
        raise ValueError("driver_autocommit is PostgreSQL's (SQLite: driver_write)")
    pooled = engine.raw_connection()
    try:
        dbapi: Any = pooled.dbapi_connection
        dbapi.autocommit = True
        try:
            yield Driver(dbapi, engine.dialect)
        finally:
            if not dbapi.closed:
                dbapi.autocommit = False
    finally:
        pooled.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reading (one transaction, so one consistent view)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def insert_or_skip(conn: Connection, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` in this connection's dialect: a
    row whose unique key is already taken is skipped, so a retried write adds nothing."""
    dialect: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert: Insert = dialect.insert(table).on_conflict_do_nothing()
    return insert


def insert_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row ``INSERT`` wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise ValueError("the statement inserted no row with a primary key")
    return int(key[0])
