"""The ``permanence remind``, ``deliver`` and ``scheduler`` commands."""

from __future__ import annotations

import json
import signal
import threading
from datetime import date

from notifications.dispatcher import config_from_settings, dispatch
from notifications.policy import policies_from_settings
from notifications.scheduler import channels_from_settings, start_from_settings
from notifications.sweep import sweep
from services.config import Settings


def remind(
    settings: Settings,
    *,
    as_of: date,
    dry_run: bool = False,
    as_json: bool = False,
    deliver: bool = True,
    digest: bool = False,
) -> tuple[int, str]:
    """Run the sweep as of ``as_of``; return the exit code and what to print."""
    from notifications.digest import queue_digests
    from services.db import make_engine
    from services.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        if settings.auto_migrate:
            upgrade(engine)
        result = sweep(
            engine,
            policies_from_settings(settings),
            as_of,
            channels=channels_from_settings(settings),
            dry_run=dry_run,
        )
        digests = 0
        delivered: dict[str, int] = {}
        if not dry_run:
            if digest and settings.email_enabled:
                digests = queue_digests(engine, as_of, base_url=settings.base_url)
            if deliver:
                outcome = dispatch(engine, config_from_settings(settings))
                delivered = {
                    "sent": outcome.sent,
                    "retrying": outcome.retrying,
                    "failed": outcome.failed,
                }
    finally:
        engine.dispose()
    if as_json:
        body = {
            "as_of": as_of.isoformat(),
            "dry_run": dry_run,
            "count": len(result.notices),
            "unaddressed": result.unaddressed,
            "outbox": result.outbox,
            "digests": digests,
            "delivery": delivered,
            "notices": [n.as_json() for n in result.notices],
        }
        return 0, json.dumps(body, indent=2)
    verb = "would send" if dry_run else "sent"
    lines = [f"{as_of.isoformat()}: {verb} {len(result.notices)} notice(s)"]
    for n in result.notices:
        lines.append(
            f"  {n.fire_on.isoformat()}  {n.step:<28} -> {n.recipient:<20} "
            f"{n.child_reference}  {n.deadline_kind} due {n.due_on.isoformat()}  "
            f"(journey {n.journey_id})"
        )
    if result.unaddressed:
        lines.append(f"  {result.unaddressed} due step(s) had nobody to send to (no such user)")
    if delivered:
        lines.append(
            f"delivery: {delivered['sent']} sent, {delivered['retrying']} to retry, "
            f"{delivered['failed']} failed"
        )
    if digests:
        lines.append(f"digests queued: {digests}")
    return 0, "\n".join(lines)


def deliver(settings: Settings, *, as_json: bool = False) -> tuple[int, str]:
    """Deliver what is waiting in the outbox (no sweep); return the exit code and output.

    For an operator who ran ``remind --no-deliver`` or whose SMTP server was down: one
    dispatch pass, with the same retry and backoff rules the scheduler uses.
    """
    from services.db import make_engine
    from services.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        if settings.auto_migrate:
            upgrade(engine)
        outcome = dispatch(engine, config_from_settings(settings))
    finally:
        engine.dispose()
    counts = {"sent": outcome.sent, "retrying": outcome.retrying, "failed": outcome.failed}
    if as_json:
        return 0, json.dumps({"delivery": counts}, indent=2)
    return 0, (
        f"delivery: {counts['sent']} sent, {counts['retrying']} to retry, {counts['failed']} failed"
    )


def run_scheduler(settings: Settings, stop: threading.Event | None = None) -> int:
    """Run the scheduler in the foreground until SIGINT / SIGTERM (or ``stop`` is set)."""
    from services.db import make_engine
    from services.migrate import upgrade

    engine = make_engine(settings.database_url)
    if settings.auto_migrate:
        upgrade(engine)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    scheduler = start_from_settings(engine, settings)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()
    return 0
