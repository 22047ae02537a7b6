"""An unhandled exception answered with a clean 500, keeping the connection open.

Starlette's ``ServerErrorMiddleware`` runs an ``Exception`` handler and then re-raises, so
uvicorn logs the whole traceback (whose text may carry a child's details, e.g. a database
error's parameters) and, the response having started, closes the keep-alive connection.
This middleware sits inside the app's own middleware (so the request log and the security
headers still apply) and answers instead: the exception's type and the request id are
logged once, the exception's text never.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]

log = structlog.get_logger("permanence.app")


class UnhandledErrorMiddleware:
    """Turn an exception that nothing handled into ``answer(request, exc)``."""

    def __init__(self, app: ASGIApp, answer: ErrorAnswer) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            # request_id comes from the request log's context; the path holds no names.
            log.error("unhandled_error", error=type(exc).__name__, path=scope["path"])
            if started:
                # Part of a response is out: nothing valid can follow it. Returning (rather
                # than re-raising) lets the server close the connection without a traceback.
                return
            response = await self.answer(Request(scope, receive), exc)
            await response(scope, receive, send)
