"""The web pages' own table: signed-in browser sessions (migration 0005)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Field, SQLModel

from services.models import core_table


class WebSession(SQLModel, table=True):
    """A signed-in browser (issue 5). The cookie holds a random token; only its SHA-256 is
    stored, so a copy of the database cannot be replayed as a session. Signing out deletes
    the row, which ends the session at once (a signed, stateless cookie could not be)."""

    __tablename__: ClassVar[Any] = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    # The synchronizer token every form of this session must echo back.
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


WEB_SESSIONS = core_table(WebSession)
