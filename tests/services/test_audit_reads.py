"""Every read of a child's record is audited: who, when, what (children by id, never a
search term) and why it was allowed; one row per read, a list's ids in that one row."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from notifications.policy import Policies
from notifications.sweep import sweep
from services.audit import verify
from services.clock import today
from services.models import AUDIT_LOG as A
from tests.conftest import Api, Staff, UserFactory
from tests.panel_support import held_meeting_with_referrals, ok, people
from tests.web_support import WebUser


def _reads(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(A).where(A.c.action.like("read.%")).order_by(A.c.id)).mappings()
        return [dict(r) for r in rows]


def _mark(engine: Engine) -> int:
    """How many read rows there are now (to look only at those written after)."""
    return len(_reads(engine))


def test_a_child_read_names_who_what_and_why(engine: Engine, sw: Api) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    before = _mark(engine)
    ok(sw.get(f"/children/{child['id']}"))
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.child"
    assert row["actor_id"] == sw.user_id
    assert row["entity"] == "child" and row["entity_id"] == child["id"]
    assert row["at"] is not None
    assert row["details"]["child_ids"] == [child["id"]]
    assert row["details"]["journey_ids"] == [journey["id"]]
    assert row["details"]["allowed_by"] == {
        "roles": ["social_worker"],
        "team": "north",
        "scope": "team",
    }
    assert verify(engine).ok


def test_journeys_journey_and_history_reads_are_each_audited(engine: Engine, sw: Api) -> None:
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    before = _mark(engine)
    ok(sw.get(f"/children/{child['id']}/journeys"))
    ok(sw.get(f"/journeys/{journey['id']}"))
    ok(sw.get(f"/journeys/{journey['id']}/history"))
    rows = _reads(engine)[before:]
    assert [r["action"] for r in rows] == ["read.journeys", "read.journey", "read.history"]
    for r in rows:
        assert r["details"]["child_ids"] == [child["id"]]
        assert r["details"]["journey_ids"] == [journey["id"]]


def test_search_records_the_ids_returned_never_the_term(engine: Engine, sw: Api) -> None:
    a = sw.create_child("C-0001", given_name="Zebedee")
    b = sw.create_child("C-0002", given_name="Zebedee")
    sw.create_child("C-0003", given_name="Other")
    before = _mark(engine)
    found = ok(sw.get("/children", params={"q": "zebedee"}))
    assert {c["id"] for c in found} == {a["id"], b["id"]}
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.search"
    assert row["details"]["child_ids"] == sorted([a["id"], b["id"]])
    assert row["entity_id"] is None  # a list names its children in child_ids
    assert "zebedee" not in json.dumps(row["details"]).lower()
    # A search that finds no child has read no record: nothing written.
    ok(sw.get("/children", params={"q": "nobody-by-this-name"}))
    assert len(_reads(engine)) == before + 1


def test_a_refused_read_writes_no_read_row(engine: Engine, sw: Api, make_user: UserFactory) -> None:
    child = sw.create_child()
    south = make_user("sw.south", "social_worker", team="south")
    before = _mark(engine)
    assert south.get(f"/children/{child['id']}").status_code == 403
    assert len(_reads(engine)) == before


def test_the_child_page_is_one_row_for_all_it_reads(
    engine: Engine, sw: Api, web_as: Callable[[Api], WebUser]
) -> None:
    child = sw.create_child()
    first = sw.start(child["id"], "permanence_planning")
    second = sw.start(child["id"], "care_proceedings")
    page = web_as(sw)
    before = _mark(engine)
    assert page.get(f"/children/{child['id']}").status_code == 200
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.child_page"
    assert row["details"]["child_ids"] == [child["id"]]
    # The child page also says which cohorts the child is in (issue 13 item 8) and the
    # panel's entries on the child's record (issue 14 item 3).
    assert row["details"]["parts"] == [
        "care_record",
        "child",
        "child_cohorts",
        "history",
        "journeys",
        "panel_record",
    ]
    assert row["details"]["journey_ids"] == sorted([first["id"], second["id"]])
    assert row["details"]["allowed_by"]["scope"] == "team"


def test_my_work_records_the_children_listed_in_one_row(
    engine: Engine, sw: Api, tm: Api, web_as: Callable[[Api], WebUser]
) -> None:
    ids = [sw.create_child(f"C-{n:04d}")["id"] for n in range(1, 4)]
    page = web_as(tm)
    before = _mark(engine)
    assert page.get("/my-work").status_code == 200
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.caseload"
    assert row["actor_id"] == tm.user_id
    assert row["details"]["child_ids"] == sorted(ids)
    assert row["details"]["allowed_by"]["roles"] == ["team_manager"]


def test_tracker_and_minutes_exports_are_audited_with_the_panel_role(
    engine: Engine, make_user: UserFactory
) -> None:
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast, 2)
    meeting_id = ready.meeting["id"]
    children = sorted(r["child_id"] for r in ready.referrals)
    ok(cast.admin.post(f"/panel/meetings/{meeting_id}/agenda", {}))
    ok(cast.admin.post(f"/panel/meetings/{meeting_id}/minutes"))

    before = _mark(engine)
    assert cast.admin.get("/panel/tracker?format=csv").status_code == 200
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.tracker_export"
    assert row["details"]["format"] == "csv"
    assert set(children) <= set(row["details"]["child_ids"])
    assert row["details"]["allowed_by"]["scope"] == "authority"

    before = _mark(engine)
    pdf = cast.adm.get(f"/panel/meetings/{meeting_id}/minutes?format=pdf")
    assert pdf.status_code == 200
    (row,) = _reads(engine)[before:]
    assert row["action"] == "read.minutes_export"
    assert row["actor_id"] == cast.adm.user_id
    assert row["details"]["format"] == "pdf"
    assert row["details"]["meeting_id"] == meeting_id
    assert row["details"]["child_ids"] == children
    assert row["details"]["allowed_by"]["panel_rule"] == "read_minutes"
    assert row["details"]["allowed_by"]["roles"] == ["adm"]
    assert verify(engine).ok


# -- the panel's agenda, referral (with its pack) and decision pages ----------------------


def test_the_panels_agenda_referral_and_decision_reads_are_audited(
    engine: Engine, make_user: UserFactory, web_as: Callable[[Api], WebUser]
) -> None:
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast, 2)
    meeting_id = ready.meeting["id"]
    children = sorted(r["child_id"] for r in ready.referrals)
    agenda = ok(cast.admin.post(f"/panel/meetings/{meeting_id}/agenda", {}))
    first = agenda["parts"][0]["items"][0]
    referral = ready.referrals[0]

    # The API: the meeting (with its agenda), the agenda alone, a referral with its pack.
    before = _mark(engine)
    ok(cast.sw.get(f"/panel/meetings/{meeting_id}"))
    ok(cast.sw.get(f"/panel/meetings/{meeting_id}/agenda"))
    ok(cast.sw.get(f"/panel/referrals/{referral['id']}"))
    rows = _reads(engine)[before:]
    assert [r["action"] for r in rows] == ["read.agenda", "read.agenda", "read.referral"]
    assert rows[0]["details"]["child_ids"] == children
    assert rows[0]["details"]["meeting_id"] == meeting_id
    assert rows[2]["details"]["child_ids"] == [referral["child_id"]]
    assert rows[2]["details"]["referral_id"] == referral["id"]

    # The pages: one row each, naming the parts they read.
    pages = [
        (cast.admin, f"/panel/meetings/{meeting_id}", "read.meeting_page", children),
        (cast.sw, f"/panel/referrals/{referral['id']}", "read.referral_page", None),
        (
            cast.chair,
            f"/panel/meetings/{meeting_id}/items/{first['id']}/decision",
            "read.decision_page",
            children,
        ),
    ]
    for user, path, action, expected in pages:
        before = _mark(engine)
        assert web_as(user).get(path).status_code == 200, path
        (row,) = _reads(engine)[before:]
        assert row["action"] == action
        assert row["details"]["child_ids"] == (expected or [referral["child_id"]])
    meeting_row, referral_row, decision_row = _reads(engine)[-3:]
    assert meeting_row["details"]["parts"] == [
        "agenda",
        "agenda_names",
        "panel_actions",
        "waiting_referrals",
    ]
    assert referral_row["details"]["parts"] == ["journey", "referral"]
    assert decision_row["details"]["parts"] == ["agenda", "referral"]
    # A refused read writes none: another team's social worker and the referral.
    south = make_user("sw.south", "social_worker", team="south")
    before = _mark(engine)
    assert south.get(f"/panel/referrals/{referral['id']}").status_code == 403
    assert len(_reads(engine)) == before
    assert verify(engine).ok


# -- deadlines, the director's lists, the notifications -----------------------------------


def test_deadline_lists_director_lists_and_inbox_are_audited(
    engine: Engine, staff: Staff, policies: Policies, web_as: Callable[[Api], WebUser]
) -> None:
    since = (today() - timedelta(days=70)).isoformat()
    ids = []
    for n in range(2):
        child = staff.sw.create_child(f"B-{n:03d}", looked_after_since=since)
        staff.sw.start(child["id"], "permanence_planning")
        ids.append(child["id"])
    sweep(engine, policies, today())  # reminders, overdue notices and escalations

    api = [
        (staff.sw, "/deadlines", "read.deadlines"),
        (staff.sw, "/notifications", "read.notifications"),
        (staff.sd, "/escalations", "read.escalations"),
        (staff.sd, "/breaches", "read.breaches"),
    ]
    for user, path, action in api:
        before = _mark(engine)
        ok(user.get(path))
        (row,) = _reads(engine)[before:]
        assert row["action"] == action, path
        assert row["details"]["child_ids"] == ids, path

    pages = [
        (staff.sw, "/notifications", "read.notifications"),
        (staff.sd, "/director", "read.director_page"),
        (staff.sd, "/director/breaches", "read.breaches"),
        (staff.sw, "/my-work", "read.caseload"),
    ]
    for user, path, action in pages:
        before = _mark(engine)
        assert web_as(user).get(path).status_code == 200, path
        (row,) = _reads(engine)[before:]
        assert row["action"] == action, path
        assert row["details"]["child_ids"] == ids, path
    director_row = _reads(engine)[-3]
    assert director_row["details"]["parts"] == ["deadlines", "escalations"]
    # A list that names no child writes nothing (the south manager sees none of north's).
    before = _mark(engine)
    ok(staff.tm_south.get("/escalations"))
    assert len(_reads(engine)) == before
    assert verify(engine).ok
