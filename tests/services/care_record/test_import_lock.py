"""One import at a time: a second import (or dry run) while one runs is refused at once,
nothing read or written; the lock is free again once the first has finished."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from services.care_record.importer import import_return
from services.care_record.lock import ImportBusy, import_lock
from services.care_record.models import CARE_CHILDREN, CARE_IMPORTS
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


def test_the_api_answers_409_while_an_import_runs(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    path = write_csv(tmp_path / "header.csv", HEADER, [header("A1")])
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
        response = admin.post(
            "/care-record/imports",
            files=[("files", ("header.csv", path.read_bytes(), "text/csv"))],
        )
    finally:
        release.set()
        worker.join(30)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "import_running"
