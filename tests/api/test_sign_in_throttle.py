"""Sign-in throttling (issue 10 item 3): back-off, lock and unlock, per-address counts, the
short audit form of a typed username; the API token endpoint and the sign-in page alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from services import sign_in
from services.clock import now_utc
from services.models import AUDIT_LOG as A
from tests.conftest import PASSWORD, Api, UserFactory
from tests.web_support import form_token

WRONG = "not-the-password"


@dataclass
class Clock:
    """The sign-in rule's clock, moved by the test."""

    now: datetime

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Freeze services.sign_in's clock; the test moves it."""
    frozen = Clock(now_utc())
    monkeypatch.setattr(sign_in, "now_utc", lambda: frozen.now)
    yield frozen


def _at(app_client: TestClient, address: str) -> TestClient:
    """A client of the same app that connects from ``address``."""
    return TestClient(app_client.app, client=(address, 50000))


def _token(client: TestClient, username: str, password: str) -> httpx2.Response:
    response: httpx2.Response = client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    return response


def _actions(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(A.c.actor_id, A.c.entity_id, A.c.details)
            .where(A.c.action == action)
            .order_by(A.c.id)
        ).all()
    return [{"actor_id": r.actor_id, "entity_id": r.entity_id, **r.details} for r in rows]


def _fail_until_locked(client: TestClient, clock: Clock, username: str) -> None:
    """Ten wrong passwords, each after the back-off has passed (so each is checked)."""
    for attempt in range(10):
        clock.advance(1000)
        response = _token(client, username, WRONG)
        assert response.status_code == 401, (attempt, response.text)


def test_six_wrong_then_right_is_refused_until_the_back_off_passes(
    app_client: TestClient, sw: Api, engine: Engine, clock: Clock
) -> None:
    client = _at(app_client, "10.0.0.1")
    for _ in range(5):
        assert _token(client, sw.username, WRONG).status_code == 401
    sixth = _token(client, sw.username, WRONG)
    assert sixth.status_code == 429
    assert sixth.json()["error"] == "sign_in_throttled"
    right = _token(client, sw.username, PASSWORD)
    assert right.status_code == 429, "the right password during the back-off is refused"
    wait = int(right.headers["Retry-After"])
    assert 1 <= wait <= 1  # the fifth failure starts a 1 s back-off
    assert right.json()["retry_after"] == wait
    # Refused attempts check no password and are not counted: five failures audited.
    assert len([r for r in _actions(engine, "sign_in_failed") if r["entity_id"] == sw.user_id]) == 5

    clock.advance(wait + 0.1)
    assert _token(client, sw.username, PASSWORD).status_code == 200
    # The success reset the account's count: the next failure is checked, not refused.
    assert _token(_at(app_client, "10.0.0.2"), sw.username, WRONG).status_code == 401


def test_back_off_doubles_and_is_capped(app_client: TestClient, sw: Api, clock: Clock) -> None:
    client = _at(app_client, "10.0.0.3")
    for _ in range(5):
        assert _token(client, sw.username, WRONG).status_code == 401
    waits = []
    for _ in range(4):  # the tenth failure would lock the account
        refused = _token(client, sw.username, WRONG)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert _token(client, sw.username, WRONG).status_code == 401
    assert waits == [1, 2, 4, 8]
    settings = app_client.app.state.services.settings  # type: ignore[attr-defined]
    assert sign_in.backoff_seconds(100, settings) == 900


def test_locked_account_waits_for_a_sysadmin_and_unlocking_is_audited(
    app_client: TestClient, make_user: UserFactory, engine: Engine, clock: Clock
) -> None:
    worker = make_user("sw.locked", "social_worker", team="north")
    other_manager = make_user("tm.south", "team_manager", team="south")
    admin = make_user("admin", "sysadmin")
    client = _at(app_client, "10.0.0.4")
    _fail_until_locked(client, clock, worker.username)
    assert [r["entity_id"] for r in _actions(engine, "account_locked")] == [worker.user_id]

    clock.advance(100_000)  # no back-off left: the lock does not wear off
    refused = _token(client, worker.username, PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"] == "account_locked"
    assert int(refused.headers["Retry-After"]) >= 1
    assert sign_in.is_locked(engine, worker.username)

    assert other_manager.post(f"/users/{worker.user_id}/unlock").status_code == 403
    assert worker.post(f"/users/{worker.user_id}/unlock").status_code == 403
    assert _token(client, worker.username, PASSWORD).status_code == 429

    unlocked = admin.post(f"/users/{worker.user_id}/unlock")
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json() == {"id": worker.user_id, "was_locked": True}
    audited = _actions(engine, "account_unlocked")
    assert [(r["actor_id"], r["entity_id"], r["was_locked"]) for r in audited] == [
        (admin.user_id, worker.user_id, True)
    ]
    assert _token(client, worker.username, PASSWORD).status_code == 200
    assert admin.post("/users/999999/unlock").status_code == 404


def test_a_team_manager_unlocks_their_own_team(
    app_client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    worker = make_user("sw.locked", "social_worker", team="north")
    manager = make_user("tm.north", "team_manager", team="north")
    client = _at(app_client, "10.0.0.5")
    _fail_until_locked(client, clock, worker.username)
    assert _token(client, worker.username, PASSWORD).status_code == 429
    assert manager.post(f"/users/{worker.user_id}/unlock").status_code == 200
    clock.advance(1000)  # the address's own back-off (ten failures) has to pass too
    assert _token(client, worker.username, PASSWORD).status_code == 200


def test_an_address_is_throttled_across_accounts(
    app_client: TestClient, make_user: UserFactory, clock: Clock
) -> None:
    users = [make_user(f"sw.{i}", "social_worker", team="north") for i in range(6)]
    attacker = _at(app_client, "10.0.0.6")
    for user in users[:5]:  # one failure on each of five accounts
        assert _token(attacker, user.username, WRONG).status_code == 401
    refused = _token(attacker, users[5].username, PASSWORD)
    assert refused.status_code == 429, "the address is backed off, whatever the account"
    assert refused.headers["Retry-After"] == "1"
    # Another address is not: no account has five failures.
    assert _token(_at(app_client, "10.0.0.7"), users[5].username, PASSWORD).status_code == 200
    # A success from the address does not reset it: its next failure backs off for longer.
    clock.advance(1.1)
    assert _token(attacker, users[5].username, PASSWORD).status_code == 200
    assert _token(attacker, users[0].username, WRONG).status_code == 401
    assert _token(attacker, users[1].username, PASSWORD).headers["Retry-After"] == "2"


def test_an_unknown_username_is_throttled_like_a_known_one(
    app_client: TestClient, clock: Clock
) -> None:
    client = _at(app_client, "10.0.0.8")
    answers = [_token(client, "nobody.here", WRONG) for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[-1].json()["error"] == "sign_in_throttled"
    del clock


def test_a_failure_audits_the_typed_username_short_and_escaped(
    app_client: TestClient, engine: Engine, clock: Clock
) -> None:
    typed = "evil\x07\n\x1b[31m" + "x" * 5000
    assert _token(_at(app_client, "10.0.0.9"), typed, WRONG).status_code == 401
    (row,) = _actions(engine, "sign_in_failed")
    assert row["username"] == "evil\\x07\\x0a\\x1b[31m" + "x" * 53 + "…"
    # A NUL is refused at the door, before any sign-in check (app/input_guard.py).
    nul = _token(_at(app_client, "10.0.0.9"), "evil\x00", WRONG)
    assert nul.status_code == 422
    assert len(_actions(engine, "sign_in_failed")) == 1
    assert len(row["username"]) < 80
    assert row["address"] == "10.0.0.9"
    del clock


def test_short_username_escapes_backslashes_and_keeps_letters() -> None:
    assert sign_in.short_username("Zoë\\n") == "Zoë\\\\n"
    assert sign_in.short_username("a\u2028b\U000e0001") == "a\\u2028b\\U000e0001"
    assert sign_in.short_username("y" * 64) == "y" * 64


def test_the_sign_in_page_shows_the_wait_with_429(
    app_client: TestClient, sw: Api, clock: Clock
) -> None:
    browser = TestClient(app_client.app, base_url="https://testserver", client=("10.0.1.1", 1))

    def attempt(password: str) -> httpx2.Response:
        token = form_token(browser.get("/sign-in").text)
        response: httpx2.Response = browser.post(
            "/sign-in",
            data={"username": sw.username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        return response

    assert [attempt(WRONG).status_code for _ in range(5)] == [400] * 5
    refused = attempt(PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins. Try again in 1 second" in refused.text
    assert 'class="govuk-error-summary"' in refused.text
    clock.advance(1.5)
    assert attempt(PASSWORD).status_code == 303


def test_an_ipv6_client_is_counted_by_its_64_network() -> None:
    assert sign_in.address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert sign_in.address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert sign_in.address_key("::ffff:10.1.2.3") == "10.1.2.3"
    assert sign_in.address_key("10.1.2.3") == "10.1.2.3"
    assert sign_in.address_key("testclient") == "testclient"
    assert sign_in.address_key(None) == "unknown"
