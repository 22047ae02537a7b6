"""Teams: the managed list every user's and child's team must come from.

A team the list does not hold is refused wherever a record would take it (a user, a child),
with a message that names the command that adds it, so a mistyped team is caught when it is
typed instead of hiding a child from everyone who should see them. The system administrator
adds and renames teams; a team's ``name`` (what records hold) never changes, its ``title``
(what people read) may.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from services import audit
from services.clock import now_utc
from services.db import read_connection, write_connection
from services.models import TEAMS as T
from workflow.errors import EngineError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,99}")
TITLE_MAX = 200


class UnknownTeam(EngineError):
    status_code = 422
    code = "unknown_team"


class TeamError(EngineError):
    status_code = 422
    code = "invalid_team"


@dataclass(frozen=True)
class Team:
    """A team as the list holds it."""

    name: str
    title: str


def unknown_team(name: str) -> UnknownTeam:
    """The refusal for a team that is not on the list (it names the command that adds it)."""
    return UnknownTeam(
        f"There is no team {name!r}. A system administrator adds it with: "
        f"permanence team add {name!r}",
        errors=[f"team {name!r} is not a team of the authority"],
    )


def require_team(conn: Connection, name: str) -> None:
    """Refuse ``name`` unless it is on the list (inside the caller's transaction)."""
    if conn.execute(select(T.c.id).where(T.c.name == name)).first() is None:
        raise unknown_team(name)


def list_teams(engine: Engine) -> list[Team]:
    """Every team, by name."""
    with read_connection(engine) as conn:
        rows = conn.execute(select(T.c.name, T.c.title).order_by(T.c.name)).all()
    return [Team(r.name, r.title) for r in rows]


def team_titles(engine: Engine) -> dict[str, str]:
    """Team name to the title people read."""
    return {t.name: t.title for t in list_teams(engine)}


def _clean_title(title: str | None, name: str) -> str:
    cleaned = " ".join((title or "").split()) or name
    if len(cleaned) > TITLE_MAX:
        raise TeamError(f"A team's title has at most {TITLE_MAX} characters.")
    return cleaned


def add_team(engine: Engine, name: str, title: str | None = None, *, actor_id: int | None) -> Team:
    """Add a team (its title defaults to its name); refused if the name is taken."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise TeamError(
            "A team's name is 1 to 100 letters, digits, spaces, hyphens or underscores, "
            "starting with a letter or digit.",
            errors=[f"team name {name!r} is not valid"],
        )
    team = Team(name, _clean_title(title, name))
    with write_connection(engine) as conn:
        if conn.execute(select(T.c.id).where(T.c.name == name)).first() is not None:
            raise TeamError(f"Team {name!r} already exists.")
        conn.execute(insert(T).values(name=team.name, title=team.title, created_at=now_utc()))
        audit.record(
            conn,
            actor_id=actor_id,
            action="team_added",
            entity="team",
            details={"name": team.name, "title": team.title},
        )
    return team


def rename_team(engine: Engine, name: str, title: str, *, actor_id: int | None) -> Team:
    """Give a team a new title (records keep its name)."""
    team = Team(name, _clean_title(title, name))
    with write_connection(engine) as conn:
        before = conn.execute(select(T.c.title).where(T.c.name == name)).scalar_one_or_none()
        if before is None:
            raise unknown_team(name)
        conn.execute(update(T).where(T.c.name == name).values(title=team.title))
        audit.record(
            conn,
            actor_id=actor_id,
            action="team_renamed",
            entity="team",
            details={"name": name, "from": before, "to": team.title},
        )
    return team
