"""The service's own request middleware in one pure-ASGI layer (issue 12 item 5).

Five behaviours, each as it was when it was a middleware of its own, in the same order
from the outside in:

1. the security headers on every answer (``app.web.security``);
2. the request id and the request log line (``app.request_log``);
3. the body limit (``app.body_limit``): 413 when ``Content-Length`` says so, or as soon as
   the bytes received pass it;
4. the NUL guard (``app.input_guard``): 422 naming the fields that hold one;
5. the unhandled-error answer (``app.server_errors``): a clean 500, logged by type.

As five middlewares every answer went through five ``send`` wrappers and every request
through five calls (about 2% of a transition's server time in py-spy, on top of the
framework's own); here the app's messages go through one. The rules (which limit, which
headers, which fields, what is logged) stay in those modules; this one only runs them.

A shortcut (``app.api.journeys.fire_event_shortcut``) may answer a request whose body the
NUL guard has already read, in place of the router, with the same answer the router would
give; it returns None for anything it does not answer, and the request goes on as before.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import body_limit, input_guard
from app.request_log import log_request, request_id_for
from app.server_errors import ErrorAnswer, log_unhandled
from app.web.security import policy_for, with_policy

# Given the scope and the body already read (JSON or a form), an answer, or None to let
# the router answer.
Shortcut = Callable[[Scope, bytes], Awaitable[Response | None]]


class RequestGate:
    """Security headers, request id and log line, body limit, NUL guard and the
    unhandled-error answer, in that order from the outside in, as one middleware."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_upload_bytes: int,
        refuse_nul: input_guard.Refusal,
        answer_error: ErrorAnswer,
        shortcut: Shortcut | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.refuse_nul = refuse_nul
        self.answer_error = answer_error
        self.shortcut = shortcut
        self.log = structlog.get_logger("permanence.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 1. Security headers and 2. the request id, on every answer whoever sends it.
        static, policy = policy_for(scope)
        request_id = request_id_for(scope)
        id_header = (b"x-request-id", request_id.encode())
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started_at = time.perf_counter()
        status = 500

        async def send_out(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), id_header]
                message["headers"] = with_policy(headers, static, policy)
            await send(message)

        try:
            # 3. The body limit.
            limit = body_limit.limit_for(scope, self.max_bytes, self.max_upload_bytes)
            if body_limit.declared_over(scope, limit):
                await body_limit.refuse(scope, send_out, limit)
                return
            received = 0
            too_large = False
            limit_started = False  # a response start went out under the limit
            error_started = False  # the app started its response (the error answer's view)

            async def bounded_receive() -> Message:
                nonlocal received, too_large
                if too_large:
                    # The app asks again after the refusal: tell it the client has gone.
                    return {"type": "http.disconnect"}
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        too_large = True
                        raise body_limit.TooLarge
                return message

            async def guarded_send(message: Message) -> None:
                nonlocal limit_started
                if too_large:
                    # Whatever the app makes of the interruption (FastAPI turns it into a
                    # 400), the answer is the 413 below.
                    return
                if message["type"] == "http.response.start":
                    limit_started = True
                await send_out(message)

            async def app_send(message: Message) -> None:
                nonlocal error_started
                if message["type"] == "http.response.start":
                    error_started = True
                await guarded_send(message)

            try:
                # 4. The NUL guard.
                inner_receive: Receive = bounded_receive
                body: bytes | None = None
                fields = input_guard.head_fields(scope)
                kind = input_guard.content_type(scope)
                if not fields and kind in input_guard.READ_KINDS:
                    body, inner_receive = await input_guard.buffered(bounded_receive)
                    fields = input_guard.body_fields(kind, body)
                if fields:
                    answer = self.refuse_nul(scope, fields)
                    response = answer if isinstance(answer, Response) else await answer
                    await response(scope, inner_receive, guarded_send)
                else:
                    # 5. The unhandled-error answer, around the app (or the shortcut).
                    try:
                        shortcut = None
                        if body is not None and self.shortcut is not None:
                            shortcut = await self.shortcut(scope, body)
                        if shortcut is not None:
                            await shortcut(scope, inner_receive, app_send)
                        else:
                            await self.app(scope, inner_receive, app_send)
                    except Exception as exc:
                        log_unhandled(exc, scope)
                        # Part of a response is out: nothing valid can follow it. Not
                        # re-raising lets the server close the connection without a
                        # traceback.
                        if not error_started:
                            response = await self.answer_error(Request(scope, inner_receive), exc)
                            await response(scope, inner_receive, guarded_send)
            except Exception:
                if not too_large:
                    raise
            if too_large and not limit_started:
                await body_limit.refuse(scope, send_out, limit)
        finally:
            log_request(self.log, scope, status, started_at)
