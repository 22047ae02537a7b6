"""The principal cache's bound: a user changed by hand (or by another worker) keeps their old
roles for at most ``principal_cache_seconds``; a change made through
``principal_changed`` takes effect at once; a refused account is never remembered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from app.main import create_app
from services.config import Settings
from services.models import USERS as U
from services.principal_cache import PrincipalCache, principal_changed
from states.roles import SYSADMIN
from tests.conftest import Api, UserFactory


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app_client: TestClient) -> Clock:
    clock = Clock()
    app_client.app.state.services.principals.clock = clock  # type: ignore[attr-defined]
    return clock


@pytest.fixture
def admin(make_user: UserFactory) -> Api:
    return make_user("admin", SYSADMIN)


def _set(engine: Engine, user_id: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(U).where(U.c.id == user_id).values(**values))


def test_a_role_removed_by_hand_lives_at_most_the_cache_seconds(
    admin: Api, clock: Clock, engine: Engine, app_client: TestClient
) -> None:
    ttl = app_client.app.state.services.principals.ttl  # type: ignore[attr-defined]
    assert ttl == 2.0  # the default, as README and services/principal_cache.py say
    assert admin.get("/users").status_code == 200
    _set(engine, admin.user_id, roles=["social_worker"])
    clock.now += ttl - 0.01
    assert admin.get("/users").status_code == 200  # still within the bound
    clock.now += 0.01
    response = admin.get("/users")
    assert response.status_code == 403
    # Once read afresh, the new roles stay in force: no older principal comes back.
    assert admin.get("/users").status_code == 403


def test_a_disabled_account_is_refused_past_the_bound_and_never_remembered(
    admin: Api, clock: Clock, engine: Engine, app_client: TestClient
) -> None:
    assert admin.get("/users").status_code == 200
    _set(engine, admin.user_id, active=False)
    clock.now += 2.0
    assert admin.get("/users").status_code == 401
    # The refusal is not cached: enabled again, the account works on its next request.
    _set(engine, admin.user_id, active=True)
    assert admin.get("/users").status_code == 200


def test_principal_changed_takes_effect_at_once(admin: Api, clock: Clock, engine: Engine) -> None:
    assert admin.get("/users").status_code == 200
    _set(engine, admin.user_id, roles=["social_worker"])
    principal_changed(admin.user_id)
    assert admin.get("/users").status_code == 403
    _set(engine, admin.user_id, active=False)
    principal_changed()  # every user
    assert admin.get("/users").status_code == 401


def test_zero_seconds_reads_the_row_on_every_request(
    engine: Engine, settings: Settings, make_user: UserFactory
) -> None:
    with TestClient(create_app(settings.model_copy(update={"principal_cache_seconds": 0}))) as c:
        admin = make_user("admin", SYSADMIN)
        admin = Api(c, admin.user_id, admin.username, admin.headers)
        assert admin.get("/users").status_code == 200
        _set(engine, admin.user_id, roles=["social_worker"])
        assert admin.get("/users").status_code == 403


def test_the_cache_is_bounded_in_size() -> None:
    from services.access import Principal

    cache = PrincipalCache(60, maxsize=2, clock=lambda: 0.0)
    for user_id in (1, 2, 3):
        cache.put(Principal(user_id, f"u{user_id}", frozenset(), None))
    assert cache.get(1) is None
    assert cache.get(2) is not None and cache.get(3) is not None


def test_a_principal_read_before_a_change_is_not_kept_after_it() -> None:
    from services.access import Principal

    cache = PrincipalCache(60, clock=lambda: 0.0)
    generation = cache.generation  # a request starts reading the user's row
    principal_changed(7)  # meanwhile the user is changed
    cache.put(Principal(7, "u7", frozenset({"sysadmin"}), None), generation)
    assert cache.get(7) is None
    cache.put(Principal(7, "u7", frozenset(), None), cache.generation)
    assert cache.get(7) is not None
