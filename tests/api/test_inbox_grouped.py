"""The inbox API groups a deadline's notices as the inbox page does, when asked
(``group=deadline``); without it every notice is listed, as before (issue 11 item 3)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from notifications.models import NOTICES as N
from notifications.policy import Policies
from tests.conftest import Api
from tests.reminder_support import first_review_child, run_days


def _sent(engine: Engine, user_id: int) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(N.c.id).where(N.c.recipient_id == user_id).order_by(N.c.fire_on, N.c.id)
            ).scalars()
        )


def test_grouped_inbox_is_one_line_per_deadline_with_its_latest_step(
    sw: Api, engine: Engine, policies: Policies
) -> None:
    first_review_child(sw, "C-0001")
    first_review_child(sw, "C-0002", start="2026-05-01")
    run_days(engine, policies, date(2026, 5, 18), date(2026, 6, 5))
    sent = _sent(engine, sw.user_id)

    every = sw.get("/notifications")
    assert every.status_code == 200
    assert sorted(n["id"] for n in every.json()) == sorted(sent)
    assert all("earlier" not in n for n in every.json())

    grouped = sw.get("/notifications", params={"group": "deadline"})
    assert grouped.status_code == 200
    lines = grouped.json()
    assert [line["child_reference"] for line in lines] == ["C-0002", "C-0001"]
    assert len({line["deadline_id"] for line in lines}) == 2
    for line in lines:
        of_deadline = [n for n in every.json() if n["deadline_id"] == line["deadline_id"]]
        latest = max(of_deadline, key=lambda n: (n["fire_on"], n["id"]))
        assert line["id"] == latest["id"]
        assert line["earlier"] == len(of_deadline) - 1 > 0
        assert line["unread_notices"] == len(of_deadline)
    assert sum(line["earlier"] + 1 for line in lines) == len(sent)

    # Marking one notice read leaves its line unread while others of its deadline are.
    first = lines[0]
    assert sw.post(f"/notifications/{first['id']}/read").status_code == 200
    again = sw.get("/notifications", params={"group": "deadline", "unread": "true"}).json()
    assert next(x for x in again if x["deadline_id"] == first["deadline_id"])["unread_notices"] == (
        first["unread_notices"] - 1
    )
    # Paging counts lines.
    page = sw.get("/notifications", params={"group": "deadline", "limit": 1, "offset": 1})
    assert [x["id"] for x in page.json()] == [lines[1]["id"]]


def test_an_unknown_grouping_is_refused(sw: Api) -> None:
    refused = sw.get("/notifications", params={"group": "child"})
    assert refused.status_code == 422
