"""The password policy (issue 10 item 3, ASVS 2.1): at least 12 characters and not on the
shipped list of common passwords, wherever a password is set."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from services.auth import common_passwords, hash_password, password_problem
from services.models import USERS as U
from services.users import UserError, create_user
from tests.cli.test_cli import PERMANENCE, _env
from tests.conftest import Api, UserFactory


def test_the_shipped_list_is_the_top_ten_thousand() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwerty123456", "1qaz2wsx3edc"} <= common


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven-char", "at least 12 characters"),
        ("", "at least 12 characters"),
        ("x" * 201, "at most 200 characters"),
        ("qwerty123456", "too common"),
        ("QWERTY123456", "too common"),  # compared case-blind
        ("1qaz2wsx3edc", "too common"),
        ("sw.someone.x", "must not be the username"),
    ],
)
def test_refused_passwords(password: str, problem: str) -> None:
    found = password_problem(password, username="sw.someone.x")
    assert found is not None and problem in found


@pytest.mark.parametrize("password", ["twelve-chars", "demo-password", "correct horse battery"])
def test_accepted_passwords(password: str) -> None:
    assert password_problem(password, username="sw.someone.x") is None


def test_create_user_applies_the_policy(engine: Engine) -> None:
    with pytest.raises(UserError, match="at least 12 characters"):
        create_user(engine, username="a", password="short-pass", roles=["social_worker"])
    with pytest.raises(UserError, match="too common"):
        create_user(engine, username="a", password="1q2w3e4r5t6y", roles=["social_worker"])


def test_the_api_refuses_a_weak_password(make_user: UserFactory) -> None:
    admin: Api = make_user("admin", "sysadmin")
    body = {"username": "new.sw", "roles": ["social_worker"], "team": "north"}
    short = admin.post("/users", {**body, "password": "elevenchars"})
    assert short.status_code == 422
    assert short.json()["error"] == "invalid_user"
    assert "at least 12 characters" in short.json()["message"]
    common = admin.post("/users", {**body, "password": "qwerty123456"})
    assert common.status_code == 422 and "too common" in common.json()["message"]
    assert admin.post("/users", {**body, "password": "a-long-enough-one"}).status_code == 201


def test_the_cli_refuses_a_common_password(database_url: str, app_client: TestClient) -> None:
    result = subprocess.run(
        [*PERMANENCE, "user", "create", "new.worker", "--role", "social_worker"],
        input="qwerty123456\n",
        capture_output=True,
        text=True,
        env=_env(database_url),
        timeout=60,
    )
    assert result.returncode == 2
    assert "too common" in result.stderr


def test_an_old_short_password_still_signs_in(
    app_client: TestClient, sw: Api, engine: Engine
) -> None:
    """The policy applies when a password is set, not to passwords set before it."""
    with engine.begin() as conn:
        conn.execute(
            update(U).where(U.c.id == sw.user_id).values(password_hash=hash_password("old"))
        )
    answer = app_client.post(
        "/api/v1/auth/token", data={"username": sw.username, "password": "old"}
    )
    assert answer.status_code == 200
