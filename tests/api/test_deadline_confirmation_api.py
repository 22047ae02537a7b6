"""The API records what happened to an imported journey's deadline from before the service,
as the child page's form does: met with its day, or missed; refusals with their codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import AUDIT_LOG
from tests.conftest import Staff
from tests.services.care_record.support import AS_OF
from tests.services.care_record.test_before_service import before_service_return, deadlines


def _imported(engine: Engine, tmp_path: Path) -> dict[str, Any]:
    import_return(engine, before_service_return(tmp_path).write(), as_of=AS_OF)
    return deadlines(engine, "REF-OLD")


def test_reading_and_recording_met_then_missed(
    engine: Engine, staff: Staff, tmp_path: Path
) -> None:
    old = _imported(engine, tmp_path)
    second, plan = old["second_review"], old["permanence_plan"]
    url = f"/deadlines/{second.id}/confirmation"

    waiting = staff.sw.get(url)
    assert waiting.status_code == 200, waiting.text
    assert (waiting.json()["kind"], waiting.json()["due_on"]) == ("second_review", "2025-06-20")

    for body, field in (
        ({"outcome": "met"}, "met_on"),
        ({"outcome": "missed", "met_on": "2025-07-01"}, "met_on"),
        ({"outcome": "perhaps"}, "outcome"),
    ):
        refused = staff.sw.post(url, json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    future = staff.sw.post(url, json={"outcome": "met", "met_on": "2099-01-01"})
    assert future.status_code == 422, future.text
    assert deadlines(engine, "REF-OLD")["second_review"].status == "open"

    other_team = staff.tm_south.post(url, json={"outcome": "met", "met_on": "2025-07-01"})
    assert other_team.status_code == 403, other_team.text

    met = staff.sw.post(url, json={"outcome": "met", "met_on": "2025-07-01"})
    assert met.status_code == 200, met.text
    assert met.json() == {
        "id": second.id,
        "child_id": second.child_id,
        "kind": "second_review",
        "due_on": "2025-06-20",
        "outcome": "met",
        "met_on": "2025-07-01",
        "status": "met",
    }
    row = deadlines(engine, "REF-OLD")["second_review"]
    assert (row.status, row.met_on.isoformat(), row.before_service) == ("met", "2025-07-01", False)
    again = staff.sw.post(url, json={"outcome": "missed"})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "already_confirmed"
    assert staff.sw.get(url).status_code == 404

    missed = staff.tm.post(
        f"/deadlines/{plan.id}/confirmation",
        json={"outcome": "missed"},
    )
    assert missed.status_code == 200, missed.text
    assert (missed.json()["status"], missed.json()["met_on"]) == ("open", None)
    row = deadlines(engine, "REF-OLD")["permanence_plan"]
    assert (row.status, row.before_service) == ("open", False)

    with read_connection(engine) as conn:
        recorded = conn.execute(
            select(AUDIT_LOG.c.entity_id).where(AUDIT_LOG.c.action == "deadline_confirmed")
        ).all()
    assert sorted(r.entity_id for r in recorded) == sorted([second.id, plan.id])
