"""The request log line (``app.request_log.log_request``) is the line ``log.info`` through
structlog and the standard library writes: same keys, values and order, through the root
logger's handlers and their formatter."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
import structlog
from fastapi.testclient import TestClient

from app.request_log import log_request
from tests.log_support import root_log_output


@pytest.fixture
def log_output(app_client: TestClient) -> Iterator[io.StringIO]:
    """Everything the root logger writes, formatted as the service formats it."""
    del app_client  # started: services.logging.configure has run
    with root_log_output() as buffer:
        yield buffer


def test_the_line_is_the_bound_loggers_line(log_output: io.StringIO) -> None:
    log = structlog.get_logger("permanence.http")
    scope = {"method": "POST", "path": "/api/v1/journeys/7/events"}
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="req-1", given_name="Zebedee")
    started = time.perf_counter()
    log_request(log, scope, 409, started)
    log.info("request", method="POST", path=scope["path"], status=409, duration_ms=1.5)
    structlog.contextvars.clear_contextvars()
    mine, theirs = (json.loads(line) for line in log_output.getvalue().splitlines())
    assert list(mine) == list(theirs)  # the same keys in the same order
    for key in ("timestamp", "duration_ms"):
        mine.pop(key), theirs.pop(key)
    assert mine == theirs
    assert mine["request_id"] == "req-1"
    assert mine["given_name"] == "[withheld]"  # through the allow-list


def test_a_level_above_info_drops_the_line(log_output: io.StringIO) -> None:
    http = logging.getLogger("permanence.http")
    http.setLevel(logging.WARNING)
    try:
        log_request(structlog.get_logger("permanence.http"), {"method": "GET", "path": "/"}, 200, 0)
    finally:
        http.setLevel(logging.NOTSET)
    assert log_output.getvalue() == ""
