"""The import page's two steps (issue 13 item 2): upload and dry-run, then apply.

The system administrator's upload is kept in the database (``pending_import`` and its
files), not in the web process, so the second step finds the very same bytes whichever
worker or instance answers it. The page holds a random token; only its SHA-256 is stored,
and a pending upload is found only with that token, by the user and browser session that
uploaded it, for an hour. Applying needs a dry run first, imports with the authority that
dry run used, and checks that every file's SHA-256 is still the one the dry run read: what is
applied is exactly what was dry-run. An applied upload is deleted; so are uploads older than
an hour, whenever a new one is stored.

The list of previous imports (who, when, each file's SHA-256, the counts) is here too.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from services.access import Principal
from services.care_record.importer import ImportReport, import_return
from services.care_record.models import CARE_IMPORTS, PENDING_IMPORT_FILES, PENDING_IMPORTS
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import USERS as U
from services.users import person_name
from states.roles import SYSADMIN
from workflow.errors import EngineError

PENDING_FOR = timedelta(hours=1)
MAX_FILES = 20
NAME_MAX = 255


class UploadRefused(EngineError):
    """The upload cannot be kept: no files, too many, or an empty one."""

    status_code = 422
    code = "upload_refused"


class UploadGone(EngineError):
    """The pending upload is not there for this user and session (expired, applied, or
    never theirs), or has not been dry-run yet."""

    status_code = 409
    code = "upload_gone"


class UploadChanged(EngineError):
    """A kept file's bytes no longer have the SHA-256 the dry run read: nothing applied."""

    status_code = 409
    code = "upload_changed"


def _require_sysadmin(principal: Principal) -> None:
    if SYSADMIN not in principal.roles:
        raise AccessDenied("Only a system administrator imports the care record.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_file_name(name: str | None, number: int) -> str:
    """An upload's own file name without any folder (a browser may send a path)."""
    base = Path((name or "").replace("\\", "/")).name.strip()[:NAME_MAX]
    return base or f"upload-{number}.csv"


@dataclass(frozen=True)
class StagedFile:
    """One kept file: its name as uploaded and its SHA-256."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Staged:
    """A kept upload: the token the page holds, and its files."""

    token: str
    files: tuple[StagedFile, ...]


def check_upload(principal: Principal, files: Sequence[tuple[str, bytes]]) -> None:
    """Refuse an upload by anyone but the system administrator, of no file or too many."""
    _require_sysadmin(principal)
    if not files:
        raise UploadRefused("Select one or more CSV files to import.")
    if len(files) > MAX_FILES:
        raise UploadRefused(f"Upload at most {MAX_FILES} files at once.")


def stage_upload(
    engine: Engine, principal: Principal, session_id: int, files: Sequence[tuple[str, bytes]]
) -> Staged:
    """Keep ``files`` (name, bytes) for this user's session; the token that finds them."""
    check_upload(principal, files)
    kept: list[StagedFile] = []
    rows: list[dict[str, Any]] = []
    for number, (name, content) in enumerate(files, start=1):
        shown = safe_file_name(name, number)
        if not content:
            raise UploadRefused(f"{shown} is empty.")
        digest = hashlib.sha256(content).hexdigest()
        kept.append(StagedFile(shown, digest, len(content)))
        rows.append({"number": number, "name": shown, "sha256": digest, "content": content})
    token = secrets.token_urlsafe(32)
    stamp = now_utc()
    with write_connection(engine) as conn:
        _purge(conn, stamp)
        pending_id = insert_id(
            conn.execute(
                insert(PENDING_IMPORTS).values(
                    token_hash=_hash(token),
                    actor_id=principal.user_id,
                    session_id=session_id,
                    created_at=stamp,
                )
            )
        )
        conn.execute(insert(PENDING_IMPORT_FILES), [{**r, "pending_id": pending_id} for r in rows])
    return Staged(token, tuple(kept))


def _purge(conn: Any, stamp: datetime) -> None:
    old = select(PENDING_IMPORTS.c.id).where(PENDING_IMPORTS.c.created_at < stamp - PENDING_FOR)
    ids = list(conn.execute(old).scalars())
    if ids:
        conn.execute(delete(PENDING_IMPORT_FILES).where(PENDING_IMPORT_FILES.c.pending_id.in_(ids)))
        conn.execute(delete(PENDING_IMPORTS).where(PENDING_IMPORTS.c.id.in_(ids)))


def _pending(conn: Any, principal: Principal, session_id: int, token: str) -> Any:
    row = conn.execute(
        select(PENDING_IMPORTS).where(PENDING_IMPORTS.c.token_hash == _hash(token or ""))
    ).first()
    if (
        row is None
        or row.actor_id != principal.user_id
        or row.session_id != session_id
        or row.created_at < now_utc() - PENDING_FOR
    ):
        raise UploadGone(
            "These files are no longer kept (they were applied, or were uploaded more than an "
            "hour ago, or in another session). Upload them again."
        )
    return row


def pending_row(conn: Any, principal: Principal, session_id: int, token: str) -> Any:
    """The kept upload this user's session holds the token of (:class:`UploadGone` if none):
    the import queue (``queue.py``) takes a dry-run upload from here."""
    return _pending(conn, principal, session_id, token)


def _write_files(conn: Any, pending_id: int, folder: Path) -> tuple[list[str], dict[str, str]]:
    """The kept files written to ``folder``, each checked against its recorded SHA-256."""
    rows = conn.execute(
        select(PENDING_IMPORT_FILES)
        .where(PENDING_IMPORT_FILES.c.pending_id == pending_id)
        .order_by(PENDING_IMPORT_FILES.c.number)
    )
    return unpack_files(
        rows,
        folder,
        lambda name: UploadChanged(f"{name} is not the file that was uploaded. Upload it again."),
    )


def unpack_files(
    rows: Iterable[Any], folder: Path, changed: Callable[[str], Exception]
) -> tuple[list[str], dict[str, str]]:
    """Stored upload rows (``number``, ``name``, ``content``, ``sha256``) written to
    ``folder``, a folder each (two may share a name): the paths, and each path's file name
    as uploaded. A file whose bytes no longer match the SHA-256 recorded when it was
    uploaded raises ``changed(name)``."""
    paths: list[str] = []
    names: dict[str, str] = {}
    for row in rows:
        content = bytes(row.content)
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise changed(row.name)
        path = folder / str(row.number) / row.name
        path.parent.mkdir()
        path.write_bytes(content)
        paths.append(str(path))
        names[str(path)] = row.name
    return paths, names


def dry_run_upload(
    engine: Engine, principal: Principal, session_id: int, token: str, *, la: str | None
) -> ImportReport:
    """The dry run of a kept upload, for authority ``la`` (a regional file's choice); it is
    what :func:`apply_upload` will apply. Refusals as :func:`importer.import_return`'s."""
    _require_sysadmin(principal)
    folder = Path(tempfile.mkdtemp(prefix="ssda903-"))
    try:
        with read_connection(engine) as conn:
            pending = _pending(conn, principal, session_id, token)
            paths, names = _write_files(conn, pending.id, folder)
        report = import_return(
            engine, paths, la=la, actor=principal.user_id, dry_run=True, names=names
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with write_connection(engine) as conn:
        conn.execute(
            update(PENDING_IMPORTS)
            .where(PENDING_IMPORTS.c.id == pending.id)
            .values(
                dry_run_at=now_utc(),
                la=la,
                dry_run_files=[{"file": f["file"], "sha256": f["sha256"]} for f in report.files],
            )
        )
    return report


def apply_upload(engine: Engine, principal: Principal, session_id: int, token: str) -> ImportReport:
    """Import the kept upload exactly as it was dry-run (same bytes, same authority), then
    forget it. :class:`UploadGone` when it was never dry-run or is gone; :class:`UploadChanged`
    when a file's SHA-256 is not the one the dry run read."""
    _require_sysadmin(principal)
    folder = Path(tempfile.mkdtemp(prefix="ssda903-"))
    try:
        with read_connection(engine) as conn:
            pending = _pending(conn, principal, session_id, token)
            if pending.dry_run_at is None:
                raise UploadGone("Run the dry run of these files first.")
            paths, names = _write_files(conn, pending.id, folder)
        read = [{"file": names[p], "sha256": _file_sha256(p)} for p in paths]
        if read != pending.dry_run_files:
            raise UploadChanged("The files are not the ones the dry run read. Upload them again.")
        report = import_return(
            engine, paths, la=pending.la, actor=principal.user_id, dry_run=False, names=names
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with write_connection(engine) as conn:
        conn.execute(
            delete(PENDING_IMPORT_FILES).where(PENDING_IMPORT_FILES.c.pending_id == pending.id)
        )
        conn.execute(delete(PENDING_IMPORTS).where(PENDING_IMPORTS.c.id == pending.id))
    return report


def _file_sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def discard_upload(engine: Engine, principal: Principal, session_id: int, token: str) -> None:
    """Forget a kept upload without importing it."""
    _require_sysadmin(principal)
    with write_connection(engine) as conn:
        pending = _pending(conn, principal, session_id, token)
        conn.execute(
            delete(PENDING_IMPORT_FILES).where(PENDING_IMPORT_FILES.c.pending_id == pending.id)
        )
        conn.execute(delete(PENDING_IMPORTS).where(PENDING_IMPORTS.c.id == pending.id))


@dataclass(frozen=True)
class ImportRun:
    """A previous import: who, when, each file's SHA-256, the counts."""

    id: int
    by: str
    started_at: datetime
    finished_at: datetime | None
    la: str | None
    files: list[dict[str, Any]]
    counts: dict[str, Any]


def _runs(query: Any, engine: Engine) -> list[ImportRun]:
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    return [
        ImportRun(
            id=r.id,
            by=r.by or "the command line",
            started_at=r.started_at,
            finished_at=r.finished_at,
            la=r.la,
            files=list(r.files or []),
            counts=dict(r.counts or {}),
        )
        for r in rows
    ]


def _runs_query() -> Any:
    I = CARE_IMPORTS  # noqa: E741 (the table's initial, as the other queries name theirs)
    return select(
        I.c.id,
        I.c.started_at,
        I.c.finished_at,
        I.c.la,
        I.c.files,
        I.c.counts,
        person_name(U).label("by"),
    ).outerjoin(U, U.c.id == I.c.actor_id)


def list_imports(engine: Engine, principal: Principal, *, limit: int = 50) -> list[ImportRun]:
    """The latest imports, newest first (system administrators)."""
    _require_sysadmin(principal)
    return _runs(_runs_query().order_by(CARE_IMPORTS.c.id.desc()).limit(limit), engine)


def get_import(engine: Engine, principal: Principal, import_id: int) -> ImportRun:
    """One import (system administrators); 404 if there is none."""
    _require_sysadmin(principal)
    found = _runs(_runs_query().where(CARE_IMPORTS.c.id == import_id), engine)
    if not found:
        raise NotFound(f"There is no import {import_id}.")
    return found[0]
