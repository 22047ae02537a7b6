"""The import page for the system administrator (issue 13 item 2): upload the SSDA903
return's CSV tables (and an optional allocation file), read the dry run's report, choose the
authority when a regional file holds several, then apply exactly what was dry-run: that
queues it for the scheduler, and the queued import's page shows queued, running, then done
with its report. The previous imports are listed. The files wait in the database between the steps
(``services.care_record.pending``), found by a token this page holds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.api.deps import Services
from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.session import WebSession
from app.web.templating import render
from services.care_record.importer import FACT_TITLES, ImportRefused, ImportReport
from services.care_record.lock import ImportBusy
from services.care_record.pending import (
    UploadChanged,
    UploadGone,
    UploadRefused,
    discard_upload,
    dry_run_upload,
    get_import,
    list_imports,
    stage_upload,
)
from services.care_record.queue import get_queued, queue_dry_run
from states.roles import SYSADMIN

router = APIRouter(include_in_schema=False)

_DONE = {"discarded", "nothing-changed"}


def _uploads(form: FormData) -> list[tuple[str, bytes]]:
    """The files chosen in the form's two inputs; an input left empty sends an empty part
    with no name, which is not a file."""
    found: list[tuple[str, bytes]] = []
    for name in ("files", "allocation"):
        for value in form.getlist(name):
            if isinstance(value, UploadFile) and (value.filename or value.size):
                found.append((value.filename or "", value.file.read()))
    return found


def _upload_page(
    request: Request,
    services: Services,
    session: WebSession,
    *,
    errors: FormErrors | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/imports.html",
        {
            "imports": list_imports(services.engine, session.principal),
            "errors": errors or FormErrors(),
            "done": done if done in _DONE else None,
        },
        status_code=status_code,
    )


@router.get("/admin/imports")
def imports_page(
    request: Request, services: Services, session: PageSession, done: str | None = None
) -> HTMLResponse:
    """Upload a return to dry-run; the previous imports."""
    require_page_roles(session, SYSADMIN)
    return _upload_page(request, services, session, done=done)


def _fact_rows(report: ImportReport) -> list[tuple[str, Any]]:
    return [(FACT_TITLES[name], counts) for name, counts in report.facts.items()]


def _report_page(
    request: Request, token: str, report: ImportReport, files: list[dict[str, Any]]
) -> HTMLResponse:
    return render(
        request,
        "admin/import_report.html",
        {"token": token, "report": report, "facts": _fact_rows(report), "files": files},
    )


def _dry_run(
    request: Request,
    services: Services,
    session: WebSession,
    token: str,
    la: str | None,
    *,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    """Dry-run the kept files; the report, or the choice of authority, or why not."""
    try:
        report = dry_run_upload(
            services.engine, session.principal, session.session_id, token, la=la
        )
    except ImportRefused as exc:
        authorities = exc.details.get("authorities")
        if authorities:
            return render(
                request,
                "admin/import_choose_la.html",
                {
                    "token": token,
                    "authorities": [(a, a) for a in authorities],
                    "message": exc.message,
                    "errors": errors or FormErrors(),
                },
                status_code=422 if errors else 200,
            )
        discard_upload(services.engine, session.principal, session.session_id, token)
        problem = FormErrors()
        problem.add("files", exc.message)
        return _upload_page(request, services, session, errors=problem, status_code=422)
    except (ImportBusy, UploadGone, UploadChanged) as exc:
        problem = FormErrors()
        problem.add("files", exc.message)
        return _upload_page(request, services, session, errors=problem, status_code=409)
    return _report_page(request, token, report, report.files)


@router.post("/admin/imports")
def upload(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Keep the uploaded files and show their dry run."""
    require_page_roles(session, SYSADMIN)
    try:
        staged = stage_upload(
            services.engine, session.principal, session.session_id, _uploads(form)
        )
    except UploadRefused as exc:
        errors = FormErrors()
        errors.add("files", exc.message)
        return _upload_page(request, services, session, errors=errors, status_code=422)
    return _dry_run(request, services, session, staged.token, None)


@router.post("/admin/imports/dry-run")
def dry_run_for_authority(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """The dry run again, for the authority chosen from a regional file."""
    require_page_roles(session, SYSADMIN)
    la = text(form, "la")
    if not la:
        errors = FormErrors()
        errors.add("la", "Select the authority to import")
        return _dry_run(request, services, session, text(form, "token"), None, errors=errors)
    return _dry_run(request, services, session, text(form, "token"), la)


@router.post("/admin/imports/apply")
def apply(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Queue what was dry-run (or forget it, with ``discard``); the queued import's page.
    The import runs in the scheduler (``services.care_record.queue``), not in this request."""
    require_page_roles(session, SYSADMIN)
    token = text(form, "token")
    try:
        if text(form, "action") == "discard":
            discard_upload(services.engine, session.principal, session.session_id, token)
            return RedirectResponse("/admin/imports?done=discarded", status_code=303)
        queue_id = queue_dry_run(services.engine, session.principal, session.session_id, token)
    except (UploadGone, UploadChanged, UploadRefused) as exc:
        errors = FormErrors()
        errors.add("files", exc.message)
        return _upload_page(request, services, session, errors=errors, status_code=409)
    return RedirectResponse(f"/admin/imports/queue/{queue_id}", status_code=303)


@router.get("/admin/imports/queue/{queue_id}")
def queued_page(
    request: Request, queue_id: PathId, services: Services, session: PageSession
) -> HTMLResponse:
    """A queued import: queued, running (the page refreshes itself), done with its report,
    or failed with why."""
    require_page_roles(session, SYSADMIN)
    job = get_queued(services.engine, session.principal, queue_id)
    report = job["report"] or {}
    return render(
        request,
        "admin/import_queued.html",
        {
            "job": job,
            "children": report.get("children", {}),
            "refresh": job["status"] in ("queued", "running"),
        },
    )


@router.get("/admin/imports/{import_id}")
def import_page(
    request: Request,
    import_id: PathId,
    services: Services,
    session: PageSession,
    done: str | None = None,
) -> HTMLResponse:
    """One import: who, when, each file's SHA-256 and the counts."""
    require_page_roles(session, SYSADMIN)
    run = get_import(services.engine, session.principal, import_id)
    return render(
        request,
        "admin/import.html",
        {
            "run": run,
            "facts": [(title, run.counts.get(name, {})) for name, title in FACT_TITLES.items()],
            "done": done == "imported",
        },
    )
