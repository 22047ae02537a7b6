"""The care record's work lists (issue 13 item 5): "to confirm" (the return cannot say
enough; each row links to the child and to the action, or records that there is nothing to
confirm) and "record and journeys disagree" (both sides, with a link to the journey). The
lists and their rules live in ``services.care_record.lists``; the pages only show them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.api.deps import Services
from app.api.params import MAX_PAGE, PathId, whole_number
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.routes.my_work import MY_WORK_ROLES
from app.web.templating import render
from services.care_record import lists
from services.journeys import NotFound
from workflow.errors import InvalidData

router = APIRouter(include_in_schema=False)


def _page_number(raw: str | None) -> int:
    return whole_number(raw or "", 1, MAX_PAGE) or 1


@router.get("/care-record/to-confirm")
def to_confirm_page(
    request: Request,
    services: Services,
    session: PageSession,
    page: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """The children whose record needs a person to confirm what the return cannot say."""
    require_page_roles(session, *MY_WORK_ROLES)
    found = lists.to_confirm(services.engine, session.principal, page=_page_number(page))
    return render(
        request,
        "casework/to_confirm.html",
        {
            "found": found,
            "done": done == "dismissed",
            "may_dismiss": not session.principal.roles.isdisjoint(lists.DISMISS_ROLES),
        },
    )


def _reason_or_404(reason: str) -> lists.Reason:
    found = lists.CONFIRM_BY_NAME.get(reason)
    if found is None or not found.dismissable:
        raise NotFound("There is no such reason on the list.")
    return found


def _dismiss_page(
    request: Request,
    child_id: int,
    reason: lists.Reason,
    *,
    form: FormData | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "casework/nothing_to_confirm.html",
        {
            "child_id": child_id,
            "reason": reason,
            "note": text(form, "note") if form is not None else "",
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@router.get("/care-record/to-confirm/{child_id}/{reason}")
def nothing_to_confirm_form(
    request: Request, child_id: PathId, reason: str, session: PageSession
) -> HTMLResponse:
    """Say why there is nothing to confirm for this child and reason."""
    require_page_roles(session, *lists.DISMISS_ROLES)
    return _dismiss_page(request, child_id, _reason_or_404(reason))


@router.post("/care-record/to-confirm/{child_id}/{reason}")
def nothing_to_confirm(
    request: Request,
    child_id: PathId,
    reason: str,
    services: Services,
    session: PageSession,
    form: CheckedForm,
) -> Response:
    """Record that there is nothing to confirm; the child leaves the list for this fact."""
    require_page_roles(session, *lists.DISMISS_ROLES)
    found = _reason_or_404(reason)
    try:
        lists.dismiss(
            services.engine,
            session.principal,
            child_id,
            reason=found.name,
            note=text(form, "note"),
        )
    except InvalidData as exc:
        errors = FormErrors()
        errors.add("note", exc.message)
        return _dismiss_page(request, child_id, found, form=form, errors=errors, status_code=422)
    return RedirectResponse("/care-record/to-confirm?done=dismissed", status_code=303)


@router.get("/care-record/disagreements")
def disagreements_page(
    request: Request, services: Services, session: PageSession, page: str | None = None
) -> HTMLResponse:
    """The children whose imported record and a journey a person moved disagree."""
    require_page_roles(session, *MY_WORK_ROLES)
    found = lists.disagreements(services.engine, session.principal, page=_page_number(page))
    return render(request, "casework/disagreements.html", {"found": found})
