"""The director acknowledges a selection of escalations with one comment, and the level
filter survives an acknowledgement (issue 11 item 4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, select, update

from notifications.models import NOTICES as N
from notifications.policy import Policies
from notifications.service import acknowledge
from notifications.sweep import sweep
from services.access import Principal
from services.clock import today
from services.models import USERS as U
from tests.conftest import Api, Staff
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]


def _escalated(staff: Staff, engine: Engine, policies: Policies, n: int) -> None:
    since = (today() - timedelta(days=70)).isoformat()
    for i in range(n):
        child = staff.sw.create_child(f"S-{i:03d}", looked_after_since=since)
        staff.sw.start(child["id"], "permanence_planning")
    sweep(engine, policies, today())


def _selectable(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="select-(\d+)"', html)]


def _unanswered(engine: Engine) -> int:
    with engine.connect() as conn:
        rows = conn.execute(
            select(N.c.id).where(N.c.category == "escalation", N.c.acknowledged_at.is_(None))
        ).all()
    return len(rows)


def test_the_director_acknowledges_a_selection_with_one_comment(
    staff: Staff, engine: Engine, policies: Policies, web_as: WebAs
) -> None:
    _escalated(staff, engine, policies, 3)
    director = web_as(staff.sd)
    ids = _selectable(director.get("/director").text)
    assert len(ids) == 3
    chosen = ids[:2]
    page = director.get("/director/escalations/selection", params={"ids": chosen})
    assert page.status_code == 200
    listed = page.text.split('id="selected-escalations"', 1)[1].split("</ul>", 1)[0]
    assert listed.count("<li>") == 2
    blank = director.post("/director/escalations/selection", {"ids": chosen, "comment": " "})
    assert blank.status_code == 422 and "Enter a comment" in blank.text
    done = director.post(
        "/director/escalations/selection", {"ids": chosen, "comment": "Reviews booked."}
    )
    assert done.status_code == 303 and "done=acknowledged" in done.headers["location"]
    assert _selectable(director.get("/director").text) == ids[2:]
    with engine.connect() as conn:
        comments = set(
            conn.execute(
                select(N.c.ack_comment).where(N.c.category == "escalation", N.c.id.in_(chosen))
            ).scalars()
        )
    assert comments == {"Reviews booked."}


def test_a_selection_with_one_already_answered_saves_nothing(
    staff: Staff,
    engine: Engine,
    policies: Policies,
    web_as: WebAs,
    principal_of: Callable[[int], Principal],
) -> None:
    _escalated(staff, engine, policies, 2)
    director = web_as(staff.sd)
    first, second = _selectable(director.get("/director").text)
    before = _unanswered(engine)
    acknowledge(engine, first, principal_of(staff.sd.user_id), "Meanwhile, by someone else")
    after_one = _unanswered(engine)
    refused = director.post(
        "/director/escalations/selection", {"ids": [first, second], "comment": "Both"}
    )
    assert refused.status_code == 409
    assert "nothing was saved" in refused.text
    assert _unanswered(engine) == after_one < before
    assert _selectable(director.get("/director").text) == [second]


def test_the_level_filter_survives_an_acknowledgement(
    staff: Staff, engine: Engine, policies: Policies, web_as: WebAs
) -> None:
    _escalated(staff, engine, policies, 2)
    director = web_as(staff.sd)
    listed = director.get("/director?level=service_director").text
    first = _selectable(listed)[0]
    assert f"/director/escalations/{first}/acknowledge?level=service_director" in listed
    form = director.get(f"/director/escalations/{first}/acknowledge?level=service_director")
    assert 'name="level" value="service_director"' in form.text
    done = director.post(
        f"/director/escalations/{first}/acknowledge",
        {"comment": "Done", "level": "service_director"},
    )
    assert done.status_code == 303
    assert "level=service_director" in done.headers["location"]


def test_escalations_name_people_by_their_full_names(
    staff: Staff, engine: Engine, policies: Policies, web_as: WebAs
) -> None:
    with engine.begin() as conn:
        conn.execute(update(U).where(U.c.id == staff.sd.user_id).values(display_name="Alan Foster"))
    _escalated(staff, engine, policies, 1)
    escalations = staff.sd.get("/escalations").json()
    assert "Alan Foster" in {e["recipient"] for e in escalations}
    first = _selectable(web_as(staff.sd).get("/director").text)[0]
    page = web_as(staff.sd).get(f"/director/escalations/{first}/acknowledge").text
    assert "Service director (Alan Foster)" in page
