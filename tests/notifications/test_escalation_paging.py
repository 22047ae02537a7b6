"""GET /api/v1/escalations is paged in SQL (issue 12, item 4): each status's pages are
consecutive slices of its whole list, and the statement itself carries the limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import Engine as EngineClass

from notifications.policy import Policies
from tests.conftest import Staff
from tests.reminder_support import d, first_review_child, run_days


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(EngineClass, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(EngineClass, "before_cursor_execute", count)


def test_pages_are_slices_of_each_status(
    engine: Engine, staff: Staff, policies: Policies, statements: list[str]
) -> None:
    journeys = [first_review_child(staff.sw, f"C-00{n}") for n in range(4)]
    run_days(engine, policies, d("2026-05-01"), d("2026-06-10"))
    staff.sw.fire(journeys[3], "hold_review", "2026-06-10")
    # One deadline's ladder answered (acknowledged: every rung of it), one met (resolved).
    open_rows = staff.sd.get("/escalations?status=open&limit=1000").json()
    first = open_rows[0]
    answered = staff.sd.post(f"/escalations/{first['id']}/acknowledge", {"comment": "Booked"})
    assert answered.status_code == 200, answered.text
    whole = {
        status: staff.sd.get(f"/escalations?status={status}&limit=1000").json()
        for status in ("open", "acknowledged", "resolved", "all")
    }
    assert {e["status"] for e in whole["all"]} >= {"open", "acknowledged"}
    for status, rows in whole.items():
        assert all(status == "all" or e["status"] == status for e in rows)
        assert len(rows) >= 2, status
        for offset in range(len(rows) + 1):
            statements.clear()
            page = staff.sd.get(f"/escalations?status={status}&limit=2&offset={offset}").json()
            assert page == rows[offset : offset + 2], (status, offset)
            # The limit is the query's own, not a slice of every row read.
            assert any("LIMIT" in s and "FROM notice" in s for s in statements)
    assert sorted(e["id"] for e in whole["all"]) == sorted(
        e["id"] for s in ("open", "acknowledged", "resolved") for e in whole[s]
    )
