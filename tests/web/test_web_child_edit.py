"""Changing a child's details and allocation on a page (issue 11 item 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from services.models import AUDIT_LOG as A
from services.models import DEADLINES as D
from tests.conftest import Api, UserFactory
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]


def _form(**changes: str) -> dict[str, str]:
    """The edit form as the page fills it for a child made by ``Api.create_child``."""
    return {
        "expected_version": "1",
        "given_name": "Testgiven",
        "family_name": "Testfamily",
        "looked_after_since-day": "18",
        "looked_after_since-month": "12",
        "looked_after_since-year": "2025",
        "legal_status": "interim_care_order",
        **changes,
    }


def _child(api: Api, child: dict[str, Any]) -> dict[str, Any]:
    return dict(api.get(f"/children/{child['id']}").json())


def test_a_social_worker_changes_details_and_only_what_changed_is_saved(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    child = sw.create_child("ED-1")
    web = web_as(sw)
    page = web.get(f"/children/{child['id']}/edit")
    assert page.status_code == 200
    assert 'value="Testgiven"' in page.text
    assert 'name="worker"' not in page.text  # allocation is a manager's decision
    assert f'href="/children/{child["id"]}/edit"' in web.get(f"/children/{child['id']}").text
    saved = web.post(
        f"/children/{child['id']}/edit", _form(given_name="Jo", legal_status="care_order")
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/children/{child['id']}?done=child-changed"
    assert "Child&#39;s details changed" in web.get(saved.headers["location"]).text
    now = _child(sw, child)
    assert (now["given_name"], now["legal_status"], now["version"]) == ("Jo", "care_order", 2)
    with engine.connect() as conn:
        row = conn.execute(
            select(A.c.actor_id, A.c.details).where(
                A.c.action == "child_updated", A.c.entity_id == child["id"]
            )
        ).one()
    assert row.actor_id == sw.user_id
    assert sorted(row.details["fields"]) == ["given_name", "legal_status"]


def test_saving_the_same_details_writes_nothing(sw: Api, web_as: WebAs) -> None:
    child = sw.create_child("ED-2")
    web = web_as(sw)
    done = web.post(f"/children/{child['id']}/edit", _form())
    assert done.headers["location"].endswith("?done=no-change")
    assert "Nothing was changed" in web.get(done.headers["location"]).text
    assert _child(sw, child)["version"] == 1


def test_a_stale_page_is_refused_and_shows_the_other_change(sw: Api, web_as: WebAs) -> None:
    child = sw.create_child("ED-3")
    web = web_as(sw)
    web.get(f"/children/{child['id']}/edit")
    other = sw.patch(f"/children/{child['id']}", {"expected_version": 1, "family_name": "Other"})
    assert other.status_code == 200
    stale = web.post(f"/children/{child['id']}/edit", _form(given_name="Mine"))
    assert stale.status_code == 409
    assert "Someone else changed this child" in stale.text
    assert 'name="expected_version" value="2"' in stale.text
    now = _child(sw, child)
    assert (now["given_name"], now["family_name"]) == ("Testgiven", "Other")


def test_errors_are_shown_by_the_field_and_nothing_is_written(sw: Api, web_as: WebAs) -> None:
    child = sw.create_child("ED-4", date_of_birth="2018-03-04")
    web = web_as(sw)
    blank = web.post(f"/children/{child['id']}/edit", _form(given_name="  "))
    assert blank.status_code == 422
    assert "Enter the child&#39;s first name" in blank.text
    early = web.post(
        f"/children/{child['id']}/edit",
        _form(**{"looked_after_since-year": "2017"}),
    )
    assert early.status_code == 422
    assert "must be the same as or after the date of birth" in early.text
    assert _child(sw, child)["version"] == 1


def test_a_team_manager_reallocates_within_the_team_and_deadlines_follow(
    sw: Api, tm: Api, make_user: UserFactory, web_as: WebAs, engine: Engine
) -> None:
    other = make_user("sw.north2", "social_worker", team="north")
    made = sw.create_child("ED-5")
    sw.start(made["id"], "permanence_planning", started_on="2025-12-18")
    web = web_as(tm)
    page = web.get(f"/children/{made['id']}/edit")
    assert f'<option value="{other.user_id}"' in page.text
    done = web.post(f"/children/{made['id']}/edit", _form(worker=str(other.user_id)))
    assert done.status_code == 303, done.text
    now = _child(tm, made)
    assert (now["allocated_social_worker_id"], now["team"]) == (other.user_id, "north")
    with engine.connect() as conn:
        owners = set(
            conn.execute(
                select(D.c.owner_id).where(
                    D.c.child_id == made["id"],
                    D.c.status == "open",
                    D.c.owner_role == "social_worker",
                )
            ).scalars()
        )
    assert owners == {other.user_id}


def test_a_service_manager_moves_a_child_to_another_team(
    sw: Api, make_user: UserFactory, web_as: WebAs
) -> None:
    south = make_user("sw.south", "social_worker", team="south")
    manager = make_user("sm", "service_manager")
    child = sw.create_child("ED-6")
    web = web_as(manager)
    page = web.get(f"/children/{child['id']}/edit")
    assert f'<option value="south:{south.user_id}"' in page.text
    done = web.post(f"/children/{child['id']}/edit", _form(worker=f"south:{south.user_id}"))
    assert done.status_code == 303, done.text
    now = _child(manager, child)
    assert (now["team"], now["allocated_social_worker_id"]) == ("south", south.user_id)
    assert sw.get(f"/children/{child['id']}").status_code == 403  # north no longer sees it


def test_who_may_not_edit_or_reallocate_is_refused(
    sw: Api, tm: Api, make_user: UserFactory, web_as: WebAs
) -> None:
    child = sw.create_child("ED-7")
    viewer = make_user("viewer.north", "read_only", team="north")
    south_tm = make_user("tm.south", "team_manager", team="south")
    assert web_as(viewer).get(f"/children/{child['id']}/edit").status_code == 403
    assert "/edit" not in web_as(viewer).get(f"/children/{child['id']}").text
    assert web_as(south_tm).get(f"/children/{child['id']}/edit").status_code == 403
    # The API keeps the same rules: a social worker may not reallocate, a team manager may
    # not move a child to another team.
    refused = sw.patch(
        f"/children/{child['id']}", {"expected_version": 1, "allocated_social_worker_id": None}
    )
    assert refused.status_code == 403
    moved = tm.patch(f"/children/{child['id']}", {"expected_version": 1, "team": "south"})
    assert moved.status_code == 403
    assert _child(sw, child)["version"] == 1
