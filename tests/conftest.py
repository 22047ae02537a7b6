"""Fixtures: a real database (SQLite file, or PostgreSQL when asked), the app, users, clients.

Set PERMANENCE_TEST_DATABASE_URL to run the whole suite on PostgreSQL, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``. If that server does not answer, the
tests skip with the reason.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

import states
from app.main import create_app
from notifications.policy import Policies, policies_from_settings
from services.access import Principal
from services.clock import now_utc
from services.config import Settings
from services.db import make_engine
from services.journeys import JourneyService
from services.migrate import upgrade
from services.models import TEAMS
from services.users import create_user, load_principal

if TYPE_CHECKING:
    from tests.web_support import WebUser

PASSWORD = "test-password-1"
TEST_DB_ENV = "PERMANENCE_TEST_DATABASE_URL"


def private_schema(url: str) -> tuple[str, str]:
    """A fresh schema for this test session, so concurrent runs on one database never meet."""
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.commit()
    finally:
        engine.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def drop_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database the suite runs on: a fresh SQLite file, or a private PostgreSQL schema."""
    url = os.environ.get(TEST_DB_ENV)
    if not url:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    try:
        scoped, schema = private_schema(url)
    except Exception as exc:  # no server: skip, saying why
        pytest.skip(f"PostgreSQL at {url} is not reachable: {type(exc).__name__}: {exc}")
    yield scoped
    drop_schema(url, schema)


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """One engine for the session, migrated to head once."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


_TABLES = (
    "cohort_member",
    "cohort_snapshot",
    "drift_count",
    "drift_snapshot",
    # The care record first: its rows point at child, app_user and care_import.
    "care_confirm_dismissal",
    "carer_approval",
    "care_import_queue_file",
    "care_import_queue",
    "pending_import_file",
    "pending_import",
    "care_previous_permanence",
    "care_uasc",
    "care_adoption_match",
    "care_adoption_decision",
    "care_review",
    "care_episode",
    "care_child",
    "care_import",
    "raised_escalation",
    "panel_invitation",
    "panel_seat",
    "outbox",
    "notice",
    "deadline",
    "panel_record_entry",
    "panel_action",
    "panel_decision",
    "panel_item",
    "panel_case",
    "panel_attendance",
    "panel_referral",
    "panel_meeting",
    "journey_event",
    "journey",
    "child",
    "audit_log",
    "web_session",
    "sign_in_throttle",
    "app_user",
    "team",
)
# The teams the tests' users and children belong to (the list is managed: services.teams).
TEST_TEAMS = ("north", "south", "east")


def _wipe(engine: Engine) -> None:
    """Empty every table between tests (the append-only triggers are lifted for it)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
            return
        for table in _TABLES:
            if table in ("journey_event", "audit_log"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
                conn.execute(text(f"DELETE FROM {table}"))
                conn.execute(
                    text(
                        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                    )
                )
            else:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The session's engine with every table emptied, and the tests' teams on the list."""
    _wipe(migrated_engine)
    with migrated_engine.begin() as conn:
        conn.execute(
            insert(TEAMS),
            [{"name": t, "title": t.capitalize(), "created_at": now_utc()} for t in TEST_TEAMS],
        )
    return migrated_engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test app on the test database."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        log_format="json",
        auto_migrate=False,
        # Real argon2id, at the cheapest valid cost: the suite creates hundreds of users.
        password_time_cost=1,
        password_memory_kib=64,
        password_parallelism=1,
    )


@pytest.fixture
def app_client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """An unauthenticated client of a fresh app on the emptied database."""
    with TestClient(create_app(settings)) as client:
        yield client


@dataclass
class Api:
    """A signed-in API client with helpers for the common calls."""

    client: TestClient
    user_id: int
    username: str

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers, **kw)

    def patch(self, path: str, json: Any = None) -> Any:
        return self.client.patch(f"/api/v1{path}", json=json, headers=self.headers)

    headers: dict[str, str] | None = None

    def history(self, journey: dict[str, Any]) -> list[dict[str, Any]]:
        """The journey's history entries, oldest first (asserts success)."""
        response = self.get(f"/journeys/{journey['id']}/history")
        assert response.status_code == 200, response.text
        return list(response.json())

    def reload(self, journey: dict[str, Any]) -> dict[str, Any]:
        """The journey as it is stored now (asserts success)."""
        response = self.get(f"/journeys/{journey['id']}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def create_child(self, reference: str = "C-0001", **overrides: Any) -> dict[str, Any]:
        """Record a child and return it (asserts success)."""
        body = {
            "reference": reference,
            "given_name": "Testgiven",
            "family_name": "Testfamily",
            "date_of_birth": "2018-03-04",
            "looked_after_since": "2025-12-18",
            "legal_status": "interim_care_order",
            **overrides,
        }
        response = self.post("/children", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def start(
        self,
        child_id: int,
        journey_type: str,
        started_on: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start a journey and return it (asserts success)."""
        body: dict[str, Any] = {"type": journey_type, "data": data or {}}
        if started_on:
            body["started_on"] = started_on
        response = self.post(f"/children/{child_id}/journeys", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def fire(
        self,
        journey: dict[str, Any],
        event: str,
        occurred_on: str | None = None,
        data: dict[str, Any] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        """Fire an event at the journey's current version; assert the status code."""
        body: dict[str, Any] = {
            "event": event,
            "expected_version": journey["version"],
            "data": data or {},
        }
        if occurred_on:
            body["occurred_on"] = occurred_on
        response = self.post(f"/journeys/{journey['id']}/events", body)
        assert response.status_code == expect, response.text
        return dict(response.json())


UserFactory = Callable[..., Api]


@pytest.fixture
def make_user(engine: Engine, app_client: TestClient) -> UserFactory:
    """Create a user with roles (and a team) and return a signed-in API client for them."""

    def factory(username: str, *roles: str, team: str | None = None) -> Api:
        user_id = create_user(engine, username=username, password=PASSWORD, roles=roles, team=team)
        response = app_client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return Api(app_client, user_id, username, {"Authorization": f"Bearer {token}"})

    return factory


@pytest.fixture
def sw(make_user: UserFactory) -> Api:
    """A social worker in team north."""
    return make_user("sw.north", "social_worker", team="north")


@pytest.fixture
def tm(make_user: UserFactory) -> Api:
    """A team manager in team north."""
    return make_user("tm.north", "team_manager", team="north")


@pytest.fixture
def adm(make_user: UserFactory) -> Api:
    """The agency decision maker."""
    return make_user("adm", "adm")


@pytest.fixture
def chair(make_user: UserFactory) -> Api:
    """The panel chair."""
    return make_user("chair", "panel_chair")


@pytest.fixture
def journey_service(engine: Engine, settings: Settings) -> JourneyService:
    """The journey service straight on the engine (no HTTP)."""
    return JourneyService(engine, states.build_registry(), settings.policy())


@pytest.fixture
def principal_of(engine: Engine) -> Callable[[int], Principal]:
    """Load a user's principal by id."""

    def load(user_id: int) -> Principal:
        principal = load_principal(engine, user_id)
        assert principal is not None
        return principal

    return load


def iso(value: date) -> str:
    """A date as the API writes it."""
    return value.isoformat()


@pytest.fixture
def repo_root() -> Path:
    """The repository's top folder."""
    return Path(__file__).resolve().parent.parent


@dataclass
class LiveServer:
    """A real uvicorn server on a loopback port, for tests that need true concurrency."""

    base_url: str


@pytest.fixture
def live_server(engine: Engine, settings: Settings) -> Iterator[LiveServer]:
    """Serve the app with uvicorn in a background thread on a free loopback port."""
    import threading
    import time

    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def web_as(app_client: TestClient) -> Callable[[Api], WebUser]:
    """Sign a user (made by ``make_user``) in through the pages: ``web_as(sw).get("/my-work")``."""
    from tests.web_support import WebUser

    def factory(user: Api) -> WebUser:
        return WebUser(app_client.app, user.username)  # type: ignore[arg-type]

    return factory


class Staff:
    """A social worker and the whole escalation ladder (plus another team's manager)."""

    def __init__(self, make_user: UserFactory) -> None:
        self.sw: Api = make_user("sw.north", "social_worker", team="north")
        self.tm: Api = make_user("tm.north", "team_manager", team="north")
        self.tm_south: Api = make_user("tm.south", "team_manager", team="south")
        self.sm: Api = make_user("sm", "service_manager")
        self.sd: Api = make_user("sd", "service_director")


@pytest.fixture
def staff(make_user: UserFactory) -> Staff:
    """A social worker and the whole escalation ladder."""
    return Staff(make_user)


@pytest.fixture
def policies(settings: Settings) -> Policies:
    """The default reminder policy, from the test settings."""
    return policies_from_settings(settings)


# -- a real SMTP server on loopback ------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    """A real SMTP server on 127.0.0.1."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()
