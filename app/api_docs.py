"""The interactive API docs (/docs with Swagger UI, /redoc with ReDoc) from files this service
serves itself (``app/web/static/vendor``), never a CDN, each page with a content security
policy of its own; ``PERMANENCE_DOCS_ENABLED=false`` turns them off (404)."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"
FAVICON = "/static/vendor/swagger-ui/favicon-32x32.png"
DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _hashes(html: str) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )


def docs_policy(html: str) -> str:
    """The content security policy of a docs page: scripts from this service and the page's
    own inline start-up script (by its hash); inline styles, which ReDoc injects at run time
    (these pages show the API's shape, never a child's data); a web worker from a blob, which
    ReDoc's search runs in; everything else from this service only."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {_hashes(html)}".strip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["content-security-policy"] = docs_policy(bytes(page.body).decode())
    return page


def install_docs(app: FastAPI) -> None:
    """Add /docs, its OAuth2 redirect and /redoc to ``app`` (built with ``docs_url=None``
    and ``redoc_url=None``), loading Swagger UI and ReDoc from /static/vendor."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=SWAGGER_JS,
                swagger_css_url=SWAGGER_CSS,
                swagger_favicon_url=FAVICON,
                oauth2_redirect_url=OAUTH2_REDIRECT,
                # No badge from validator.swagger.io: nothing leaves for another site.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _with_policy(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=REDOC_JS,
                redoc_favicon_url=FAVICON,
                with_google_fonts=False,
            )
        )
