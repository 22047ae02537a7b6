"""Allocating imported children: the unallocated list (by reference) for service managers
and team managers, allocation into a team (a team manager: their own only), one
version-checked, audited transaction; and the system administrator's teams page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import AUDIT_LOG, CHILDREN, TEAMS
from tests.conftest import Api, UserFactory
from tests.record_support import timeline_return
from tests.services.care_record.support import AS_OF, episode, header
from tests.web_support import WebUser


def _import(engine: Engine, tmp_path: Path) -> int:
    """The timeline return: A1 allocated to north, B1 unallocated; B1's id."""
    import_return(engine, timeline_return(tmp_path).write(), as_of=AS_OF)
    with read_connection(engine) as conn:
        return int(
            conn.execute(select(CHILDREN.c.id).where(CHILDREN.c.reference == "B1")).scalar_one()
        )


def _child(engine: Engine, child_id: int) -> dict[str, object]:
    with read_connection(engine) as conn:
        row = conn.execute(select(CHILDREN).where(CHILDREN.c.id == child_id)).one()
    return dict(row._mapping)


def test_a_team_manager_allocates_into_their_own_team(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    make_user("sw.south", "social_worker", team="south")
    tm = web_as(make_user("tm.north", "team_manager", team="north"))
    child = _import(engine, tmp_path)

    listing = tm.get("/children/unallocated")

    assert listing.status_code == 200, listing.text
    assert re.search(r"<td[^>]*>B1</td>", listing.text)
    assert "REC-A1" not in listing.text  # allocated already
    form = tm.get(f"/children/{child}/allocate")
    assert form.status_code == 200
    assert f'value="north:{sw.user_id}"' in form.text and "south:" not in form.text
    version = _child(engine, child)["version"]

    done = tm.post(
        f"/children/{child}/allocate",
        {"worker": f"north:{sw.user_id}", "expected_version": str(version)},
    )

    assert done.status_code == 303, done.text
    after = _child(engine, child)
    assert after["team"] == "north" and after["allocated_social_worker_id"] == sw.user_id
    assert after["version"] == int(str(version)) + 1
    with read_connection(engine) as conn:
        audits = conn.execute(
            select(AUDIT_LOG).where(AUDIT_LOG.c.action == "child_allocated")
        ).all()
    assert len(audits) == 1 and audits[0].entity_id == child
    assert audits[0].details["changes"]["team"] == {"before": "", "after": "north"}
    # Now the team sees the child, and it is no longer listed.
    assert web_as(sw).get(f"/children/{child}").status_code == 200
    assert not re.search(r"<td[^>]*>B1</td>", tm.get("/children/unallocated").text)
    # Allocated once: the form is refused now.
    assert tm.get(f"/children/{child}/allocate").status_code == 409


def test_a_team_manager_cannot_allocate_into_another_team(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    make_user("sw.north", "social_worker", team="north")
    south = make_user("sw.south", "social_worker", team="south")
    tm = web_as(make_user("tm.north", "team_manager", team="north"))
    child = _import(engine, tmp_path)

    refused = tm.post(
        f"/children/{child}/allocate", {"worker": f"south:{south.user_id}", "expected_version": "1"}
    )

    assert refused.status_code == 422
    assert "Select the social worker" in refused.text
    assert _child(engine, child)["team"] == ""


def test_a_service_manager_allocates_into_any_team_and_a_stale_page_is_refused(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    make_user("sw.north", "social_worker", team="north")
    south = make_user("sw.south", "social_worker", team="south")
    sm = web_as(make_user("sm", "service_manager"))
    child = _import(engine, tmp_path)
    version = int(str(_child(engine, child)["version"]))

    stale = sm.post(
        f"/children/{child}/allocate",
        {"worker": f"south:{south.user_id}", "expected_version": str(version - 1)},
    )
    assert stale.status_code == 409 and "Someone else changed" in stale.text
    assert _child(engine, child)["team"] == ""

    done = sm.post(
        f"/children/{child}/allocate",
        {"worker": f"south:{south.user_id}", "expected_version": str(version)},
    )
    assert done.status_code == 303
    assert _child(engine, child)["team"] == "south"


def test_who_sees_the_unallocated_list(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    make_user("sw.north", "social_worker", team="north")
    child = _import(engine, tmp_path)
    for user in (
        make_user("sw.other", "social_worker", team="north"),
        make_user("chair", "panel_chair"),
        make_user("sysadmin", "sysadmin"),
    ):
        web = web_as(user)
        assert web.get("/children/unallocated").status_code == 403
        assert web.get(f"/children/{child}/allocate").status_code == 403


def test_the_teams_page_adds_and_renames(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine
) -> None:
    admin = web_as(make_user("sysadmin", "sysadmin"))

    page = admin.get("/admin/teams")
    assert page.status_code == 200 and "North" in page.text
    added = admin.post("/admin/teams", {"name": "west", "title": "West and Wirral"})
    assert added.status_code == 303
    taken = admin.post("/admin/teams", {"name": "west"})
    assert taken.status_code == 422 and "already exists" in taken.text
    bad = admin.post("/admin/teams", {"name": "no/slash"})
    assert bad.status_code == 422 and "letters, digits" in bad.text
    renamed = admin.post("/admin/teams/rename", {"name": "west", "title": "West"})
    assert renamed.status_code == 303
    with read_connection(engine) as conn:
        title = conn.execute(select(TEAMS.c.title).where(TEAMS.c.name == "west")).scalar_one()
        actions = set(conn.execute(select(AUDIT_LOG.c.action)).scalars())
    assert title == "West" and {"team_added", "team_renamed"} <= actions
    unknown = admin.post("/admin/teams/rename", {"name": "nowhere", "title": "X"})
    assert unknown.status_code == 422
    assert web_as(make_user("sm", "service_manager")).get("/admin/teams").status_code == 403


def test_the_unallocated_list_is_paged(
    make_user: UserFactory,
    web_as: Callable[[Api], WebUser],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import services.allocation

    sm = web_as(make_user("sm", "service_manager"))
    two = timeline_return(tmp_path).headers(header("B2", SEX="F"))
    import_return(engine, two.episodes(episode("B2", "01/06/2024", LS="V2")).write(), as_of=AS_OF)
    monkeypatch.setattr(services.allocation, "MAX_LISTED", 1)
    monkeypatch.setattr("app.web.routes.allocation.MAX_LISTED", 1)
    first = sm.get("/children/unallocated").text
    assert "2 children waiting" in first and 'href="/children/unallocated?page=2"' in first
    second = sm.get("/children/unallocated?page=2").text
    assert re.search(r"<td[^>]*>B2</td>", second) and not re.search(r"<td[^>]*>B1</td>", second)
    assert 'rel="next"' not in second


def test_an_unallocated_child_is_headed_by_reference_on_its_page(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    # The return carries no names: the page is headed "Child B1", not by an empty heading.
    sm = web_as(make_user("sm", "service_manager"))
    child = _import(engine, tmp_path)

    page = sm.get(f"/children/{child}")

    assert page.status_code == 200, page.text
    assert re.search(r'<h1 class="govuk-heading-l">Child B1</h1>', page.text)
    assert "Not recorded: the care record holds no names" in page.text
