"""Bounded requests (issue 10, item 5): a body over the limit is refused with 413 before it
is read, so no request can make the service buffer or parse megabytes it will refuse.

The rules (which limit, whether the declared size is over it, the refusal); the request
gate (``app.request_gate``) applies them to every request, a streamed body included."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import Message, Scope, Send

from app.web.errors import error_page, is_page

MIB = 1024 * 1024


class TooLarge(Exception):
    """Raised into the app from ``receive`` once a streamed body passes the limit."""


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
