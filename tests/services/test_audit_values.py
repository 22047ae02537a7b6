"""A change's audit row stores the values before and after, not only the field names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from services.audit import verify
from services.models import AUDIT_LOG as A
from tests.conftest import Api, UserFactory


def _rows(engine: Engine, action: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(A).where(A.c.action == action).order_by(A.c.id)).mappings()
        return [dict(r) for r in rows]


def test_a_child_edit_stores_before_and_after(engine: Engine, sw: Api) -> None:
    child = sw.create_child(given_name="Ada", family_name="Byron")
    response = sw.patch(
        f"/children/{child['id']}",
        {
            "expected_version": child["version"],
            "family_name": "Lovelace",
            "legal_status": "care_order",
            "given_name": "Ada",  # sent unchanged: not a change
        },
    )
    assert response.status_code == 200, response.text
    (row,) = _rows(engine, "child_updated")
    assert row["entity_id"] == child["id"]
    assert row["details"]["changes"] == {
        "family_name": {"before": "Byron", "after": "Lovelace"},
        "legal_status": {"before": "interim_care_order", "after": "care_order"},
    }
    assert row["details"]["version"] == {"before": child["version"], "after": child["version"] + 1}
    assert verify(engine).ok


def test_a_reallocation_stores_the_social_worker_before_and_after(
    engine: Engine, sw: Api, tm: Api, make_user: UserFactory
) -> None:
    other = make_user("sw2.north", "social_worker", team="north")
    child = sw.create_child()
    response = tm.patch(
        f"/children/{child['id']}",
        {"expected_version": child["version"], "allocated_social_worker_id": other.user_id},
    )
    assert response.status_code == 200, response.text
    (row,) = _rows(engine, "child_updated")
    assert row["actor_id"] == tm.user_id
    assert row["details"]["changes"] == {
        "allocated_social_worker_id": {"before": sw.user_id, "after": other.user_id}
    }
    assert row["details"]["deadlines_reallocated"] == 0


def test_a_date_change_is_stored_as_iso_dates(engine: Engine, sw: Api) -> None:
    child = sw.create_child()
    response = sw.patch(
        f"/children/{child['id']}",
        {"expected_version": child["version"], "looked_after_since": "2025-12-01"},
    )
    assert response.status_code == 200, response.text
    (row,) = _rows(engine, "child_updated")
    assert row["details"]["changes"] == {
        "looked_after_since": {"before": "2025-12-18", "after": "2025-12-01"}
    }
    assert verify(engine).ok
