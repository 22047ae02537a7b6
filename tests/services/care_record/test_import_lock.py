"""One import at a time: a second import (or dry run) in the request while one runs is
refused at once, nothing read or written; an upload through the API is queued and waits for
the lock; the lock is free again once the first has finished."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from services.care_record.importer import import_return
from services.care_record.lock import ImportBusy, import_lock
from services.care_record.models import CARE_CHILDREN, CARE_IMPORTS
from services.care_record.queue import run_import_queue
from services.db import read_connection
from tests.conftest import UserFactory
from tests.services.care_record.support import AS_OF, HEADER, header, write_csv


def _count(engine: Engine, table: object) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_second_import_is_refused_while_one_holds_the_lock(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "header.csv", HEADER, [header("A1")])
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        # Another thread, with its own connection (PostgreSQL) or open file (SQLite), as a
        # second process would have.
        with import_lock(engine):
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert holding.wait(30)
        for dry_run in (False, True):
            with pytest.raises(ImportBusy) as refused:
                import_return(engine, [path], as_of=AS_OF, dry_run=dry_run)
            assert refused.value.status_code == 409
            assert "Another import of the care record is running" in refused.value.message
        assert _count(engine, CARE_CHILDREN) == 0 and _count(engine, CARE_IMPORTS) == 0
    finally:
        release.set()
        worker.join(30)

    done = import_return(engine, [path], as_of=AS_OF)
    assert done.children_created == 1
    # And the import let go of it: the next one runs.
    assert import_return(engine, [path], as_of=AS_OF).children_unchanged == 1


def test_the_api_refuses_a_dry_run_and_queues_an_import_while_an_import_runs(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    path = write_csv(tmp_path / "header.csv", HEADER, [header("A1")])
    upload = [("files", ("header.csv", path.read_bytes(), "text/csv"))]
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with import_lock(engine):
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert holding.wait(30)
        # A dry run answers in the request, so it meets the lock at once.
        dry = admin.post("/care-record/imports", files=upload, data={"dry_run": "true"})
        # An import is queued: the lock only keeps the queue waiting.
        queued = admin.post("/care-record/imports", files=upload)
        assert run_import_queue(engine) == 0
    finally:
        release.set()
        worker.join(30)
    assert dry.status_code == 409, dry.text
    assert dry.json()["error"] == "import_running"
    assert queued.status_code == 202, queued.text
    assert run_import_queue(engine) == 1
    with read_connection(engine) as conn:
        assert conn.execute(select(func.count()).select_from(CARE_CHILDREN)).scalar_one() == 1
