"""The cohorts' pages (issue 13 item 8): every cohort with its rule and how many children it
holds, and a page per cohort listing its children as of a date with why each is there. The
panel administrator and chair record a connected person's carer approval on the 16-week
cohort's page. The rules and the access checks are ``services.cohorts``'."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from app.api.params import MAX_DATE, MAX_PAGE, MIN_DATE, whole_number
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.routes.panel_common import Panel
from app.web.routes.panel_tracker import query_form
from app.web.session import WebSession
from app.web.templating import render
from services import cohorts
from services.clock import today
from states.roles import PANEL_ADMIN, PANEL_CHAIR, SERVICE_DIRECTOR, SERVICE_MANAGER, TEAM_MANAGER
from workflow.errors import EngineError

router = APIRouter(include_in_schema=False)

PAGE_ROLES = (PANEL_ADMIN, PANEL_CHAIR, SERVICE_MANAGER, SERVICE_DIRECTOR, TEAM_MANAGER)
APPROVAL_COHORT = "connected_person_16_weeks"
DONE = {"carer_approved": "Carer approval recorded"}
# A cohort page lists this many children at a time: at national size the largest cohort
# holds tens of thousands (all of them made a 17 MB page).
PER_PAGE = 200


def _as_of(query: FormData, errors: FormErrors) -> date | None:
    """The date from ``?as_of=YYYY-MM-DD`` or from the page's date input."""
    iso = text(query, "as_of")
    if iso:
        try:
            day = date.fromisoformat(iso)
        except ValueError:
            day = None
        if day is None or not MIN_DATE <= day <= MAX_DATE:
            errors.add("as_of-day", "The date must be a real date, such as 2026-12-03")
            return None
        return day
    day = read_date(query, "as_of", "The date", errors, required=False)
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        errors.add("as_of-year", f"The year must be from {MIN_DATE.year} to {MAX_DATE.year}")
        return None
    return day


def _shown_date(query: FormData, day: date | None) -> dict[str, str]:
    if text(query, "as_of") and day is not None:
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    return echo_date(query, "as_of")


@router.get("/panel/cohorts")
def cohort_list(request: Request, session: PageSession, panel: Panel) -> HTMLResponse:
    """Every cohort: title, rule, the children in it today, and whether this panel tracks it."""
    require_page_roles(session, *PAGE_ROLES)
    query = query_form(request)
    errors = FormErrors()
    on = _as_of(query, errors) or today()
    found = cohorts.cohort_counts(panel.engine, session.principal, as_of=on)
    tracked = {s for p in panel.config.parts for s in p.takes}
    return render(
        request,
        "panel/cohorts.html",
        {
            "cohorts": cohorts.COHORTS,
            "counts": found.counts,
            "computed_at": found.computed_at,
            "tracked": tracked,
            "on": on,
            "as_of": _shown_date(query, on if not errors else None),
            "panel_name": panel.config.panel.name,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


def _cohort_page(
    request: Request,
    session: WebSession,
    panel: Panel,
    name: str,
    query: FormData,
    errors: FormErrors,
    *,
    typed: dict[str, str] | None = None,
    chosen: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    on = _as_of(query, errors) or today()
    page = whole_number(text(query, "page"), 1, MAX_PAGE) or 1
    found = cohorts.cohort_children(
        panel.engine,
        name,
        session.principal,
        as_of=on,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    first = found.offset + 1 if found.children else 0
    approves = name == APPROVAL_COHORT and not session.principal.roles.isdisjoint(
        cohorts.APPROVE_CARER_ROLES
    )
    return render(
        request,
        "panel/cohort.html",
        {
            "cohort": found.cohort,
            "children": found.children,
            "total": found.total,
            "first": first,
            "last": found.offset + len(found.children),
            "page": page,
            "has_next": found.offset + len(found.children) < found.total,
            "computed_at": found.computed_at,
            "on": found.as_of,
            "as_of": _shown_date(query, on),
            "panel_name": panel.config.panel.name,
            "approves": approves,
            "approved_on": typed or {},
            "chosen": chosen,
            "child_options": [(str(c.child_id), c.reference) for c in found.children],
            "done_message": DONE.get(text(query, "done")),
            "errors": errors,
        },
        status_code=400 if errors and status_code == 200 else status_code,
    )


@router.get("/panel/cohorts/{name}")
def cohort_page(request: Request, name: str, session: PageSession, panel: Panel) -> HTMLResponse:
    """One cohort's children on a date (default today): reference, since when, and why."""
    require_page_roles(session, *PAGE_ROLES)
    cohorts.cohort(name)  # 404 before anything else for a name that is no cohort
    return _cohort_page(request, session, panel, name, query_form(request), FormErrors())


@router.post("/panel/cohorts/{name}/carer-approval", response_model=None)
def record_approval(
    request: Request, name: str, session: PageSession, form: CheckedForm, panel: Panel
) -> HTMLResponse | RedirectResponse:
    """Record a connected person's carer approval for a child of the 16-week cohort."""
    require_page_roles(session, PANEL_ADMIN, PANEL_CHAIR)
    cohorts.cohort(name)
    errors = FormErrors()
    child = text(form, "child_id")
    if not child.isdigit() or not 1 <= int(child) <= 2**31 - 1:
        errors.add("child_id", "Select the child whose carer was approved")
    approved_on = read_date(form, "approved_on", "The date of approval", errors)
    if approved_on is not None and approved_on > today():
        errors.add("approved_on-day", "The date of approval must be today or in the past")
    conflict = False
    if not errors and approved_on is not None:
        try:
            cohorts.record_carer_approval(panel.engine, int(child), approved_on, session.principal)
        except EngineError as exc:
            if exc.status_code not in (409, 422):
                raise
            conflict = exc.status_code == 409
            errors.add("approved_on-day", exc.message)
        else:
            return RedirectResponse(f"/panel/cohorts/{name}?done=carer_approved", status_code=303)
    return _cohort_page(
        request,
        session,
        panel,
        name,
        FormData(),
        errors,
        typed=echo_date(form, "approved_on"),
        chosen=child,
        status_code=409 if conflict else 400,
    )
