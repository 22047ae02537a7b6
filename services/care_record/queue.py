"""Imports out of the web request (issue 13): the upload is recorded as a queued import
(its files' bytes and SHA-256) and the request answers at once; the scheduler process (or
the scheduler running inside ``permanence serve``) runs queued imports one at a time
(:func:`run_import_queue`) and records the report, or the error.

One at a time: a queued import is claimed by one conditional UPDATE (``queued`` to
``running``), so two schedulers never both run it, and the import itself holds the import
lock (``lock.py``: an advisory lock on PostgreSQL, a file lock on SQLite), so it never runs
beside a command-line import either; when that lock is taken the import goes back to the
queue for the next run. A claim left ``running`` by a process that died (the server
restarted mid-import) is recovered by the job (:func:`recover_stale`): once the claim is
older than the timeout (``import_claim_timeout_minutes``) and no import holds the lock, it
goes back to the queue, or is marked failed after ``import_max_attempts`` claims. A failure
records the error's words (an import refusal's message,
else only the error's kind: a driver's message can quote values) and the import's own
semantics hold: each child's rows apply whole or not at all. The files' bytes are deleted
once the import has run.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import structlog
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    LargeBinary,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlmodel import Field, SQLModel

from services.access import Principal
from services.care_record.importer import ImportRefused, import_return
from services.care_record.lock import ImportBusy, import_lock
from services.care_record.models import PENDING_IMPORT_FILES
from services.care_record.pending import (
    UploadChanged,
    UploadGone,
    UploadRefused,
    check_upload,
    discard_upload,
    pending_row,
    safe_file_name,
    unpack_files,
)
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import core_table
from states.roles import SYSADMIN

log = structlog.get_logger("permanence.care_record")

STATUSES = ("queued", "running", "done", "failed")


class QueuedImport(SQLModel, table=True):
    """An import asked for on the page or the API, waiting for (or run by) the scheduler
    (migration 0028)."""

    __tablename__: ClassVar[Any] = "care_import_queue"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="app_user.id")
    la: str | None = Field(default=None, max_length=100)
    status: str = Field(default="queued", max_length=10, index=True)
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # [{"file": name as uploaded, "sha256": hex}], in the order given.
    files: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=1000)
    import_id: int | None = Field(default=None, foreign_key="care_import.id")
    # How many times a scheduler claimed it (migration 0030): a claim whose process died is
    # retried until the limit, then failed, so one import that kills its process cannot
    # take the scheduler down again and again.
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class QueuedImportFile(SQLModel, table=True):
    """One file of a :class:`QueuedImport`: its bytes (deleted once the import has run)."""

    __tablename__: ClassVar[Any] = "care_import_queue_file"

    id: int | None = Field(default=None, primary_key=True)
    queue_id: int = Field(foreign_key="care_import_queue.id", index=True)
    number: int
    name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


QUEUE = core_table(QueuedImport)
QUEUE_FILES = core_table(QueuedImportFile)


def _require_sysadmin(principal: Principal) -> None:
    if SYSADMIN not in principal.roles:
        raise AccessDenied("Only a system administrator imports the care record.")


def queue_import(
    engine: Engine,
    principal: Principal,
    files: Sequence[tuple[str, bytes]],
    *,
    la: str | None = None,
) -> int:
    """Record ``files`` (name, bytes) as a queued import for authority ``la``; its id."""
    check_upload(principal, files)
    rows: list[dict[str, Any]] = []
    for number, (name, content) in enumerate(files, start=1):
        shown = safe_file_name(name, number)
        if not content:
            raise UploadRefused(f"{shown} is empty.")
        digest = hashlib.sha256(content).hexdigest()
        rows.append({"number": number, "name": shown, "sha256": digest, "content": content})
    with write_connection(engine) as conn:
        queue_id = insert_id(
            conn.execute(
                insert(QUEUE).values(
                    actor_id=principal.user_id,
                    la=la,
                    status="queued",
                    queued_at=now_utc(),
                    files=[{"file": r["name"], "sha256": r["sha256"]} for r in rows],
                )
            )
        )
        conn.execute(insert(QUEUE_FILES), [{**r, "queue_id": queue_id} for r in rows])
    log.info("care_import_queued", queue_id=queue_id, count=len(rows))
    return queue_id


def get_queued(engine: Engine, principal: Principal, queue_id: int) -> dict[str, Any]:
    """A queued import's status, files and (when done) report or (when failed) error."""
    _require_sysadmin(principal)
    with read_connection(engine) as conn:
        row = conn.execute(select(QUEUE).where(QUEUE.c.id == queue_id)).first()
    if row is None:
        raise NotFound(f"There is no queued import {queue_id}.")
    return dict(row._mapping)


@dataclass(frozen=True)
class Recovery:
    """How a stale claim is judged: older than ``after``, it is retried while it has had
    fewer than ``max_attempts`` claims, then failed."""

    after: timedelta = timedelta(minutes=15)
    max_attempts: int = 3


STALE_ERROR = (
    "The import was interrupted {attempts} times (the process running it stopped); "
    "it was not tried again. Upload the files again."
)


def recover_stale(engine: Engine, recovery: Recovery = Recovery()) -> tuple[int, int]:
    """Put back in the queue the imports left ``running`` by a process that died, or mark
    them failed after ``recovery.max_attempts`` claims: (requeued, failed).

    A claim older than ``recovery.after`` is stale only while no import holds the import
    lock: a running import holds it for its whole run (and a dead process's lock is
    released by the server or the kernel), so a long import that is still alive is never
    taken from under itself. Each change is one conditional update, so two schedulers
    recovering at once change each claim once."""
    cutoff = now_utc() - recovery.after
    stale = and_(
        QUEUE.c.status == "running",
        QUEUE.c.started_at.is_not(None),
        QUEUE.c.started_at < cutoff,
    )
    # Looked for first: the lock is taken only when there is a claim to judge, so the job's
    # every run does not, for that moment, refuse a command-line import its lock.
    with read_connection(engine) as conn:
        if conn.execute(select(QUEUE.c.id).where(stale).limit(1)).first() is None:
            return 0, 0
    try:
        with import_lock(engine), write_connection(engine) as conn:
            ids = list(conn.execute(select(QUEUE.c.id).where(stale)).scalars())
            requeued = conn.execute(
                update(QUEUE)
                .where(stale, QUEUE.c.attempts < recovery.max_attempts)
                .values(status="queued", started_at=None)
            ).rowcount
            failed_ids = list(
                conn.execute(
                    select(QUEUE.c.id).where(stale, QUEUE.c.attempts >= recovery.max_attempts)
                ).scalars()
            )
            for queue_id in failed_ids:
                attempts = conn.execute(
                    select(QUEUE.c.attempts).where(QUEUE.c.id == queue_id)
                ).scalar_one()
                conn.execute(
                    update(QUEUE)
                    .where(QUEUE.c.id == queue_id, stale)
                    .values(
                        status="failed",
                        error=STALE_ERROR.format(attempts=attempts),
                        finished_at=now_utc(),
                    )
                )
                conn.execute(delete(QUEUE_FILES).where(QUEUE_FILES.c.queue_id == queue_id))
    except ImportBusy:
        return 0, 0  # an import is running: nothing is stale while it holds the lock
    if ids:
        log.warning("care_import_claims_recovered", requeued=requeued, failed=len(failed_ids))
    return int(requeued), len(failed_ids)


def _claim(conn: Any) -> Any:
    """The oldest queued import, now ``running``; None when the queue is empty (or another
    scheduler claimed it first)."""
    oldest = conn.execute(
        select(QUEUE.c.id).where(QUEUE.c.status == "queued").order_by(QUEUE.c.id).limit(1)
    ).scalar()
    if oldest is None:
        return None
    claimed = conn.execute(
        update(QUEUE)
        .where(QUEUE.c.id == oldest, QUEUE.c.status == "queued")
        .values(status="running", started_at=now_utc(), attempts=QUEUE.c.attempts + 1)
    ).rowcount
    if claimed != 1:
        return None
    return conn.execute(select(QUEUE).where(QUEUE.c.id == oldest)).one()


def _still_ours(job: Any) -> Any:
    return and_(QUEUE.c.id == job.id, QUEUE.c.status == "running", QUEUE.c.attempts == job.attempts)


def run_next_import(engine: Engine) -> int | None:
    """Run the oldest queued import and record its outcome; its id (None: nothing ran)."""
    with write_connection(engine) as conn:
        job = _claim(conn)
    if job is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="ssda903-queue-"))
    outcome: dict[str, Any]
    try:
        with read_connection(engine) as conn:
            files = conn.execute(
                select(QUEUE_FILES)
                .where(QUEUE_FILES.c.queue_id == job.id)
                .order_by(QUEUE_FILES.c.number)
            ).all()
        paths, names = unpack_files(
            files, folder, lambda name: ImportRefused(f"{name} is not the file that was uploaded.")
        )
        report = import_return(engine, paths, la=job.la, actor=job.actor_id, names=names)
        outcome = {
            "status": "done",
            "report": report.as_dict(),
            "import_id": report.import_id,
        }
    except ImportBusy:
        # Another import holds the lock: back in the queue, for the next run.
        # Not an attempt: the claim is given back as it was.
        with write_connection(engine) as conn:
            conn.execute(
                update(QUEUE)
                .where(_still_ours(job))
                .values(status="queued", started_at=None, attempts=QUEUE.c.attempts - 1)
            )
        return None
    except ImportRefused as exc:
        outcome = {"status": "failed", "error": exc.message[:1000]}
    except Exception as exc:  # recorded, not raised: the scheduler carries on
        log.exception("care_import_failed", queue_id=job.id)
        outcome = {"status": "failed", "error": f"The import failed ({type(exc).__name__})."}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with write_connection(engine) as conn:
        # Only while the claim is still this run's: one recovered as stale and claimed
        # again belongs to that run (the import itself is the same either way: a second
        # run of the same files writes nothing).
        ours = conn.execute(
            update(QUEUE).where(_still_ours(job)).values(**outcome, finished_at=now_utc())
        ).rowcount
        if ours:
            conn.execute(delete(QUEUE_FILES).where(QUEUE_FILES.c.queue_id == job.id))
    log.info("care_import_ran", queue_id=job.id, kind=outcome["status"])
    return int(job.id)


def run_import_queue(engine: Engine, recovery: Recovery = Recovery()) -> int:
    """Recover stale claims (:func:`recover_stale`), then run queued imports one after
    another until none is waiting; how many ran."""
    recover_stale(engine, recovery)
    ran = 0
    while run_next_import(engine) is not None:
        ran += 1
    return ran


def queue_dry_run(engine: Engine, principal: Principal, session_id: int, token: str) -> int:
    """Queue the import page's kept upload exactly as it was dry-run (same bytes, same
    authority) and forget the kept upload; the queued import's id. Refusals as
    :func:`pending.apply_upload`'s (never dry-run, gone, or a file changed)."""
    _require_sysadmin(principal)
    with read_connection(engine) as conn:
        kept = pending_row(conn, principal, session_id, token)
        if kept.dry_run_at is None:
            raise UploadGone("Run the dry run of these files first.")
        files = conn.execute(
            select(PENDING_IMPORT_FILES)
            .where(PENDING_IMPORT_FILES.c.pending_id == kept.id)
            .order_by(PENDING_IMPORT_FILES.c.number)
        ).all()
    read = [{"file": f.name, "sha256": hashlib.sha256(bytes(f.content)).hexdigest()} for f in files]
    if read != kept.dry_run_files:
        raise UploadChanged("The files are not the ones the dry run read. Upload them again.")
    queue_id = queue_import(
        engine, principal, [(f.name, bytes(f.content)) for f in files], la=kept.la
    )
    discard_upload(engine, principal, session_id, token)
    return queue_id
