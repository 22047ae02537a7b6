"""The scheduler (APScheduler 3.x): it only *triggers* work; the database remembers it.

Jobs: a sweep as of today's London date every few minutes (and once at start, which is the
catch-up after downtime), the dispatcher every few seconds, the queued care-record imports
(``services.care_record.queue``, one at a time) every few seconds, and the morning digest (a cron
at the configured London time, and once at start if that time has passed today). Every job
is idempotent against the database, so several processes each running this scheduler, or a
job that runs twice, send nothing twice: the sweep holds a PostgreSQL advisory lock and
relies on the notice's unique key; the digest's outbox key is unique per person and day.

APScheduler 3.x cannot share a job store between processes, so jobs live in memory.
Sweeps work on dates, not instants: a day on which the clocks change is swept like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from notifications.digest import queue_digests
from notifications.dispatcher import DispatchConfig, config_from_settings, dispatch
from notifications.policy import Policies, policies_from_settings
from notifications.service import refresh_director_snapshot
from notifications.sweep import Channels, SweepResult, sweep
from services.care_record.queue import Recovery, run_import_queue
from services.cohort_snapshot import newest_as_of, refresh_cohort_snapshot
from services.config import Settings
from workflow.calendar import LONDON, today_london

log = structlog.get_logger("permanence.scheduler")


def channels_from_settings(settings: Settings) -> Channels:
    """Which channels sweeps queue for, from the settings."""
    return Channels(email=settings.email_enabled, webhook=bool(settings.webhook_url))


@dataclass
class ReminderJobs:
    """The work the scheduler triggers, callable directly (tests, CLI) as well."""

    engine: Engine
    policies: Policies
    channels: Channels
    dispatch_config: DispatchConfig
    digest_hour: int = 7
    digest_minute: int = 30
    today: Callable[[], date] = today_london
    sweeps: list[SweepResult] = field(default_factory=list)
    import_recovery: Recovery = field(default_factory=Recovery)

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings, **kw: Any) -> ReminderJobs:
        """Jobs configured from :class:`services.config.Settings`."""
        return cls(
            engine=engine,
            policies=policies_from_settings(settings),
            channels=channels_from_settings(settings),
            dispatch_config=config_from_settings(settings),
            digest_hour=settings.digest_hour,
            digest_minute=settings.digest_minute,
            import_recovery=Recovery(
                after=timedelta(minutes=settings.import_claim_timeout_minutes),
                max_attempts=settings.import_max_attempts,
            ),
            **kw,
        )

    def run_sweep(self) -> None:
        """Sweep as of today (London); skip if another process is sweeping."""
        try:
            result = sweep(
                self.engine, self.policies, self.today(), channels=self.channels, wait=False
            )
            self.sweeps.append(result)
        except Exception:  # a failed sweep is retried by the next run; log and carry on
            log.exception("sweep_failed")
        self.run_drift_snapshot()

    def run_drift_snapshot(self) -> None:
        """Refresh the director's figures and open escalations' counts (after each sweep;
        apart from it, so the sweep's time and lock are not the figures')."""
        try:
            refresh_director_snapshot(self.engine, self.today())
        except Exception:
            log.exception("drift_snapshot_failed")

    def run_cohort_snapshot(self) -> None:
        """Refresh the cohorts' members the panel tracker reads (daily: membership moves
        with the date as well as with each import, which refreshes them too)."""
        try:
            refresh_cohort_snapshot(self.engine, self.today())
        except Exception:  # retried by tomorrow's run; the tracker refreshes a stale one
            log.exception("cohort_snapshot_failed")

    def cohort_snapshot_due(self) -> bool:
        """Whether today's cohort snapshot is missing (for the catch-up at start)."""
        last = newest_as_of(self.engine)
        return last is None or last < self.today()

    def run_imports(self) -> None:
        """Run the care-record imports queued on the page or the API, one at a time."""
        try:
            run_import_queue(self.engine, self.import_recovery)
        except Exception:
            log.exception("import_queue_failed")

    def run_dispatch(self) -> None:
        """Deliver whatever the outbox holds that is due."""
        try:
            dispatch(self.engine, self.dispatch_config)
        except Exception:
            log.exception("dispatch_failed")

    def run_digest(self) -> None:
        """Queue today's digests (once per person per day, whoever else runs this)."""
        if not self.channels.email:
            return
        try:
            queue_digests(self.engine, self.today(), base_url=self.dispatch_config.base_url)
        except Exception:
            log.exception("digest_failed")

    def digest_due_now(self) -> bool:
        """Whether today's digest time has passed (for the catch-up at start)."""
        now = datetime.now(LONDON)
        return (now.hour, now.minute) >= (self.digest_hour, self.digest_minute)


def build_scheduler(
    jobs: ReminderJobs,
    *,
    sweep_minutes: int = 15,
    dispatch_seconds: int = 30,
    import_seconds: int = 5,
) -> BackgroundScheduler:
    """A scheduler (not yet started) running the jobs; Europe/London time."""
    scheduler = BackgroundScheduler(
        timezone=LONDON,
        job_defaults={
            # One run at a time per job; runs missed while busy collapse into one.
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
    )
    now = datetime.now(LONDON)
    scheduler.add_job(
        jobs.run_sweep, "interval", minutes=sweep_minutes, id="sweep", next_run_time=now
    )
    scheduler.add_job(
        jobs.run_dispatch, "interval", seconds=dispatch_seconds, id="dispatch", next_run_time=now
    )
    scheduler.add_job(
        jobs.run_imports, "interval", seconds=import_seconds, id="imports", next_run_time=now
    )
    scheduler.add_job(
        jobs.run_digest, "cron", hour=jobs.digest_hour, minute=jobs.digest_minute, id="digest"
    )
    # The cohorts' members just after midnight, London: the day's first tracker view then
    # reads today's (and once at start if today's is missing).
    scheduler.add_job(jobs.run_cohort_snapshot, "cron", hour=0, minute=5, id="cohort_snapshot")
    if jobs.cohort_snapshot_due():
        scheduler.add_job(
            jobs.run_cohort_snapshot, id="cohort_snapshot_catch_up", next_run_time=now
        )
    if jobs.digest_due_now():
        scheduler.add_job(jobs.run_digest, id="digest_catch_up", next_run_time=now)
    return scheduler


def start_from_settings(engine: Engine, settings: Settings) -> BackgroundScheduler:
    """Build and start the scheduler the settings describe."""
    jobs = ReminderJobs.from_settings(engine, settings)
    scheduler = build_scheduler(
        jobs,
        sweep_minutes=settings.sweep_interval_minutes,
        dispatch_seconds=settings.dispatch_interval_seconds,
    )
    scheduler.start()
    log.info("scheduler_started")
    return scheduler
