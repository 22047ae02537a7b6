"""The outbox dispatcher: delivers queued messages with retries and exponential backoff.

Claiming is a short transaction that marks a batch ``sending`` with a lease (its
``next_attempt_at`` moves a few minutes on), so a crashed dispatcher's rows are claimed again
once the lease runs out and nothing is lost. On PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED`` so several dispatchers share the work without taking the same
row. Each message is marked as soon as its channel has taken it (a transaction of its own),
so a dispatcher killed mid-batch leaves only the messages it had not yet sent for the next
lease-holder: none is sent twice and none is lost. On PostgreSQL that mark does not wait
for the disk flush (``synchronous_commit = off``): only a crash of the database server itself
could forget a mark, and then the message is sent again. After the last attempt a row is
marked ``failed`` and kept, with its last error, for an operator to see and requeue.
Delivery stays at-least-once, as email is: a dispatcher killed after the server accepted a
message but before the mark commits sends that one message again, with the same
``Message-ID`` (one per outbox row), by which a receiving system can drop the repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import Connection, Engine, and_, select, update

from notifications import render
from notifications.calendar import invitation_ics
from notifications.channels import EmailChannel, SmtpConfig, WebhookChannel
from notifications.meetings import meeting_dates, meeting_names
from notifications.models import NOTICES as N
from notifications.models import OUTBOX as O
from notifications.models import RECORD_WEBHOOK
from services.clock import now_utc
from services.config import Settings
from services.db import write_connection
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from states.deadline_kinds import PANEL_PACK
from workflow.calendar import working_days_between

log = structlog.get_logger("permanence.dispatch")

LEASE = timedelta(minutes=5)  # the default; settings: PERMANENCE_NOTIFY_LEASE_SECONDS
NOTIFICATION = "notification"  # the category of an event notice (notifications.notify)


@dataclass(frozen=True)
class DispatchConfig:
    """How the dispatcher delivers: channels, attempts, backoff, links."""

    base_url: str
    smtp: SmtpConfig | None = None
    webhook_url: str | None = None
    # The case management system's (PERMANENCE_RECORD_WEBHOOK_URL): record entries only.
    record_webhook_url: str | None = None
    record_webhook_secret: str | None = None
    max_attempts: int = 6
    backoff_seconds: float = 30.0
    batch_size: int = 200
    lease_seconds: float = LEASE.total_seconds()

    def message_id(self, outbox_id: int) -> str:
        """The ``Message-ID`` of the email of outbox row ``outbox_id``: the same on every
        attempt, so a receiver can recognise a repeat."""
        host = urlsplit(self.base_url).hostname or "permanence"
        return f"<outbox.{outbox_id}@{host}>"


def config_from_settings(settings: Settings) -> DispatchConfig:
    """The dispatcher's configuration from :class:`services.config.Settings`."""
    smtp = None
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            use_ssl=settings.smtp_ssl,
            username=settings.smtp_username,
            password=password,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout_seconds,
        )
    return DispatchConfig(
        base_url=settings.base_url,
        smtp=smtp,
        webhook_url=settings.webhook_url,
        record_webhook_url=settings.record_webhook_url,
        record_webhook_secret=(
            settings.record_webhook_secret.get_secret_value()
            if settings.record_webhook_secret
            else None
        ),
        max_attempts=settings.notify_max_attempts,
        backoff_seconds=settings.notify_backoff_seconds,
        batch_size=settings.notify_batch_size,
        lease_seconds=settings.notify_lease_seconds,
    )


@dataclass
class DispatchResult:
    """What one dispatch pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def step_label(step: str, due_on: date, fire_on: date) -> str:
    """The timing a notice speaks of, from its step name and dates."""
    if step.startswith("before_"):
        days = int(step.removeprefix("before_"))
        return f"due in {days} working day{'s' if days != 1 else ''}"
    if step == "due":
        return "due today"
    if step == "overdue":
        return "overdue"
    if step.startswith("escalate_"):
        days = working_days_between(due_on, fire_on)
        role = step.removeprefix("escalate_").replace("_", " ")
        return f"overdue by {days} working day{'s' if days != 1 else ''}: escalated to the {role}"
    return step.replace("_", " ")


def notice_context(
    row: Any, base_url: str, meeting_date: date | None = None, meeting_name: str | None = None
) -> dict[str, str]:
    """Template variables for a notice row (joined with its deadline, journey and child:
    those of a meeting's own deadline, or of an event notice, are NULL); ``meeting_date`` is
    the date of the meeting a child-less deadline belongs to (:func:`notice_meetings`);
    ``meeting_name`` the meeting a panel pack is for, in words (:func:`notice_meeting_names`)."""
    if row.category == NOTIFICATION:
        # An event notice (``notifications.notify``): its words were fixed when recorded.
        return {
            "subject": row.subject or "",
            "link": f"{base_url.rstrip('/')}{row.link or ''}",
            "category": row.category,
            "category_title": row.category.capitalize(),
        }
    return render.context(
        base_url=base_url,
        child_reference=row.reference,
        journey_id=row.journey_id,
        journey_type=row.journey_type,
        deadline_kind=row.deadline_kind,
        due_on=row.due_on,
        step_label=step_label(row.step, row.due_on, row.fire_on),
        category=row.category,
        notice_id=row.notice_id,
        meeting_id=row.meeting_id,
        meeting_date=meeting_date,
        meeting_name=meeting_name,
    )


def notice_template(row: Any, purpose: str, values: dict[str, str]) -> str:
    """The template file for a notice row: ``purpose`` is inbox, reminder_email,
    escalation_email or webhook; an event notice has its own (notification_*)."""
    if row.category == NOTIFICATION:
        return "notification_inbox.txt" if purpose == "inbox" else "notification_email.txt"
    return render.template_name(f"{purpose}.txt", values)


# Columns every notice message needs, beside the notice's own: see :func:`notice_context`.
def notice_columns() -> tuple[Any, ...]:
    """The joined columns :func:`notice_context` reads (with :func:`notice_joins`)."""
    return (
        N.c.id.label("notice_id"),
        N.c.journey_id,
        N.c.deadline_kind,
        N.c.due_on,
        N.c.fire_on,
        N.c.step,
        N.c.category,
        N.c.subject,
        N.c.link,
        J.c.type.label("journey_type"),
        C.c.reference,
        D.c.meeting_id,
    )


def notice_joins(base: Any) -> Any:
    """``base`` (a FROM clause holding ``notice``) outer-joined to what a message names: a
    meeting's own deadline has no journey or child, an event notice has no deadline."""
    return (
        base.outerjoin(D, D.c.id == N.c.deadline_id)
        .outerjoin(J, J.c.id == N.c.journey_id)
        .outerjoin(C, C.c.id == N.c.child_id)
    )


def notice_meetings(conn: Connection, rows: Iterable[Any]) -> dict[int, date]:
    """The dates of the meetings that the child-less deadlines among ``rows`` belong to."""
    return meeting_dates(conn, (r.meeting_id for r in rows if r.reference is None))


def notice_meeting_names(conn: Connection, rows: Iterable[Any]) -> dict[int, str]:
    """The meetings, in words, that the panel packs' deadlines among ``rows`` are for."""
    return meeting_names(conn, (r.meeting_id for r in rows if r.deadline_kind == PANEL_PACK.key))


def _claim(
    conn: Connection, now: datetime, limit: int, lease: timedelta
) -> tuple[list[Any], dict[int, date], dict[int, str]]:
    """Lease up to ``limit`` due messages; their rows, and the dates of the meetings named."""
    due = (
        select(O.c.id)
        .where(and_(O.c.status.in_(("pending", "sending")), O.c.next_attempt_at <= now))
        .order_by(O.c.next_attempt_at, O.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [r.id for r in conn.execute(due)]
    if not ids:
        return [], {}, {}
    conn.execute(
        update(O)
        .where(O.c.id.in_(ids))
        .values(status="sending", attempts=O.c.attempts + 1, next_attempt_at=now + lease)
    )
    rows = list(
        conn.execute(
            select(
                O.c.id,
                O.c.channel,
                O.c.dedupe_key,
                O.c.attempts,
                O.c.payload,
                O.c.notice_id.label("outbox_notice_id"),
                U.c.email,
                *notice_columns(),
            )
            .select_from(
                notice_joins(
                    O.outerjoin(U, U.c.id == O.c.recipient_id).outerjoin(N, N.c.id == O.c.notice_id)
                )
            )
            .where(O.c.id.in_(ids))
            .order_by(O.c.id)
        )
    )
    return rows, notice_meetings(conn, rows), notice_meeting_names(conn, rows)


def _email(
    row: Any, config: DispatchConfig, meeting_date: date | None, meeting_name: str | None
) -> tuple[str, str]:
    if row.outbox_notice_id is None:  # a digest: its items were fixed when it was queued
        payload = row.payload
        items = "\n".join(
            render.render("digest_item.txt", render.digest_item(item)).rstrip("\n")
            for item in payload["items"]
        )
        on = date.fromisoformat(payload["digest_on"])
        text = render.render(
            "digest_email.txt",
            {
                "digest_on_long": render.long_date(on),
                "item_count": str(len(payload["items"])),
                "horizon": str(payload.get("horizon", 5)),
                "items": items,
                "inbox_link": f"{config.base_url.rstrip('/')}/api/v1/notifications",
            },
        )
    else:
        purpose = "escalation_email" if row.category == "escalation" else "reminder_email"
        values = notice_context(row, config.base_url, meeting_date, meeting_name)
        text = render.render(notice_template(row, purpose, values), values)
    return render.split_email(text)


def _calendar(row: Any, config: DispatchConfig) -> tuple[str, bytes] | None:
    """An invitation's .ics (its method and bytes), when the outbox row carries one."""
    payload = row.payload.get("calendar") if row.outbox_notice_id is not None else None
    if not payload:
        return None
    organizer = config.smtp.sender if config.smtp else "permanence@localhost"
    ics = invitation_ics(payload, base_url=config.base_url, organizer=organizer, attendee=row.email)
    return str(payload["method"]), ics


def _webhook_body(
    row: Any, config: DispatchConfig, meeting_date: date | None, meeting_name: str | None
) -> dict[str, Any]:
    values = notice_context(row, config.base_url, meeting_date, meeting_name)
    return {
        "text": render.render(notice_template(row, "webhook", values), values).strip(),
        "category": row.category,
        "child_reference": row.reference,
        "journey_id": row.journey_id,
        "journey_type": row.journey_type,
        "meeting_id": row.meeting_id,
        "deadline_kind": row.deadline_kind,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "step": row.step,
        "link": values["link"],
    }


def dispatch(
    engine: Engine,
    config: DispatchConfig,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> DispatchResult:
    """Deliver everything due by ``now`` (default: the clock), batch by batch."""
    at = now or clock()
    result = DispatchResult()
    with EmailChannel(config.smtp) if config.smtp else _NoEmail() as email:
        webhook = WebhookChannel(config.webhook_url) if config.webhook_url else None
        record = (
            WebhookChannel(config.record_webhook_url, secret=config.record_webhook_secret)
            if config.record_webhook_url
            else None
        )
        while True:
            with write_connection(engine) as conn:
                rows, held, names = _claim(
                    conn, at, config.batch_size, timedelta(seconds=config.lease_seconds)
                )
            if not rows:
                break
            for row in rows:
                error: str | None = None
                try:
                    if row.channel == "email":
                        if not isinstance(email, EmailChannel):
                            raise RuntimeError("email is not configured (PERMANENCE_SMTP_HOST)")
                        if not row.email:
                            raise RuntimeError("the recipient has no email address")
                        subject, body = _email(
                            row, config, held.get(row.meeting_id), names.get(row.meeting_id)
                        )
                        email.send(
                            row.email,
                            subject,
                            body,
                            message_id=config.message_id(row.id),
                            calendar=_calendar(row, config),
                        )
                    elif row.channel == "webhook":
                        if webhook is None:
                            raise RuntimeError("no webhook is configured")
                        webhook.send(
                            _webhook_body(
                                row, config, held.get(row.meeting_id), names.get(row.meeting_id)
                            )
                        )
                    elif row.channel == RECORD_WEBHOOK:
                        # A child's record entry: its message was fixed when it was queued.
                        if record is None:
                            raise RuntimeError(
                                "no record webhook is configured (PERMANENCE_RECORD_WEBHOOK_URL)"
                            )
                        record.send(row.payload, delivery_id=row.dedupe_key)
                    else:
                        raise RuntimeError(f"unknown channel {row.channel}")
                except Exception as exc:  # any failure is retried; the row is never lost
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning(
                        "delivery_failed",
                        channel=row.channel,
                        outbox_id=row.id,
                        attempt=row.attempts,
                        error=type(exc).__name__,
                    )
                _finish(engine, [(row.id, row.attempts, error)], at, config, result)
    if result.sent or result.retrying or result.failed:
        log.info("dispatch", sent=result.sent, retrying=result.retrying, failed=result.failed)
    return result


def _finish(
    engine: Engine,
    outcomes: list[tuple[int, int, str | None]],
    at: datetime,
    config: DispatchConfig,
    result: DispatchResult,
) -> None:
    with write_connection(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        sent = [outbox_id for outbox_id, _, error in outcomes if error is None]
        if sent:
            conn.execute(
                update(O).where(O.c.id.in_(sent)).values(status="sent", sent_at=at, last_error=None)
            )
            result.sent += len(sent)
        for outbox_id, attempts, error in outcomes:
            if error is None:
                continue
            if attempts >= config.max_attempts:
                values: dict[str, Any] = {"status": "failed", "last_error": error}
                result.failed += 1
                result.errors.append(error)
            else:
                delay = config.backoff_seconds * 2 ** (attempts - 1)
                values = {
                    "status": "pending",
                    "last_error": error,
                    "next_attempt_at": at + timedelta(seconds=delay),
                }
                result.retrying += 1
                result.errors.append(error)
            conn.execute(update(O).where(O.c.id == outbox_id).values(**values))


class _NoEmail:
    """Stands in for the email channel when no SMTP host is configured."""

    def __enter__(self) -> _NoEmail:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None
