"""Sign-in that cannot be brute-forced or used to exhaust the server (issue 10, ASVS 2.2).

The one sign-in rule, for the API's token endpoint and the sign-in page alike:

- **Throttle per account and per client address**, counted in the database
  (``sign_in_throttle``) so every instance of the service shares the counts. After
  ``sign_in_backoff_after`` consecutive failures, attempts are refused for an exponentially
  growing time (1 s, 2 s, 4 s ... at most 15 minutes) *without checking the password*, so the
  right password is refused too while the back-off lasts. A success resets the account's
  count; an address's count is forgotten only after a quiet spell, so an attacker who owns
  one account cannot reset it by signing in between guesses.
- **Lock** an account after ``sign_in_lock_after`` consecutive failures, until a team
  manager of its team or a system administrator unlocks it (:func:`unlock`), audited.
- An account is named by the SHA-256 of the typed username, whether or not such a user
  exists, so an unknown name is throttled and "locked" exactly like a known one: the answers
  never tell which usernames exist, and nothing typed is stored in the throttle table.
- **Bound concurrent password checks** (:class:`PasswordGate`): each argon2 check holds
  ``password_memory_kib`` of memory, so at most ``password_checks_at_once`` run at once per
  process; the rest wait on the event loop (not in a thread) up to
  ``password_check_wait_seconds`` and are then refused with 429 and ``Retry-After``.
- The audit row of a failure keeps the typed username only in a short, escaped form
  (:func:`short_username`).

Refused attempts (during a back-off or a lock) cost one read and write nothing, so a flood
of them can neither fill the audit trail nor queue on the database's writer.
Two requests racing on one account may both be checked before either's failure is counted;
the gate bounds that race to ``password_checks_at_once`` per process, since the throttle is
read again after a permit is granted.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import ipaddress
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from services import audit
from services.access import Principal
from services.auth import PASSWORD_MAX_LENGTH, verify_password
from services.clock import now_utc
from services.config import Settings
from services.db import insert_or_skip, read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import SIGN_IN_THROTTLE as T
from services.models import USERS as U
from states.roles import SYSADMIN, TEAM_MANAGER
from workflow.errors import EngineError

ACCOUNT = "account"
ADDRESS = "address"
USERNAME_MAX_LENGTH = 100  # the column's length: a longer name cannot be a user
_AUDIT_USERNAME_CHARS = 64


class SignInRefused(EngineError):
    """An attempt refused before any password check: 429 with ``Retry-After``."""

    status_code = 429
    code = "sign_in_throttled"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class AccountLocked(SignInRefused):
    """Too many failures on this account: it waits for a manager to unlock it."""

    code = "account_locked"


class SignInBusy(SignInRefused):
    """Every password-check permit was taken for longer than the wait allows."""

    code = "sign_in_busy"


def short_username(typed: str) -> str:
    """What the audit trail keeps of a typed username: the first 64 characters, with
    backslashes and anything unprintable (control characters, NUL, line breaks) escaped,
    and an ellipsis when it was cut."""
    out = []
    for ch in typed[:_AUDIT_USERNAME_CHARS]:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + ("…" if len(typed) > _AUDIT_USERNAME_CHARS else "")


def account_key(username: str) -> str:
    """How the throttle names an account: the SHA-256 of the username as typed."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def address_key(address: str | None) -> str:
    """How the throttle names a client address: IPv4 as it is, IPv6 by its /64 network (one
    subscriber's allocation, so rotating within it gains nothing), anything else cut short."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # defensive: a driver handing back naive UTC
        return value.replace(tzinfo=UTC)
    return value


def backoff_seconds(failures: int, settings: Settings) -> float:
    """How long attempts are refused after ``failures`` consecutive failures (0 below the
    threshold): base x 2^(failures - threshold), capped."""
    over = failures - settings.sign_in_backoff_after
    if over < 0:
        return 0.0
    # min() before the power would overflow for a long-running attack
    exponent = min(over, 40)
    return float(
        min(
            settings.sign_in_backoff_base_seconds * 2**exponent,
            settings.sign_in_backoff_max_seconds,
        )
    )


def _wait(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


_TRY_LATER = "Too many failed sign-ins. Try again in {wait}."
_LOCKED = (
    "Too many failed sign-ins: this account is locked. Ask your team manager or a system "
    "administrator to unlock it."
)


def describe_wait(seconds: int) -> str:
    """``seconds`` in words for a person: "1 second", "3 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class Attempt:
    """An attempt the throttle let through, with the user it names (if any)."""

    username: str
    account: str
    address: str
    user_id: int | None
    password_hash: str | None
    active: bool
    # Failures already counted against the account and the address: the gate's priority.
    prior_failures: int = 0


def _refusal(conn: Connection, account: str, address: str, settings: Settings) -> int:
    """Raise if the account is locked or either is backed off; else the failures behind them."""
    now = now_utc()
    forget = timedelta(minutes=settings.sign_in_address_forget_minutes)
    rows = conn.execute(
        select(
            T.c.scope, T.c.failures, T.c.blocked_until, T.c.locked_at, T.c.last_failure_at
        ).where(
            ((T.c.scope == ACCOUNT) & (T.c.subject == account))
            | ((T.c.scope == ADDRESS) & (T.c.subject == address))
        )
    ).all()
    waits = []
    for row in rows:
        if row.scope == ACCOUNT and row.locked_at is not None:
            raise AccountLocked(_LOCKED, retry_after=settings.sign_in_backoff_max_seconds)
        until = _aware(row.blocked_until)
        if until is not None and until > now:
            waits.append(_wait(until, now))
    if waits:
        wait = max(waits)
        raise SignInRefused(_TRY_LATER.format(wait=describe_wait(wait)), retry_after=wait)
    behind = 0
    for row in rows:
        last = _aware(row.last_failure_at)
        if row.scope == ADDRESS and (last is None or now - last > forget):
            continue  # an address's old failures are forgotten
        behind += int(row.failures)
    return behind


def begin(engine: Engine, settings: Settings, *, username: str, address: str | None) -> Attempt:
    """Refuse the attempt if its account or address is backed off or locked
    (:class:`SignInRefused`); otherwise look up the user it names. Writes nothing."""
    account = account_key(username)
    where = address_key(address)
    with read_connection(engine) as conn:
        prior = _refusal(conn, account, where, settings)
        row = None
        if len(username) <= USERNAME_MAX_LENGTH:
            row = conn.execute(
                select(U.c.id, U.c.password_hash, U.c.active).where(U.c.username == username)
            ).one_or_none()
    return Attempt(
        username=username,
        account=account,
        address=where,
        user_id=int(row.id) if row else None,
        password_hash=row.password_hash if row else None,
        active=bool(row and row.active),
        prior_failures=prior,
    )


def _row_for_update(conn: Connection, scope: str, subject: str) -> Any:
    conn.execute(insert_or_skip(conn, T).values(scope=scope, subject=subject, failures=0))
    query = select(T).where(T.c.scope == scope, T.c.subject == subject)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).one()


def _count_failure(
    conn: Connection,
    scope: str,
    subject: str,
    settings: Settings,
    now: datetime,
    user_id: int | None,
) -> int:
    """Count one failure (row locked on PostgreSQL; SQLite has one writer). Returns the
    count if this failure has just locked the account, else 0."""
    row = _row_for_update(conn, scope, subject)
    failures = int(row.failures)
    last = _aware(row.last_failure_at)
    forget = timedelta(minutes=settings.sign_in_address_forget_minutes)
    if scope == ADDRESS and last is not None and now - last > forget:
        failures = 0
    failures += 1
    wait = backoff_seconds(failures, settings)
    values: dict[str, Any] = {
        "failures": failures,
        "last_failure_at": now,
        "blocked_until": now + timedelta(seconds=wait) if wait else None,
        "user_id": user_id,
    }
    if scope == ACCOUNT and failures >= settings.sign_in_lock_after and row.locked_at is None:
        values["locked_at"] = now
    conn.execute(update(T).where(T.c.id == row.id).values(**values))
    return failures if "locked_at" in values else 0


def finish(engine: Engine, settings: Settings, attempt: Attempt, ok: bool) -> int | None:
    """Record the checked attempt: a success resets the account's count; a failure counts
    against the account and the address and may start a back-off or lock the account.
    Audited in the same transaction. Returns the user id on success."""
    now = now_utc()
    typed = short_username(attempt.username)
    locked_after = 0
    with write_connection(engine) as conn:
        if ok:
            conn.execute(
                update(T)
                .where(T.c.scope == ACCOUNT, T.c.subject == attempt.account)
                .values(failures=0, blocked_until=None)
            )
        else:
            locked_after = _count_failure(
                conn, ACCOUNT, attempt.account, settings, now, attempt.user_id
            )
            _count_failure(conn, ADDRESS, attempt.address, settings, now, None)
        audit.record(
            conn,
            actor_id=attempt.user_id,
            action="sign_in" if ok else "sign_in_failed",
            entity="user",
            entity_id=attempt.user_id,
            details={"username": typed, "address": attempt.address},
        )
        if not ok and locked_after:
            audit.record(
                conn,
                actor_id=None,
                action="account_locked",
                entity="user",
                entity_id=attempt.user_id,
                details={"username": typed, "failures": locked_after},
            )
    return attempt.user_id if ok else None


class PasswordGate:
    """At most ``permits`` password checks at once in this process; the others wait on the
    event loop up to ``wait_seconds`` and are then refused (:class:`SignInBusy`).

    Waiters are served by priority, then newest first: an attempt whose account and address
    have no failures behind them (``priority`` 0: most people, most of the time) goes before
    the guesses of a flood that has already failed; among equals the latest arrival goes
    first (adaptive LIFO), so under a sustained flood a new sign-in waits about one check
    while the oldest waiters, who would be served too late anyway, run out of wait and get
    429 instead of delaying everyone behind them.

    One per app (built with its services); it lives on the app's event loop.
    """

    def __init__(self, permits: int, wait_seconds: float) -> None:
        self.permits = max(1, permits)
        self.wait_seconds = wait_seconds
        self._free = self.permits
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordGate:
        """The gate the settings ask for."""
        return cls(settings.password_checks_at_once, settings.password_check_wait_seconds)

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, -next(self._arrivals), granted))
        try:
            # A permit handed over as the wait runs out still counts (wait_for returns it).
            await asyncio.wait_for(granted, timeout=self.wait_seconds)
        except TimeoutError:
            wait = max(1, math.ceil(self.wait_seconds))
            raise SignInBusy(
                f"Too many sign-ins at once. Try again in {describe_wait(wait)}.",
                retry_after=wait,
            ) from None
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # the client went away just as its turn came
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, granted = heapq.heappop(self._waiters)
            if not granted.done():  # skip those that gave up waiting
                granted.set_result(None)
                return
        self._free += 1

    @asynccontextmanager
    async def permit(self, priority: int = 0) -> AsyncIterator[None]:
        """Hold one permit for the block, or raise :class:`SignInBusy` after the wait.
        Lower ``priority`` is served first."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()


async def sign_in(
    engine: Engine,
    settings: Settings,
    gate: PasswordGate,
    *,
    username: str,
    password: str,
    address: str | None,
) -> int | None:
    """The user id if the credentials are right, the user active and neither the account nor
    the address throttled; None for wrong credentials (counted and audited). Raises
    :class:`SignInRefused` (429) without checking the password when throttled or busy.

    Blocking work (the database, argon2) runs in threads; waiting for a permit does not
    hold one."""
    attempt = await asyncio.to_thread(begin, engine, settings, username=username, address=address)
    async with gate.permit(priority=min(attempt.prior_failures, 100)):
        # Read again: failures counted while this attempt waited may have started a back-off.
        attempt = await asyncio.to_thread(
            begin, engine, settings, username=username, address=address
        )
        if len(password) > PASSWORD_MAX_LENGTH:
            ok = False  # no password that long can be set; no work for argon2
        else:
            ok = await asyncio.to_thread(verify_password, attempt.password_hash, password)
    return await asyncio.to_thread(finish, engine, settings, attempt, ok and attempt.active)


def unlock(engine: Engine, actor: Principal | None, user_id: int) -> bool:
    """Lift the lock and back-off of user ``user_id``'s account; audited. ``actor`` None is
    the command line. A system administrator may unlock anyone, a team manager the users of
    their own team. Returns whether the account was locked."""
    with write_connection(engine) as conn:
        user = conn.execute(
            select(U.c.id, U.c.username, U.c.team).where(U.c.id == user_id)
        ).one_or_none()
        if user is None:
            raise NotFound(f"No user {user_id}.")
        if actor is not None and not _may_unlock(actor, user.team):
            raise AccessDenied(
                "Only a system administrator, or a team manager of the user's team, can "
                "unlock an account."
            )
        key = account_key(user.username)
        was_locked = (
            conn.execute(
                select(T.c.locked_at).where(T.c.scope == ACCOUNT, T.c.subject == key)
            ).scalar_one_or_none()
            is not None
        )
        conn.execute(
            update(T)
            .where(T.c.scope == ACCOUNT, T.c.subject == key)
            .values(failures=0, blocked_until=None, locked_at=None)
        )
        audit.record(
            conn,
            actor_id=actor.user_id if actor else None,
            action="account_unlocked",
            entity="user",
            entity_id=user_id,
            details={
                "username": user.username,
                "was_locked": was_locked,
                "by": "api" if actor else "cli",
            },
        )
    return was_locked


def _may_unlock(actor: Principal, team: str | None) -> bool:
    if SYSADMIN in actor.roles:
        return True
    return TEAM_MANAGER in actor.roles and actor.team is not None and actor.team == team


def user_id_named(engine: Engine, username: str) -> int | None:
    """The id of the user ``username``, or None (for the command line's ``user unlock``)."""
    with read_connection(engine) as conn:
        found = conn.execute(select(U.c.id).where(U.c.username == username)).scalar_one_or_none()
    return int(found) if found is not None else None


def is_locked(engine: Engine, username: str) -> bool:
    """Whether the account ``username`` is locked."""
    with read_connection(engine) as conn:
        locked = conn.execute(
            select(T.c.locked_at).where(T.c.scope == ACCOUNT, T.c.subject == account_key(username))
        ).scalar_one_or_none()
    return locked is not None
