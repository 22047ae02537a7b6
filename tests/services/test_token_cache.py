"""Bearer tokens: the verified-token cache never outlives a token or accepts a forged one."""

from __future__ import annotations

import time

import jwt

from services.auth import issue_token, read_token

SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123"


def test_a_cached_token_still_expires_on_time() -> None:
    token = jwt.encode({"sub": "7", "exp": int(time.time()) + 1}, SECRET, algorithm="HS256")
    assert read_token(token, SECRET) == 7
    assert read_token(token, SECRET) == 7  # the second read comes from the cache
    time.sleep(max(0.0, int(time.time()) + 1.05 - time.time()))
    assert read_token(token, SECRET) is None


def test_a_token_under_another_secret_or_tampered_is_refused_even_after_a_good_read() -> None:
    token = issue_token(42, SECRET, minutes=5)
    assert read_token(token, SECRET) == 42
    assert read_token(token, SECRET + "x") is None
    head, _body, signature = token.split(".")
    forged = jwt.encode(
        {"sub": "1", "exp": int(time.time()) + 300},
        "another-secret-nobody-was-given-for-this-test-0",
        algorithm="HS256",
    )
    assert read_token(f"{head}.{forged.split('.')[1]}.{signature}", SECRET) is None


def test_a_token_without_expiry_or_subject_is_refused() -> None:
    assert read_token(jwt.encode({"sub": "3"}, SECRET, algorithm="HS256"), SECRET) is None
    no_subject = jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    assert read_token(no_subject, SECRET) is None
    assert read_token("not-a-token", SECRET) is None
