"""Bounded requests (issue 10, item 5): a body over the limit is refused with 413 before it
is read, so no request can make the service buffer or parse megabytes it will refuse."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.errors import error_page, is_page

MIB = 1024 * 1024


class TooLarge(Exception):
    """Raised into the app from ``receive`` once a streamed body passes the limit."""


class BodyLimitMiddleware:
    """Refuses a request body over ``max_bytes`` (``max_upload_bytes`` for
    ``multipart/form-data``) with 413: at once when ``Content-Length`` says so, and for a
    body without one (chunked) as soon as the bytes received pass the limit, reading no
    further. The API gets a JSON answer, a page the service's error page."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        """The limit for this request: uploads have their own."""
        return limit_for(scope, self.max_bytes, self.max_upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        if declared_over(scope, limit):
            await self.refuse(scope, send, limit)
            return

        received = 0
        too_large = False
        started = False

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
                    raise TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # Whatever the app makes of the interruption (FastAPI turns it into a 400),
                # the answer is the 413 below.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self.refuse(scope, send, limit)

    async def refuse(self, scope: Scope, send: Send, limit: int) -> None:
        """Answer 413 and close the connection (the rest of the body is never read)."""
        await refuse(scope, send, limit)


def limit_for(scope: Scope, max_bytes: int, max_upload_bytes: int) -> int:
    """The limit for this request's body: ``multipart/form-data`` (uploads) has its own."""
    content_type = _header(scope, b"content-type") or b""
    if content_type.lower().lstrip().startswith(b"multipart/form-data"):
        return max_upload_bytes
    return max_bytes


def declared_over(scope: Scope, limit: int) -> bool:
    """Whether the request's ``Content-Length`` already says its body is over ``limit``."""
    declared = _header(scope, b"content-length")
    return declared is not None and declared.strip().isdigit() and int(declared) > limit


async def refuse(scope: Scope, send: Send, limit: int) -> None:
    """Answer 413 and close the connection (the rest of the body is never read)."""
    text = f"The request is larger than the {_size(limit)} this service accepts."
    request = Request(scope)
    headers = [(b"connection", b"close")]
    if is_page(request):
        page = error_page(request, 413, text)
        page.headers["connection"] = "close"

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await page(scope, no_body, send)
        return
    body = json.dumps({"error": "too_large", "message": text}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _size(limit: int) -> str:
    if limit >= MIB and limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"
