"""The queue of care-record imports (``services.care_record.queue``): queued with the
files' bytes and SHA-256, run one at a time by the scheduler's job, in order; an import
already claimed is not run twice; while another import holds the lock the job leaves it
queued; a failure is recorded with its words and the bytes are dropped; a claim left
running by a process that died goes back to the queue after the timeout, or fails after
the last attempt."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from notifications.dispatcher import DispatchConfig
from notifications.policy import Policies
from notifications.scheduler import ReminderJobs, build_scheduler
from notifications.sweep import Channels
from services.access import Principal
from services.care_record import queue
from services.care_record.importer import import_return
from services.care_record.lock import import_lock
from services.care_record.models import CARE_CHILDREN
from services.care_record.queue import (
    QUEUE,
    QUEUE_FILES,
    Recovery,
    get_queued,
    queue_import,
    recover_stale,
    run_import_queue,
    run_next_import,
)
from services.clock import now_utc
from services.config import Settings
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


def _claimed_long_ago(engine: Engine, queue_id: int, *, minutes: int, attempts: int) -> None:
    """As a scheduler that claimed the import ``minutes`` ago and then died would leave it."""
    with write_connection(engine) as conn:
        conn.execute(
            update(QUEUE)
            .where(QUEUE.c.id == queue_id)
            .values(
                status="running",
                started_at=now_utc() - timedelta(minutes=minutes),
                attempts=attempts,
            )
        )


def test_a_claim_left_running_by_a_dead_process_is_queued_again_and_run(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    stale = queue_import(engine, admin, _files(tmp_path / "one"))
    fresh = queue_import(engine, admin, _files(tmp_path / "two"))
    _claimed_long_ago(engine, stale, minutes=16, attempts=1)
    _claimed_long_ago(engine, fresh, minutes=5, attempts=1)  # still within the timeout
    assert recover_stale(engine, Recovery(after=timedelta(minutes=15))) == (1, 0)
    job = get_queued(engine, admin, stale)
    assert (job["status"], job["started_at"], job["attempts"]) == ("queued", None, 1)
    assert get_queued(engine, admin, fresh)["status"] == "running"
    assert run_import_queue(engine) == 1
    done = get_queued(engine, admin, stale)
    assert done["status"] == "done" and done["attempts"] == 2
    assert done["report"]["children"]["created"] == 2
    assert get_queued(engine, admin, fresh)["status"] == "running"  # not taken from its run


def test_after_the_last_attempt_a_stale_claim_is_failed_and_its_bytes_dropped(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))
    _claimed_long_ago(engine, queued, minutes=60, attempts=3)
    assert run_import_queue(engine, Recovery(max_attempts=3)) == 0
    job = get_queued(engine, admin, queued)
    assert job["status"] == "failed" and job["finished_at"] is not None
    assert "interrupted 3 times" in job["error"]
    assert _count(engine, QUEUE_FILES) == 0 and _count(engine, CARE_CHILDREN) == 0


def test_a_long_import_still_holding_the_lock_is_not_stale(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))
    _claimed_long_ago(engine, queued, minutes=60, attempts=1)
    with import_lock(engine):  # the process that claimed it is alive and importing
        assert recover_stale(engine) == (0, 0)
    assert get_queued(engine, admin, queued)["status"] == "running"
    assert recover_stale(engine) == (1, 0)


def test_a_run_whose_claim_was_recovered_and_taken_again_records_nothing(
    make_user: UserFactory,
    principal_of: Callable[[int], Principal],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = _admin(make_user, principal_of)
    queued = queue_import(engine, admin, _files(tmp_path))

    def hung_then_recovered(*args: Any, **kwargs: Any) -> Any:
        # While this run hung, its claim was recovered as stale and claimed by another run.
        with write_connection(engine) as conn:
            conn.execute(
                update(QUEUE)
                .where(QUEUE.c.id == queued)
                .values(attempts=QUEUE.c.attempts + 1, started_at=now_utc())
            )
        return import_return(*args, **kwargs)

    monkeypatch.setattr(queue, "import_return", hung_then_recovered)
    assert run_next_import(engine) == queued
    job = get_queued(engine, admin, queued)
    assert (job["status"], job["report"], job["attempts"]) == ("running", None, 2)
    assert _count(engine, QUEUE_FILES) == len(_files(tmp_path / "again"))  # kept for that run


def test_the_scheduler_job_takes_its_timeout_from_the_settings(engine: Engine) -> None:
    settings = Settings(import_claim_timeout_minutes=40, import_max_attempts=5)
    jobs = ReminderJobs.from_settings(engine, settings)
    assert jobs.import_recovery == Recovery(after=timedelta(minutes=40), max_attempts=5)


def test_with_no_stale_claim_the_job_leaves_the_lock_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def taken(*args: Any) -> Any:
        raise AssertionError("the import lock was taken with nothing to recover")

    monkeypatch.setattr(queue, "import_lock", taken)
    assert recover_stale(engine) == (0, 0)
    assert run_import_queue(engine) == 0
