"""Acknowledging a selection of the director's open escalations with one comment: the
selected ones are listed on their own page, and the acknowledgement is one transaction
(all of them, or none if any was answered meanwhile)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import Services
from app.api.params import MAX_INT
from app.web.deps import CheckedForm, PageSession, require_page_roles
from app.web.forms import FormErrors, text
from app.web.routes.director import (
    ROLES,
    FilterParam,
    ack_context,
    comment_errors,
    filter_href,
    known_filters,
    level_param,
    open_escalations,
)
from app.web.templating import render
from notifications.service import AlreadyAcknowledged, acknowledge_all

router = APIRouter(include_in_schema=False)

MAX_SELECTED = 100  # four pages of the table; more is a sign of a wrong selection


def _ids(raw: list[str]) -> list[int]:
    return list(
        dict.fromkeys(int(r) for r in raw if r.isascii() and r.isdigit() and 0 < int(r) <= MAX_INT)
    )[:MAX_SELECTED]


def _selection_page(
    request: Request,
    services: Services,
    session: PageSession,
    ids: list[int],
    *,
    team: str | None,
    journey_type: str | None,
    level: str | None,
    comment: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "items": open_escalations(services, session, ids),
        "ids": ids,
        **ack_context(team, journey_type, level, comment, errors),
    }
    return render(request, "director/acknowledge_selection.html", context, status_code=status_code)


@router.get("/director/escalations/selection")
def selection_page(
    request: Request,
    services: Services,
    session: PageSession,
    ids: Annotated[list[str], Query(max_length=MAX_SELECTED)] = [],  # noqa: B006
    team: FilterParam = None,
    journey_type: FilterParam = None,
    level: FilterParam = None,
) -> Response:
    """The selected escalations and one comment box to acknowledge them all."""
    require_page_roles(session, *ROLES)
    team, journey_type = known_filters(team, journey_type)
    chosen = _ids(ids)
    if not chosen:
        return RedirectResponse(
            filter_href(team, journey_type, **level_param(level)) + "#open-escalations",
            status_code=303,
        )
    return _selection_page(
        request,
        services,
        session,
        chosen,
        team=team,
        journey_type=journey_type,
        level=level_param(level).get("level"),
    )


@router.post("/director/escalations/selection")
def acknowledge_selection(
    request: Request, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Acknowledge every selected escalation with the one comment, then back to the page."""
    require_page_roles(session, *ROLES)
    team, journey_type = known_filters(
        text(form, "team") or None, text(form, "journey_type") or None
    )
    level = level_param(text(form, "level")).get("level")
    chosen = _ids([str(v) for v in form.getlist("ids")])
    comment = text(form, "comment")
    errors = comment_errors(comment)
    if not errors and chosen:
        try:
            acknowledge_all(services.engine, chosen, session.principal, comment)
        except AlreadyAcknowledged:
            errors.add(
                "comment",
                "One of these escalations has just been acknowledged by someone else: "
                "nothing was saved. Go back to the list and select again",
            )
            return _selection_page(
                request,
                services,
                session,
                [],
                team=team,
                journey_type=journey_type,
                level=level,
                comment=comment,
                errors=errors,
                status_code=409,
            )
        return RedirectResponse(
            filter_href(team, journey_type, done="acknowledged", **level_param(level)),
            status_code=303,
        )
    return _selection_page(
        request,
        services,
        session,
        chosen,
        team=team,
        journey_type=journey_type,
        level=level,
        comment=comment,
        errors=errors,
        status_code=422,
    )
