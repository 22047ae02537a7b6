"""Friendly error pages for the browser; the API under /api keeps its JSON answers."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from app.web.templating import render

log = structlog.get_logger("permanence.web")

_API_PREFIXES = ("/api/", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json")

TITLES = {
    400: "There is a problem with your request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "Page not found",
    409: "Someone else has changed this record",
    413: "What you sent is too large",
    422: "There is a problem with your request",
    500: "Sorry, there is a problem with the service",
}


def is_page(request: Request) -> bool:
    """Whether the request is for a page (HTML) rather than the API (JSON)."""
    return not request.url.path.startswith(_API_PREFIXES)


def sign_in_redirect(request: Request) -> RedirectResponse:
    """Send the browser to sign in, coming back to this page afterwards (GETs only: a
    half-filled form posted after the session ended cannot be replayed safely)."""
    target = request.url.path
    if request.url.query and request.method == "GET":
        target += "?" + request.url.query
    if request.method != "GET" or target == "/":
        # The landing page is where signing in goes anyway.
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", status_code=303)


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    """The error page for ``status_code`` with an optional explanation."""
    if status_code >= 500:
        # The explanation of a server error is for the logs, not the screen.
        message = None
    return render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "title": TITLES.get(status_code, TITLES[400]),
            "message": message,
        },
        status_code=status_code,
    )
