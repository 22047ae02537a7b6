"""The care record's import: the SSDA903 return uploaded by a system administrator."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, UploadFile

from app.api.deps import CurrentPrincipal, Services, require_roles
from app.api.responses import errors
from services.care_record.importer import import_return
from states.roles import SYSADMIN

router = APIRouter(prefix="/care-record", tags=["care record"])

_MAX_FILES = 20


def _safe_name(name: str | None, number: int) -> str:
    """The upload's own file name without any folder (a browser may send a path)."""
    base = Path((name or "").replace("\\", "/")).name.strip()
    return base or f"upload-{number}.csv"


@router.post("/imports", responses=errors(400, 401, 403, 422))
def import_ssda903(
    services: Services,
    principal: CurrentPrincipal,
    files: list[UploadFile],
    la: Annotated[str | None, Form(max_length=100)] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Import the uploaded SSDA903 CSV tables (system administrators); the import report.

    The tables are recognised by their columns, so the files may be named anything. With
    ``dry_run`` the report says what the import would do and nothing is written. A regional
    file of several authorities without ``la`` is refused (422) naming them.
    """
    require_roles(principal, SYSADMIN)
    if not files or len(files) > _MAX_FILES:
        raise HTTPException(
            status_code=422,
            detail=f"Upload between 1 and {_MAX_FILES} CSV files.",
        )
    folder = Path(tempfile.mkdtemp(prefix="ssda903-"))
    try:
        paths: list[str] = []
        names: dict[str, str] = {}
        for number, upload in enumerate(files, start=1):
            name = _safe_name(upload.filename, number)
            # A folder per file: two uploads may share a name (two years' header.csv).
            path = folder / str(number) / name
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(str(path))
            names[str(path)] = name
        report = import_return(
            services.engine,
            paths,
            la=la or None,
            actor=principal.user_id,
            dry_run=dry_run,
            names=names,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report.as_dict()
