"""Browser sessions: a random token in a cookie, its hash and the CSRF token in the database.

Idle sessions end after ``session_idle_minutes`` and every session after
``session_max_hours``; signing out deletes the row. Sign-in and sign-out are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from app.web.models import WEB_SESSIONS as S
from services import audit
from services.access import Principal
from services.clock import now_utc
from services.config import Settings
from services.db import insert_id, read_connection, write_connection
from services.models import USERS as U

COOKIE = "permanence_session"
# Seen-at is written at most this often, so reading pages does not mean a write per page.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class WebSession:
    """A live session: who, and the token its forms must carry."""

    session_id: int
    principal: Principal
    csrf_token: str
    # The name people read ("Priya Shah"), the sign-in name when none is recorded.
    display_name: str = ""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(engine: Engine, user_id: int, settings: Settings) -> str:
    """A new session for ``user_id``; returns the cookie's token (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    with write_connection(engine) as conn:
        session_id = insert_id(
            conn.execute(
                insert(S).values(
                    token_hash=_hash(token),
                    user_id=user_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=settings.session_max_hours),
                )
            )
        )
        audit.record(
            conn,
            actor_id=user_id,
            action="web_session_started",
            entity="web_session",
            entity_id=int(session_id),
        )
    return token


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored value is UTC.
    return value if value.tzinfo else value.replace(tzinfo=now_utc().tzinfo)


def load(engine: Engine, token: str | None, settings: Settings) -> WebSession | None:
    """The live session behind ``token``, or None (unknown, expired, idle or user disabled)."""
    if not token or len(token) > 100:
        return None
    now = now_utc()
    with read_connection(engine) as conn:
        row = conn.execute(
            select(
                S.c.id,
                S.c.csrf_token,
                S.c.last_seen_at,
                S.c.expires_at,
                U.c.id.label("user_id"),
                U.c.username,
                U.c.display_name,
                U.c.roles,
                U.c.team,
                U.c.active,
            )
            .join(U, U.c.id == S.c.user_id)
            .where(S.c.token_hash == _hash(token))
        ).one_or_none()
    if row is None or not row.active:
        return None
    last_seen = _aware(row.last_seen_at)
    if _aware(row.expires_at) <= now or now - last_seen > timedelta(
        minutes=settings.session_idle_minutes
    ):
        return None
    if now - last_seen > _TOUCH_EVERY:
        with write_connection(engine) as conn:
            conn.execute(update(S).where(S.c.id == row.id).values(last_seen_at=now))
    principal = Principal(row.user_id, row.username, frozenset(row.roles), row.team)
    return WebSession(row.id, principal, row.csrf_token, row.display_name or row.username)


def end(engine: Engine, session: WebSession) -> None:
    """Sign out: the session row goes, so the cookie is worthless even if copied."""
    with write_connection(engine) as conn:
        conn.execute(delete(S).where(S.c.id == session.session_id))
        audit.record(
            conn,
            actor_id=session.principal.user_id,
            action="web_session_ended",
            entity="web_session",
            entity_id=session.session_id,
        )


def purge_expired(engine: Engine, settings: Settings) -> int:
    """Delete sessions past their end or idle limit; returns how many went."""
    now = now_utc()
    idle_since = now - timedelta(minutes=settings.session_idle_minutes)
    with write_connection(engine) as conn:
        result = conn.execute(
            delete(S).where((S.c.expires_at <= now) | (S.c.last_seen_at < idle_since))
        )
    return int(result.rowcount or 0)
