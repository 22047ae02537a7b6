"""Bounded requests (issue 10, item 5): a body over the limit gets 413 before it is read,
whether its size is declared (Content-Length) or streamed (chunked); a normal body works."""

from __future__ import annotations

import asyncio
import json
import select
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlalchemy import select as sql_select

from app.body_limit import MIB
from app.main import create_app
from app.request_gate import RequestGate
from services.config import Settings
from services.models import CHILDREN
from tests.conftest import Api, LiveServer

TWO_MB = 2 * 1000 * 1000


def _child(reference: str = "C-0001", padding: int = 0) -> dict[str, Any]:
    return {
        "reference": reference,
        "given_name": "Sam" + "a" * padding,
        "family_name": "Example",
        "date_of_birth": "2019-05-01",
        "looked_after_since": "2025-12-18",
        "legal_status": "interim_care_order",
    }


def _children(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sql_select(func.count()).select_from(CHILDREN)).scalar_one())


def _big_body() -> bytes:
    body = json.dumps(_child(padding=TWO_MB)).encode()
    assert len(body) > TWO_MB
    return body


def test_an_oversized_json_body_with_content_length_gets_413(sw: Api, engine: Engine) -> None:
    body = _big_body()
    response = sw.client.post(
        "/api/v1/children",
        content=body,
        headers={**(sw.headers or {}), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "too_large"
    assert "1 MiB" in response.json()["message"]
    assert response.headers["connection"] == "close"
    assert _children(engine) == 0


def test_an_oversized_chunked_json_body_gets_413(sw: Api, engine: Engine) -> None:
    body = _big_body()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    response = sw.client.post(
        "/api/v1/children",
        content=chunks(),
        headers={**(sw.headers or {}), "content-type": "application/json"},
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert _children(engine) == 0


def test_a_normal_body_still_works(sw: Api, engine: Engine) -> None:
    response = sw.post("/children", _child(padding=50))
    assert response.status_code == 201, response.text
    assert _children(engine) == 1


def test_a_page_gets_the_error_page(app_client: TestClient) -> None:
    response = app_client.post(
        "/sign-in",
        content=b"username=" + b"a" * TWO_MB,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "What you sent is too large" in response.text
    assert "govuk-heading-l" in response.text
    # Refused inside the security headers: the page still carries its policy.
    assert "default-src 'self'" in response.headers["content-security-policy"]


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "limit-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + b"x" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_uploads_have_their_own_limit(engine: Engine, settings: Settings) -> None:
    small = settings.model_copy(update={"request_max_bytes": 1000, "upload_max_bytes": 5000})
    with TestClient(create_app(small)) as client:
        json_body = json.dumps(_child(padding=2000)).encode()
        too_big = client.post(
            "/api/v1/children", content=json_body, headers={"content-type": "application/json"}
        )
        assert too_big.status_code == 413
        assert "1000 bytes" in too_big.json()["message"]

        upload, content_type = _multipart(3000)
        allowed = client.post(
            "/api/v1/children", content=upload, headers={"content-type": content_type}
        )
        # Past the size check: refused for the missing token, not the size.
        assert allowed.status_code == 401

        upload, content_type = _multipart(6000)
        refused = client.post(
            "/api/v1/children", content=upload, headers={"content-type": content_type}
        )
        assert refused.status_code == 413


def test_a_streamed_body_is_read_no_further_than_the_limit() -> None:
    # An endless chunked body: the app asks for more until the gate's body limit stops it.
    pulled = 0
    app_saw = 0
    chunk = b"x" * 4096
    sent: list[dict[str, Any]] = []

    async def client_receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def client_send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal app_saw
        while True:
            message = await receive()
            app_saw += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    limit = 64 * 1024

    async def not_expected(*args: Any) -> Any:
        raise AssertionError("the body limit answers first")

    # The gate the service runs every request through (app.main), around this app.
    middleware = RequestGate(
        app,
        max_bytes=limit,
        max_upload_bytes=MIB,
        refuse_nul=not_expected,
        answer_error=not_expected,
    )
    scope = {"type": "http", "method": "POST", "path": "/api/v1/children", "headers": []}
    asyncio.run(middleware(scope, client_receive, client_send))  # type: ignore[arg-type]
    assert pulled <= limit + len(chunk)
    assert app_saw <= limit
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]
    assert b"read it all" not in b"".join(m.get("body", b"") for m in sent)


def test_a_real_server_refuses_a_chunked_body_midway(live_server: LiveServer) -> None:
    # Over a real socket: the 413 arrives while the client is still sending, long before
    # the 2 MB are through.
    url = urlsplit(live_server.base_url)
    assert url.hostname is not None and url.port is not None
    piece = b"a" * (64 * 1024)
    sent = 0
    answer = b""
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/children HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while sent < TWO_MB:
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert sent < TWO_MB
