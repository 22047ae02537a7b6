"""One log line per HTTP request, with an id bound to every log line the request causes.

``app.request_gate`` gives every request its id (the client's ``X-Request-ID`` when it is a
plain token, else a new one), binds it to every log line and writes the line below.
Only the path is logged, never the query string: a search for a child's name is in it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.types import Scope


def request_id_for(scope: Scope) -> str:
    """The request's id: the client's ``X-Request-ID`` if it is a plain token of at most
    64 characters, else a new one."""
    return _header(scope, b"x-request-id") or uuid.uuid4().hex


def log_request(log: Any, scope: Scope, status: int, started: float) -> None:
    """The request's line: method, path (no query string), status and duration."""
    log.info(
        "request",
        method=scope["method"],
        path=scope["path"],
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text = value.decode("latin-1")[:64]
            return text if text.replace("-", "").isalnum() else None
    return None
