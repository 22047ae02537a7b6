"""Dependencies of the pages: the signed-in session, role checks and CSRF-checked forms."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from starlette.datastructures import FormData

from app.api.deps import Services, call_db
from app.web import session as web_session
from app.web.session import WebSession

CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No live session: the page answers with a redirect to the sign-in page."""


class CsrfRejected(HTTPException):
    """The form's token is missing or not this session's: refused, nothing written."""

    def __init__(self) -> None:
        super().__init__(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="This form has expired or did not come from this service. "
            "Go back, reload the page and try again.",
        )


async def get_web_session(request: Request, services: Services) -> WebSession:
    """The browser's live session, or a redirect to sign in."""
    token = request.cookies.get(web_session.COOKIE)
    found = await call_db(services, web_session.load, services.engine, token, services.settings)
    if found is None:
        raise SignInRequired()
    # Error pages rendered later in this request show the user's navigation.
    request.state.web_session = found
    return found


PageSession = Annotated[WebSession, Depends(get_web_session)]


def require_page_roles(session: WebSession, *roles: str) -> None:
    """403 page unless the user has one of ``roles``."""
    if session.principal.roles.isdisjoint(roles):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="Your role does not give access to this page.",
        )


def csrf_matches(expected: str, given: object) -> bool:
    """Constant-time comparison of a form's token with the expected one."""
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)


async def checked_form(request: Request, session: PageSession) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    if not csrf_matches(session.csrf_token, form.get(CSRF_FIELD)):
        raise CsrfRejected()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
