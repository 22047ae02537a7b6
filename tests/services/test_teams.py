"""Teams as a managed list: a team nobody added is refused where a record would take it, with
the command that adds it; the system administrator adds and renames teams."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine, func, select, text

from services.models import AUDIT_LOG, CHILDREN
from services.teams import TeamError, UnknownTeam, add_team, list_teams, rename_team
from services.users import create_user
from tests.conftest import PASSWORD, UserFactory
from tests.services.conftest import migrate_to


def test_a_user_of_an_unknown_team_is_refused_with_the_command_that_adds_it(
    engine: Engine,
) -> None:
    with pytest.raises(UnknownTeam) as refused:
        create_user(
            engine, username="sw.x", password=PASSWORD, roles=["social_worker"], team="nrth"
        )
    assert "permanence team add 'nrth'" in refused.value.message
    assert refused.value.status_code == 422


def test_a_child_of_an_unknown_team_is_refused_and_nothing_is_written(
    make_user: UserFactory, engine: Engine
) -> None:
    manager = make_user("sm", "service_manager")
    response = manager.post(
        "/children",
        {
            "reference": "T-1",
            "given_name": "Ann",
            "family_name": "Example",
            "date_of_birth": "2019-01-01",
            "team": "nortth",
        },
    )
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_team"
    assert "permanence team add 'nortth'" in response.json()["message"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CHILDREN)).scalar_one() == 0


def test_adding_and_renaming_teams(engine: Engine) -> None:
    team = add_team(engine, "west", "West  Locality", actor_id=None)
    assert (team.name, team.title) == ("west", "West Locality")
    with pytest.raises(TeamError, match="already exists"):
        add_team(engine, "west", actor_id=None)
    with pytest.raises(TeamError, match="name is 1 to 100"):
        add_team(engine, "-west", actor_id=None)
    assert rename_team(engine, "west", "West", actor_id=None).title == "West"
    with pytest.raises(UnknownTeam):
        rename_team(engine, "wset", "West", actor_id=None)
    assert [(t.name, t.title) for t in list_teams(engine) if t.name == "west"] == [("west", "West")]
    with engine.connect() as conn:
        renamed = conn.execute(
            select(AUDIT_LOG.c.details).where(AUDIT_LOG.c.action == "team_renamed")
        ).scalar_one()
    assert renamed == {"name": "west", "from": "West Locality", "to": "West"}


def test_the_api_lists_teams_and_only_a_sysadmin_changes_them(make_user: UserFactory) -> None:
    sw = make_user("sw", "social_worker", team="north")
    admin = make_user("admin", "sysadmin")
    assert {"name": "north", "title": "North"} in sw.get("/teams").json()
    assert sw.post("/teams", {"name": "west"}).status_code == 403
    created = admin.post("/teams", {"name": "west", "title": "West"})
    assert created.status_code == 201, created.text
    assert admin.post("/teams", {"name": "west"}).status_code == 422
    renamed = admin.patch("/teams/west", {"title": "West Locality"})
    assert renamed.json() == {"name": "west", "title": "West Locality"}
    assert admin.patch("/teams/nowhere", {"title": "X"}).status_code == 422


def _cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": database_url, "PERMANENCE_LOG_FORMAT": "json"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_team_commands(database_url: str, engine: Engine) -> None:
    added = _cli(database_url, "team", "add", "west", "--title", "West")
    assert added.returncode == 0, added.stderr
    assert "added team west (West)" in added.stdout
    listed = _cli(database_url, "team", "list")
    assert "west" in listed.stdout and "West" in listed.stdout
    ok = _cli(
        database_url,
        "user",
        "create",
        "sw.w",
        "--role",
        "social_worker",
        "--team",
        "west",
        stdin="a-long-password\n",
    )
    assert ok.returncode == 0, ok.stderr
    typo = _cli(
        database_url,
        "user",
        "create",
        "sw.t",
        "--role",
        "social_worker",
        "--team",
        "wset",
        stdin="a-long-password\n",
    )
    assert typo.returncode == 2
    assert "There is no team 'wset'" in typo.stderr
    assert "permanence team add 'wset'" in typo.stderr


def test_migration_0006_lists_the_teams_already_in_use(scratch: Engine) -> None:
    stamp = "'2026-11-23 10:00:00'"
    migrate_to(scratch, "0005")
    with scratch.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_user (username, display_name, password_hash, roles, team, active,"
                f" created_at) VALUES ('a', '', 'x', '[]', 'north', true, {stamp}),"
                f" ('b', '', 'x', '[]', NULL, true, {stamp})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO child (reference, given_name, family_name, date_of_birth, team,"
                f" version, created_at, updated_at) VALUES ('R-1', 'A', 'B', '2020-01-01',"
                f" 'south', 1, {stamp}, {stamp}), ('R-2', 'C', 'D', '2020-01-01', 'north', 1,"
                f" {stamp}, {stamp})"
            )
        )
    migrate_to(scratch, "0006")
    assert [(t.name, t.title) for t in list_teams(scratch)] == [
        ("north", "north"),
        ("south", "south"),
    ]
