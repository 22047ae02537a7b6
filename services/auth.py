"""Passwords (argon2) and bearer tokens (signed JWT) for the API."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.clock import now_utc
from services.config import Settings

_ALGORITHM = "HS256"

# ASVS 2.1.1 and 2.1.7: long enough, and not one of the passwords attackers try first.
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 200
_COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (see services/data/README.md)."""
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Why ``password`` may not be set (a sentence), or None if it meets the policy.

    The one password rule: every place a password is set calls it."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"A password needs at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"A password can have at most {PASSWORD_MAX_LENGTH} characters."
    folded = password.strip().lower()
    if folded in common_passwords():
        return "That password is too common: choose one that is not on lists of leaked passwords."
    if username and folded == username.strip().lower():
        return "A password must not be the username."
    return None


class _Hashing:
    """The process's argon2 parameters, and a dummy hash made with them."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        # Verifying against a real hash when the user does not exist keeps sign-in timing the
        # same, so a wrong username cannot be told from a wrong password by the clock.
        self.dummy = hasher.hash("not-a-real-password")


_hashing = _Hashing(PasswordHasher())


def configure_password_hashing(settings: Settings) -> None:
    """Use the settings' argon2id cost for new hashes (old hashes carry their own parameters)."""
    global _hashing
    wanted = (
        settings.password_time_cost,
        settings.password_memory_kib,
        settings.password_parallelism,
    )
    current = _hashing.hasher
    if (current.time_cost, current.memory_cost, current.parallelism) == wanted:
        return
    time_cost, memory_kib, parallelism = wanted
    _hashing = _Hashing(
        PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    )


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; constant work whether or not the user exists."""
    try:
        ok = _hashing.hasher.verify(password_hash or _hashing.dummy, password)
        return ok and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, secret: str, minutes: int) -> str:
    """A signed access token for ``user_id`` valid for ``minutes``."""
    now = now_utc()
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str) -> int | None:
    """The user id in a valid token, or None if it is bad or expired."""
    verified = _verified_claims(token, secret)
    if verified is None:
        return None
    user_id, expires = verified
    # PyJWT's own rule, checked on every use: a cached token expires on time.
    return user_id if expires > time.time() else None


@lru_cache(maxsize=4096)
def _verified_claims(token: str, secret: str) -> tuple[int, float] | None:
    """A token's user id and expiry once its signature and claims check out, else None.

    Cached because every request of a session sends the same token again, and checking an
    HS256 signature and parsing its claims was about a twentieth of a transition request's
    CPU (profiled). A result depends on nothing but the token and the secret; expiry is
    checked by the caller on each use, and a token found bad stays bad.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp"]})
        return int(claims["sub"]), float(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
