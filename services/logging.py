"""Structured logs (structlog): JSON in production, readable on a terminal.

Children's names and dates of birth must never reach a log line. Rather than hunt for them
(a deny-list misses the new field someone adds next year), only keys on an allow-list pass
through with their values; anything else is kept as a key with its value withheld.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

ALLOWED_KEYS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
        "journey_id",
        "journey_type",
        "child_id",
        "child_reference",
        "event_name",
        "from_state",
        "to_state",
        "version",
        "error",
        "code",
        "count",
        "host",
        "port",
        "database",
        "demo",
        "exc_info",
        "exception",
        "kind",
        "deadline_id",
        "sent",
        "due",
        "as_of",
        "channel",
        "notification_id",
        "attempt",
        "meeting_id",
        "panel",
        "positional_args",
        "color_message",
        "client",
        # reminders (issue 3): ids, counts and step names only
        "step",
        "outbox_id",
        "retrying",
        "failed",
    }
)
WITHHELD = "[withheld]"


def allow_list(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Keep only allow-listed keys' values; others are withheld (their names stay visible)."""
    for key in list(event_dict):
        if key not in ALLOWED_KEYS and not key.startswith("_"):
            event_dict[key] = WITHHELD
    return event_dict


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    """Set up structlog and route the standard library's loggers through it."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        allow_list,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else (lambda _l, _m, e: e),
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # Our own middleware logs each request (with no query string); uvicorn's would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    # transitions logs every state entry at INFO: noise, and a cost on the hot path.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # HTTP client libraries log whole URLs at INFO, query strings (and so searched names)
    # included.
    for name in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
