"""An unhandled exception answered with a clean 500, keeping the connection open.

Starlette's ``ServerErrorMiddleware`` runs an ``Exception`` handler and then re-raises, so
uvicorn logs the whole traceback (whose text may carry a child's details, e.g. a database
error's parameters) and, the response having started, closes the keep-alive connection.
``app.request_gate`` answers instead, inside the request log and the security headers (so
both still apply): the exception's type and the request id are logged once, its text never.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

ErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]

log = structlog.get_logger("permanence.app")


def log_unhandled(exc: Exception, scope: Scope) -> None:
    """The one line an unhandled error leaves: its type and the path (which holds no names);
    the request id comes from the request log's context."""
    log.error("unhandled_error", error=type(exc).__name__, path=scope["path"])
