"""Fixtures for the panel tests: a loopback HTTP server standing in for the case management
system that receives the child's record entries (issue 14 item 3)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from notifications.dispatcher import DispatchConfig

SECRET = "case-system-shared-secret"


@dataclass
class Hook:
    """A loopback HTTP server standing in for the case management system: it answers 500
    to the first ``fail_first`` posts, then 200, and keeps every post it was sent."""

    fail_first: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    state = Hook(fail_first=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            status = 500 if len(state.received) <= state.fail_first else 200
            state.answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Before the app reads its settings: approvals queue the record's messages.
    monkeypatch.setenv("PERMANENCE_RECORD_WEBHOOK_URL", f"http://127.0.0.1:{state.port}/records")
    monkeypatch.setenv("PERMANENCE_RECORD_WEBHOOK_SECRET", SECRET)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def record_dispatch_config(hook: Hook) -> DispatchConfig:
    """Delivery settings that post the record's messages to ``hook``, signed with SECRET."""
    return DispatchConfig(
        base_url="https://permanence.example.test",
        record_webhook_url=f"http://127.0.0.1:{hook.port}/records",
        record_webhook_secret=SECRET,
        backoff_seconds=1,
    )
