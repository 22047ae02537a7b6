"""Users: creation and loading the signed-in principal (signing in: services.sign_in)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services import audit
from services.access import Principal
from services.auth import hash_password, password_problem
from services.clock import now_utc
from services.db import driver_connection, insert_id, read_connection, write_connection
from services.models import SIGN_IN_THROTTLE as T
from services.models import USERS as U
from services.prepared import Prepared
from services.sign_in import ACCOUNT, account_key
from services.teams import require_team
from states.roles import ALL_ROLES
from workflow.errors import EngineError


class UserError(EngineError):
    status_code = 422
    code = "invalid_user"


def create_user(
    engine: Engine,
    *,
    username: str,
    password: str,
    roles: Iterable[str],
    team: str | None = None,
    display_name: str = "",
    email: str | None = None,
    actor_id: int | None = None,
) -> int:
    """Create a user and return its id. Roles must be those of DOMAIN.md."""
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ALL_ROLES]
    if not username.strip():
        raise UserError("A username is required.")
    if not roles or unknown:
        raise UserError(
            f"Unknown or missing roles: {', '.join(unknown) or 'none given'}.",
            roles=list(ALL_ROLES),
        )
    problem = password_problem(password, username=username)
    if problem:
        raise UserError(problem)
    with write_connection(engine) as conn:
        if conn.execute(select(U.c.id).where(U.c.username == username)).first():
            raise UserError(f"User {username!r} already exists.")
        if team is not None:
            require_team(conn, team)
        user_id = insert_id(
            conn.execute(
                insert(U).values(
                    username=username,
                    display_name=display_name or username,
                    email=email,
                    password_hash=hash_password(password),
                    roles=roles,
                    team=team,
                    active=True,
                    created_at=now_utc(),
                )
            )
        )
        # Failures typed against this name before it existed must not lock the new user out.
        conn.execute(delete(T).where(T.c.scope == ACCOUNT, T.c.subject == account_key(username)))
        audit.record(
            conn,
            actor_id=actor_id,
            action="user_created",
            entity="user",
            entity_id=user_id,
            details={"username": username, "roles": roles, "team": team},
        )
    return user_id


# Every API request looks its user up: one statement, built and compiled once.
_PRINCIPAL = Prepared(
    select(U.c.id, U.c.username, U.c.roles, U.c.team, U.c.active).where(
        U.c.id == bindparam("user_id", type_=U.c.id.type)
    )
)


def load_principal(engine: Engine, user_id: int) -> Principal | None:
    """The active user ``user_id`` as a principal, or None (read afresh on every call)."""
    with engine.connect() as conn:
        row = _PRINCIPAL.first(conn, {"user_id": user_id})
    return _principal(row)


async def load_principal_async(engine: AsyncEngine, user_id: int) -> Principal | None:
    """:func:`load_principal` on the event loop (PostgreSQL's async engine): one round trip,
    a server-side prepared statement."""
    sql, args = _PRINCIPAL.bind(engine.dialect, {"user_id": user_id})
    async with driver_connection(engine) as pg, pg.cursor() as cursor:
        await cursor.execute(sql, args, prepare=True)
        raw = await cursor.fetchone()
    return _principal(_PRINCIPAL.convert(engine.dialect, raw))


def _principal(row: Any) -> Principal | None:
    if row is None or not row.active:
        return None
    return Principal(row.id, row.username, frozenset(row.roles), row.team)


def list_users(engine: Engine) -> list[dict[str, object]]:
    """Every user without password hashes (for administrators)."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(
                U.c.id, U.c.username, U.c.display_name, U.c.email, U.c.roles, U.c.team, U.c.active
            ).order_by(U.c.username)
        ).all()
    return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class UserName:
    """How a user is named: the sign-in name, and the name people read."""

    username: str
    display: str


def user_names(engine: Engine, ids: Iterable[int | None]) -> dict[int, UserName]:
    """The names of the users ``ids`` (None entries skipped), in one query."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(U.c.id, U.c.username, U.c.display_name).where(U.c.id.in_(wanted))
        ).all()
    return {r.id: UserName(r.username, r.display_name or r.username) for r in rows}


def person_name(users: Any) -> Any:
    """The name people read for a user row of ``users`` (the users table or an alias of
    it): the display name, or the sign-in name when none is recorded."""
    return func.coalesce(func.nullif(users.c.display_name, ""), users.c.username)
