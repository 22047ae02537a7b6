"""The cohorts' API contract (issue 13 item 7): the list of cohorts with their rules, one
cohort's children as of a date with the team rules for children, and the panel's carer
approval."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, update

from services import cohorts
from services.care_record.importer import import_return
from services.clock import today
from services.cohort_snapshot import MEMBERS
from services.db import write_connection
from tests.conftest import Api, UserFactory
from tests.services.test_cohorts import AS_OF, EARLIER, the_return


def load(engine: Engine, tmp_path: Path) -> None:
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0


def test_the_list_names_every_cohort_with_its_title_and_rule(sw: Api) -> None:
    response = sw.get("/cohorts")
    assert response.status_code == 200
    body = response.json()
    assert [c["name"] for c in body] == [c.name for c in cohorts.COHORTS]
    assert set(body[0]) == {"name", "title", "rule"}
    section_20 = next(c for c in body if c["name"] == "section_20")
    assert "V2" in section_20["rule"] and "V3" in section_20["rule"]


def test_a_cohorts_children_as_of_a_date(
    engine: Engine, tmp_path: Path, make_user: UserFactory
) -> None:
    load(engine, tmp_path)
    chair = make_user("chair", "panel_chair")
    response = chair.get("/cohorts/section_20", params={"as_of": EARLIER.isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "section_20" and body["as_of"] == EARLIER.isoformat()
    assert [c["reference"] for c in body["children"]] == ["S20LEFT", "S20"]
    first = body["children"][0]
    assert set(first) == {"child_id", "reference", "since", "why"}
    assert first["since"] == "2025-11-01"
    assert first["why"] == "Accommodated under section 20 since 1 November 2025: 7 months."


def test_todays_children_are_read_from_the_stored_snapshot(
    engine: Engine, tmp_path: Path, make_user: UserFactory
) -> None:
    load(engine, tmp_path)  # the import stores today's snapshot of every cohort
    with write_connection(engine) as conn:
        conn.execute(update(MEMBERS).where(MEMBERS.c.cohort == "section_20").values(why="Stored."))
    north = make_user("sw.n", "social_worker", team="north")
    south = make_user("sw.s", "social_worker", team="south")
    body = north.get("/cohorts/section_20").json()
    assert body["as_of"] == today().isoformat()
    assert [(c["reference"], c["why"]) for c in body["children"]] == [("S20", "Stored.")]
    assert south.get("/cohorts/section_20").json()["children"] == []  # the team rule holds
    # Another day is computed, not read from it.
    earlier = north.get("/cohorts/section_20", params={"as_of": EARLIER.isoformat()}).json()
    assert earlier["children"] and "Stored." not in {c["why"] for c in earlier["children"]}


def test_a_social_worker_sees_only_their_teams_children(
    engine: Engine, tmp_path: Path, make_user: UserFactory
) -> None:
    load(engine, tmp_path)  # every child of the return is in team north
    north = make_user("sw.n", "social_worker", team="north")
    south = make_user("sw.s", "social_worker", team="south")
    query = {"as_of": AS_OF.isoformat()}
    assert [
        c["reference"] for c in north.get("/cohorts/section_20", params=query).json()["children"]
    ] == ["S20"]
    assert south.get("/cohorts/section_20", params=query).json()["children"] == []
    sysadmin = make_user("sys", "sysadmin")
    assert sysadmin.get("/cohorts/section_20").status_code == 403


def test_an_unknown_cohort_or_date_is_refused(make_user: UserFactory) -> None:
    chair = make_user("chair", "panel_chair")
    assert chair.get("/cohorts/no_such_cohort").status_code == 404
    assert chair.get("/cohorts/section_20", params={"as_of": "1999-12-31"}).status_code == 422
    assert chair.get("/cohorts/section_20", params={"as_of": "soon"}).status_code == 422


def test_the_panel_records_a_carer_approval(
    engine: Engine, tmp_path: Path, make_user: UserFactory
) -> None:
    load(engine, tmp_path)
    admin = make_user("panel.admin", "panel_admin")
    query = {"as_of": AS_OF.isoformat()}
    before = admin.get("/cohorts/connected_person_16_weeks", params=query).json()["children"]
    child = next(c for c in before if c["reference"] == "CONN17")
    path = f"/children/{child['child_id']}/carer-approvals"
    body = {"approved_on": AS_OF.isoformat()}
    sw = make_user("sw.n", "social_worker", team="north")
    assert sw.post(path, body).status_code == 403
    created = admin.post(path, body)
    assert created.status_code == 201, created.text
    assert created.json()["approved_on"] == AS_OF.isoformat()
    assert admin.post(path, body).status_code == 409
    assert admin.post("/children/999999/carer-approvals", body).status_code == 404
    assert admin.post(path, {"approved_on": "2101-01-01"}).status_code == 422
    after = admin.get("/cohorts/connected_person_16_weeks", params=query).json()["children"]
    assert "CONN17" not in {c["reference"] for c in after}
