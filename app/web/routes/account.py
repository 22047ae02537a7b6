"""Sign in, sign out, the landing redirect and the account page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import Services, call_db
from app.web import session as web_session
from app.web.deps import CSRF_FIELD, CheckedForm, PageSession, csrf_matches
from app.web.forms import FormErrors
from app.web.templating import home_for, render
from services import sign_in as sign_in_rule
from services.users import load_principal

router = APIRouter(include_in_schema=False)

# Before there is a session, the sign-in form is protected by a double-submit token: a
# random value in a strict cookie that the form must repeat.
SIGN_IN_COOKIE = "permanence_sign_in"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this service: never another site (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _sign_in_page(
    request: Request,
    *,
    errors: FormErrors | None = None,
    username: str = "",
    next_path: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        {
            "errors": errors or FormErrors(),
            "username": username,
            "next": next_path or "",
            "sign_in_token": token,
        },
        status_code=status_code,
    )
    secure = request.app.state.services.settings.session_cookie_secure
    response.set_cookie(
        SIGN_IN_COOKIE, token, httponly=True, secure=secure, samesite="strict", max_age=3600
    )
    return response


@router.get("/")
def landing(session: PageSession) -> Response:
    """Signed in: the user's main page (without a session, PageSession sends them to sign in)."""
    return RedirectResponse(home_for(session.principal.roles), status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in page."""
    return _sign_in_page(request, next_path=_safe_next(next))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    services: Services,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the credentials (throttled: services.sign_in), start a session and go to the
    page asked for (or home)."""
    next_path = _safe_next(next)
    if not csrf_matches(request.cookies.get(SIGN_IN_COOKIE, ""), csrf_token):
        errors = FormErrors()
        errors.add("username", "The sign-in form expired. Enter your details again")
        return _sign_in_page(
            request, errors=errors, username=username, next_path=next_path, status_code=403
        )
    errors = FormErrors()
    if not username.strip():
        errors.add("username", "Enter your username")
    if not password:
        errors.add("password", "Enter your password")
    user_id = None
    if not errors:
        try:
            user_id = await sign_in_rule.sign_in(
                services.engine,
                services.settings,
                services.password_gate,
                username=username.strip(),
                password=password,
                address=request.client.host if request.client else None,
            )
        except sign_in_rule.SignInRefused as exc:
            errors.add("username", exc.message.rstrip("."))
            page = _sign_in_page(
                request, errors=errors, username=username, next_path=next_path, status_code=429
            )
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        if user_id is None:
            errors.add("username", "Enter a correct username and password")
    if errors or user_id is None:
        return _sign_in_page(
            request, errors=errors, username=username, next_path=next_path, status_code=400
        )
    await call_db(services, web_session.purge_expired, services.engine, services.settings)
    token = await call_db(services, web_session.start, services.engine, user_id, services.settings)
    principal = await call_db(services, load_principal, services.engine, user_id)
    assert principal is not None  # sign_in() has just found the user active
    response = RedirectResponse(next_path or home_for(principal.roles), status_code=303)
    response.set_cookie(
        web_session.COOKIE,
        token,
        httponly=True,
        secure=services.settings.session_cookie_secure,
        samesite="lax",
        max_age=services.settings.session_max_hours * 3600,
    )
    response.delete_cookie(SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(services: Services, session: PageSession, form: CheckedForm) -> Response:
    """End the session (the row is deleted) and clear the cookie."""
    del form  # checked for its CSRF token only
    web_session.end(services.engine, session)
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(web_session.COOKIE)
    return response


@router.get("/account")
def account(request: Request, session: PageSession) -> HTMLResponse:
    """Who is signed in, with which roles and team."""
    return render(request, "account.html", {"principal": session.principal})


@router.get("/accessibility")
def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement public-sector services must publish."""
    return render(request, "accessibility.html")
