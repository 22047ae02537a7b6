"""GET /api/v1/children/{id}/record: the child's care record, every code with its label."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import AUDIT_LOG, CHILDREN
from tests.conftest import UserFactory
from tests.record_support import timeline_return
from tests.services.care_record.support import AS_OF


def _child_id(engine: Engine, reference: str) -> int:
    with read_connection(engine) as conn:
        return int(
            conn.execute(
                select(CHILDREN.c.id).where(CHILDREN.c.reference == reference)
            ).scalar_one()
        )


def test_the_record_of_an_imported_child(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    report = import_return(engine, timeline_return(tmp_path).write(), as_of=AS_OF)
    assert report.children_created == 2, report.as_text()
    child = _child_id(engine, "REC-A1")

    response = sw.get(f"/children/{child}/record")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["child_id"] == child and body["return_child_id"] == "A1"
    assert body["current_legal_status"] == {"code": "C2", "label": "Full care order"}
    assert body["withdrawn_episodes"] == 0
    episodes = body["episodes"]
    assert [(e["start"], e["end"]) for e in episodes] == [
        ("2024-04-10", "2024-09-01"),
        ("2024-09-01", "2025-02-01"),
        ("2025-02-01", None),
    ]
    first, second, third = episodes
    assert first["legal_status"] == {"code": "C1", "label": "Interim care order"}
    assert first["reason_new"]["code"] == "S" and first["started_care"] is True
    assert first["reason_ceased"]["code"] == "X1"
    assert second["legal_status_changed"] is True and second["moved"] is False
    assert third["moved"] is True and third["placement"]["code"] == "U1"
    assert third["reason_ceased"] is None
    for e in episodes:
        for key in ("legal_status", "placement", "reason_new"):
            assert set(e[key]) == {"code", "label"} and e[key]["label"] != e[key]["code"]
    assert body["reviews"] == [
        {
            "held_on": "2024-10-01",
            "participation": {"code": "PN1", "label": "Child attended and spoke for themselves"},
        }
    ]
    assert body["adoption_decisions"]["should_be_placed"] == [
        {"decided_on": "2025-03-01", "ceased_on": None, "reason_ceased": None}
    ]
    assert body["adoption_decisions"]["matching"] == [
        {"decided_on": "2025-04-01", "matched_on": "2025-05-01"}
    ]
    with read_connection(engine) as conn:
        reads = conn.execute(
            select(AUDIT_LOG).where(AUDIT_LOG.c.action == "read.care_record")
        ).all()
    assert len(reads) == 1 and reads[0].details["child_ids"] == [child]
    assert reads[0].actor_id == sw.user_id


def test_withdrawn_episodes_are_left_out(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    import_return(engine, timeline_return(tmp_path / "y1").write(), as_of=AS_OF)
    later = import_return(
        engine, timeline_return(tmp_path / "y2", third=False).write(), as_of=AS_OF
    )
    assert later.facts["episodes"].withdrawn == 1, later.as_text()

    body = sw.get(f"/children/{_child_id(engine, 'REC-A1')}/record").json()

    assert [e["start"] for e in body["episodes"]] == ["2024-04-10", "2024-09-01"]
    assert body["episodes"][-1]["end"] is None
    assert body["withdrawn_episodes"] == 1


def test_team_and_role_rules_as_for_the_child(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    make_user("sw.north", "social_worker", team="north")
    import_return(engine, timeline_return(tmp_path).write(), as_of=AS_OF)
    child = _child_id(engine, "REC-A1")
    unallocated = _child_id(engine, "B1")
    south = make_user("sw.south", "social_worker", team="south")
    admin = make_user("sysadmin", "sysadmin")
    manager = make_user("sm", "service_manager")
    tm = make_user("tm.north", "team_manager", team="north")

    assert south.get(f"/children/{child}/record").status_code == 403
    assert admin.get(f"/children/{child}/record").status_code == 403
    assert manager.get(f"/children/{child}/record").status_code == 200
    # The unallocated child: the authority's managers see it, no team does.
    assert manager.get(f"/children/{unallocated}/record").json()["return_child_id"] == "B1"
    assert tm.get(f"/children/{unallocated}/record").status_code == 403
    assert manager.get("/children/999999/record").status_code == 404
    with read_connection(engine) as conn:
        reads = (
            conn.execute(
                select(AUDIT_LOG.c.actor_id).where(AUDIT_LOG.c.action == "read.care_record")
            )
            .scalars()
            .all()
        )
    assert sorted(reads) == [manager.user_id, manager.user_id]  # refusals write none


def test_a_child_typed_in_by_hand_has_an_empty_record(make_user: UserFactory) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    child = sw.create_child("HAND-1")

    body = sw.get(f"/children/{child['id']}/record").json()

    assert body["return_child_id"] is None and body["episodes"] == []
    assert body["reviews"] == [] and body["current_legal_status"] is None
