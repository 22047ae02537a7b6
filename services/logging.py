"""Structured logs (structlog): JSON in production, readable on a terminal.

Children's names and dates of birth must never reach a log line. Rather than hunt for them
(a deny-list misses the new field someone adds next year), only keys on an allow-list pass
through with their values; anything else is kept as a key with its value withheld. An
exception is logged by its types and frames only (:func:`safe_traceback`): its message and
its frames' locals may quote what was typed.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog
from sqlalchemy.exc import StatementError

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
        "exception",  # only ever safe_traceback's text (see safe_exception)
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


def _describe(exc: BaseException) -> str:
    # A database error's statement has bound parameters, not values, so it is safe to keep
    # and it is what a developer needs; every other message may quote what was typed.
    if isinstance(exc, StatementError) and exc.statement:
        return f"[SQL: {' '.join(exc.statement.split())[:500]}]"
    return WITHHELD


def safe_traceback(exc: BaseException) -> str:
    """``exc`` and the exceptions it came from: their frames and types, never their messages.

    An exception's message can hold whatever a user typed (a name in a failed insert, a
    search term in a driver's complaint), and its frames' locals more still, so neither is
    kept: the types and the code's file, line and function are enough to find the fault.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    lines: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            lines.append("The above exception led to:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(item.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        kind = type(item)
        lines.append(f"{kind.__module__}.{kind.__qualname__}: {_describe(item)}")
    return "\n".join(lines)


def safe_exception(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Render ``exc_info`` as :func:`safe_traceback` under ``exception``, for both renderers."""
    if "exception" in event_dict:
        # Text a caller put there itself (``str(exc)``, say) is as unsafe as the message.
        event_dict["exception"] = WITHHELD
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if isinstance(exc, BaseException):
            event_dict["exception"] = safe_traceback(exc)
    return event_dict


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    """Set up structlog and route the standard library's loggers through it."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_exception,
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
    for name in ("httpx", "httpx2", "httpcore", "httpcore2", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
