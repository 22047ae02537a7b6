"""The allocation API (``POST /api/v1/children/{id}/allocation``): what the allocate page does,
through services.allocation: service managers into any team, team managers into their own,
version-checked, audited; refused for a social worker, a worker of another team, twice."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import AUDIT_LOG, CHILDREN
from tests.conftest import UserFactory
from tests.record_support import timeline_return
from tests.services.care_record.support import AS_OF


def _unallocated(engine: Engine, tmp_path: Path) -> int:
    import_return(engine, timeline_return(tmp_path).write(), as_of=AS_OF)
    with read_connection(engine) as conn:
        return int(
            conn.execute(select(CHILDREN.c.id).where(CHILDREN.c.reference == "B1")).scalar_one()
        )


def test_allocation_by_api(engine: Engine, tmp_path: Path, make_user: UserFactory) -> None:
    north = make_user("sw.north", "social_worker", team="north")
    south = make_user("sw.south", "social_worker", team="south")
    tm = make_user("tm.north", "team_manager", team="north")
    sm = make_user("sm", "service_manager")
    child = _unallocated(engine, tmp_path)
    path = f"/children/{child}/allocation"
    body = {"team": "south", "social_worker_id": south.user_id, "expected_version": 1}
    with read_connection(engine) as conn:
        version = conn.execute(
            select(CHILDREN.c.version).where(CHILDREN.c.id == child)
        ).scalar_one()
    body["expected_version"] = version

    assert north.post(path, body).status_code == 403  # a social worker does not allocate
    assert tm.post(path, body).status_code == 403  # a team manager: their own team only
    wrong = {**body, "team": "north"}  # the south worker is not in north
    assert sm.post(path, wrong).status_code == 422
    stale = {**body, "expected_version": version + 5}
    assert sm.post(path, stale).status_code == 409

    done = sm.post(path, body)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "child_id": child,
        "team": "south",
        "social_worker_id": south.user_id,
        "version": version + 1,
    }
    assert sm.post(path, {**body, "expected_version": version + 1}).status_code == 409
    with read_connection(engine) as conn:
        row = conn.execute(select(CHILDREN).where(CHILDREN.c.id == child)).one()
        audited = conn.execute(
            select(AUDIT_LOG.c.actor_id).where(AUDIT_LOG.c.action == "child_allocated")
        ).all()
    assert (row.team, row.allocated_social_worker_id) == ("south", south.user_id)
    assert [a.actor_id for a in audited] == [sm.user_id]
