"""An unhandled exception is a clean 500 (JSON on the API, the error page on a page),
logged once by type and request id without its text, and the keep-alive connection it
came on goes on serving requests."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from services.config import Settings
from tests.conftest import free_port

# What an exception's text could carry: a child's name, as a database error's parameters do.
SECRET = "Jane-Doe-2019-04-01"


def _app_that_fails(settings: Settings) -> FastAPI:
    """The real app plus two test-only routes that raise, one API and one page."""
    app = create_app(settings)

    @app.get("/api/v1/test-only/fail")
    def fail_api() -> None:
        raise RuntimeError(f"parameters: {{'family_name': '{SECRET}'}}")

    @app.get("/test-only/fail")
    async def fail_page() -> None:
        raise LookupError(SECRET)

    return app


def _log_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_unhandled_error_is_a_clean_500_logged_once_without_its_text(
    engine: Engine, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    del engine  # the database is migrated and empty
    with TestClient(_app_that_fails(settings)) as client:
        capfd.readouterr()
        api = client.get("/api/v1/test-only/fail", headers={"X-Request-ID": "req-api-1"})
        page = client.get("/test-only/fail", headers={"X-Request-ID": "req-page-1"})
        after = client.get("/healthz")
    assert api.status_code == 500
    assert api.json() == {"error": "server_error", "message": "Sorry, something went wrong."}
    assert api.headers["x-request-id"] == "req-api-1"
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem with the service" in page.text
    # The pages' security headers still apply to the error page.
    assert "content-security-policy" in page.headers
    assert SECRET not in api.text and SECRET not in page.text
    assert after.status_code == 200
    out, err = capfd.readouterr()
    logs = out + err
    assert SECRET not in logs
    assert "Traceback" not in logs
    errors = [e for e in _log_lines(logs) if e.get("event") == "unhandled_error"]
    assert [(e["error"], e["request_id"], e["path"]) for e in errors] == [
        ("RuntimeError", "req-api-1", "/api/v1/test-only/fail"),
        ("LookupError", "req-page-1", "/test-only/fail"),
    ]
    requests = [e for e in _log_lines(logs) if e.get("event") == "request"]
    assert [r["status"] for r in requests if "fail" in r["path"]] == [500, 500]


@pytest.fixture
def failing_server(engine: Engine, settings: Settings) -> Iterator[int]:
    """The failing app served by uvicorn on a loopback port (its port)."""
    del engine
    port = free_port()
    config = uvicorn.Config(_app_that_fails(settings), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_500_keeps_the_connection_open(
    failing_server: int, capfd: pytest.CaptureFixture[str]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", failing_server, timeout=10)
    # Never reconnect behind our back: a second request must use the first socket.
    conn.auto_open = 0
    conn.connect()
    sock = conn.sock
    try:
        for path in ("/api/v1/test-only/fail", "/test-only/fail"):
            conn.request("GET", path)
            failed = conn.getresponse()
            body = failed.read()
            assert failed.status == 500, body
            assert (failed.getheader("connection") or "").lower() != "close"
            assert SECRET.encode() not in body
            conn.request("GET", "/healthz")
            ok = conn.getresponse()
            assert (ok.status, json.loads(ok.read())) == (200, {"status": "ok"})
            assert conn.sock is sock
    finally:
        conn.close()
    logs = "".join(capfd.readouterr())
    assert SECRET not in logs
    assert "Exception in ASGI application" not in logs
