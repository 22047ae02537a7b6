"""Refuse a NUL character anywhere in a request before any database sees it.

PostgreSQL refuses a NUL in text (and ``\\u0000`` in JSON) with an error, which used to become
a 500 whose log line quoted the statement's values. No field of this service may hold one,
so one rule at the door covers every path, query, JSON body and form: the request gets a 422
naming the field, and nothing runs. Multipart bodies (file uploads) are left to their
readers, which refuse what they cannot parse.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.responses import Response
from starlette.types import Message, Receive, Scope

NUL = "\x00"
NUL_PROBLEM = "must not contain a NUL character"

# What to answer, given the request's scope and the names of the fields that held a NUL.
Refusal = Callable[[Scope, list[str]], Awaitable[Response] | Response]

_ENCODED_NUL = (b"%00", b"\x00")
_JSON_NUL = (b"\\u0000", b"\x00")


def _query_fields(raw: bytes) -> list[str]:
    if not any(mark in raw.lower() for mark in _ENCODED_NUL):
        return []
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return [name.replace(NUL, "") or "query" for name, value in pairs if NUL in name + value]


def _json_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield name.replace(NUL, "")
            yield from _json_paths(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_paths(item, f"{path}.{index}" if path else str(index))


def _json_fields(body: bytes) -> list[str]:
    if not any(mark in body for mark in _JSON_NUL):
        return []
    try:
        # ``\\u0000`` (an escaped backslash) matched above but is no NUL: the parse decides.
        return list(_json_paths(json.loads(body), ""))
    except ValueError:
        # A raw NUL makes it invalid JSON; any other fault is for the JSON parser to report.
        return ["body"] if b"\x00" in body else []


JSON = b"application/json"
# The bodies read whole for the check; multipart is left to its readers.
READ_KINDS = (JSON, b"application/x-www-form-urlencoded")


def head_fields(scope: Scope) -> list[str]:
    """The query's fields, and ``path``, that hold a NUL."""
    fields = _query_fields(scope.get("query_string", b""))
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if b"\x00" in unquote_to_bytes(raw_path):
        fields.append("path")
    return fields


def body_fields(kind: bytes, body: bytes) -> list[str]:
    """The fields of a body of ``kind`` (one of ``READ_KINDS``) that hold a NUL."""
    return _json_fields(body) if kind == JSON else _query_fields(body)


def content_type(scope: Scope) -> bytes:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


async def buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that replays it to the application."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            # The client went away: let the application see that as it would have.
            pending: Message | None = message

            async def disconnected() -> Message:
                nonlocal pending
                if pending is not None:
                    out, pending = pending, None
                    return out
                return await receive()

            return b"".join(chunks), disconnected
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
