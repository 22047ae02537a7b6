"""Reading what the service logs, as it formats it (the tests that prove no name or date of
birth reaches a log line, and the request log's own)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def root_log_output() -> Iterator[io.StringIO]:
    """Everything the root logger writes while open, formatted by the formatter of its first
    handler (the one ``services.logging.configure`` installs): configure logging first."""
    root = logging.getLogger()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
