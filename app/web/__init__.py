"""Server-rendered pages (issue 5): GOV.UK Frontend styles, Jinja2 templates, plain forms.

``install(app)`` adds the pages and their static files to the API's FastAPI app (the
security headers are ``app.request_gate``'s); the pages call the same services as the API,
as the signed-in user.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web.routes import ROUTERS

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the pages, ``/static`` and GOV.UK Frontend's ``/assets`` on ``app``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # govuk-frontend's compiled CSS asks for its fonts and images under /assets/.
    app.mount("/assets", StaticFiles(directory=STATIC / "govuk-frontend" / "assets"), name="assets")
    for router in ROUTERS:
        app.include_router(router)
