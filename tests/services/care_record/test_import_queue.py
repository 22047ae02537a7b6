"""The queue of care-record imports (``services.care_record.queue``): queued with the
files' bytes and SHA-256, run one at a time by the scheduler's job, in order; an import
already claimed is not run twice; while another import holds the lock the job leaves it
queued; a failure is recorded with its words and the bytes are dropped."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select, update

from notifications.dispatcher import DispatchConfig
from notifications.policy import Policies
from notifications.scheduler import ReminderJobs, build_scheduler
from notifications.sweep import Channels
from services.access import Principal
from services.care_record.lock import import_lock
from services.care_record.models import CARE_CHILDREN
from services.care_record.queue import (
    QUEUE,
    QUEUE_FILES,
    get_queued,
    queue_import,
    run_import_queue,
    run_next_import,
)
from services.db import read_connection, write_connection
from tests.conftest import UserFactory
from tests.record_support import timeline_return


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in timeline_return(folder).write()]


def _admin(make_user: UserFactory, principal_of: Callable[[int], Principal]) -> Principal:
    """The system administrator (and the social worker the return's allocation names)."""
    make_user("sw.north", "social_worker", team="north")
    return principal_of(make_user("sysadmin", "sysadmin").user_id)


def _count(engine: Engine, table: object) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_queued_then_run_in_order_with_the_report(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    files = _files(tmp_path / "one")
    first = queue_import(engine, admin, files)
    second = queue_import(engine, admin, files)  # the same files again: nothing to write
    job = get_queued(engine, admin, first)
    assert job["status"] == "queued" and job["report"] is None
    assert [f["sha256"] for f in job["files"]] == [hashlib.sha256(c).hexdigest() for _, c in files]
    assert _count(engine, CARE_CHILDREN) == 0

    assert run_next_import(engine) == first
    assert get_queued(engine, admin, second)["status"] == "queued"
    assert run_next_import(engine) == second
    assert run_next_import(engine) is None
    one, two = get_queued(engine, admin, first), get_queued(engine, admin, second)
    assert one["status"] == "done" and one["report"]["children"]["created"] == 2
    assert one["import_id"] is not None and one["finished_at"] is not None
    assert two["status"] == "done" and two["report"]["children"]["unchanged"] == 2
    assert _count(engine, CARE_CHILDREN) == 2 and _count(engine, QUEUE_FILES) == 0


def test_an_import_claimed_elsewhere_is_not_run_again(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))
    with write_connection(engine) as conn:  # another scheduler claimed it first
        conn.execute(update(QUEUE).where(QUEUE.c.id == queued).values(status="running"))
    assert run_import_queue(engine) == 0
    assert _count(engine, CARE_CHILDREN) == 0


def test_while_another_import_runs_it_stays_queued(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))
    with import_lock(engine):  # a command-line import holds the lock
        assert run_next_import(engine) is None
    job = get_queued(engine, admin, queued)
    assert (job["status"], job["started_at"]) == ("queued", None)
    assert run_import_queue(engine) == 1
    assert get_queued(engine, admin, queued)["status"] == "done"


def test_a_failure_is_recorded_and_writes_nothing(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    odd = queue_import(engine, admin, [("notes.csv", b"NAME,COLOUR\nx,y\n")])
    changed = queue_import(engine, admin, _files(tmp_path))
    with write_connection(engine) as conn:  # the kept bytes no longer match their SHA-256
        conn.execute(
            update(QUEUE_FILES)
            .where(QUEUE_FILES.c.queue_id == changed, QUEUE_FILES.c.number == 1)
            .values(content=b"CHILD,SEX,DOB,ETHNIC\nZ9,1,01/01/2012,WBRI\n")
        )
    assert run_import_queue(engine) == 2
    failed = get_queued(engine, admin, odd)
    assert failed["status"] == "failed" and failed["error"].startswith("notes.csv")
    assert "ssda903-" not in failed["error"]  # not the server's temporary path
    assert "is not the file that was uploaded" in get_queued(engine, admin, changed)["error"]
    assert _count(engine, CARE_CHILDREN) == 0 and _count(engine, QUEUE_FILES) == 0


def test_the_scheduler_runs_the_queue(
    make_user: UserFactory,
    principal_of: Callable[[int], Principal],
    engine: Engine,
    policies: Policies,
    tmp_path: Path,
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))
    jobs = ReminderJobs(
        engine=engine,
        policies=policies,
        channels=Channels(),
        dispatch_config=DispatchConfig(base_url="http://127.0.0.1:8000"),
    )
    scheduler = build_scheduler(jobs, sweep_minutes=60, dispatch_seconds=3600, import_seconds=1)
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if get_queued(engine, admin, queued)["status"] == "done":
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert get_queued(engine, admin, queued)["status"] == "done"
    assert _count(engine, CARE_CHILDREN) == 2
