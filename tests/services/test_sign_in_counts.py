"""Failures counted by concurrent writers (several instances share the database): none lost,
and the lock set once (issue 10 item 3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from services.config import Settings
from services.models import AUDIT_LOG as A
from services.models import SIGN_IN_THROTTLE as T
from services.sign_in import ACCOUNT, ADDRESS, Attempt, account_key, finish, is_locked


def test_concurrent_failures_are_all_counted(engine: Engine, settings: Settings) -> None:
    attempt = Attempt(
        username="sw.target",
        account=account_key("sw.target"),
        address="10.9.9.9",
        user_id=None,
        password_hash=None,
        active=False,
    )
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: finish(engine, settings, attempt, False), range(12)))
    assert results == [None] * 12
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(T.c.scope, T.c.failures).where(
                    T.c.subject.in_([attempt.account, attempt.address])
                )
            ).all()
        )
        locks = conn.execute(select(A.c.id).where(A.c.action == "account_locked")).all()
        failed = conn.execute(select(A.c.id).where(A.c.action == "sign_in_failed")).all()
    assert counts == {ACCOUNT: 12, ADDRESS: 12}
    assert len(failed) == 12
    assert len(locks) == 1, "the lock is set, and audited, once"
    assert is_locked(engine, "sw.target")
