"""The casework pages over HTTP: My work, children, the child page, recording an event from
its form (validation, stale pages, CSRF, read-only users) and notifications."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

import states
from app.web.event_forms import FormField, echo, form_fields, read_data
from app.web.forms import FormErrors
from app.web.templating import govuk_date
from notifications.models import NOTICES as N
from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from services.models import CHILDREN as C
from services.models import JOURNEY_EVENTS as E
from services.rag import rag_status
from tests.conftest import Api, UserFactory
from tests.reminder_support import BANK_HOLIDAY_DUE, first_review_child
from tests.web_support import WebUser
from workflow.calendar import add_months, add_working_days
from workflow.fields import validate

WebAs = Callable[[Api], WebUser]


def _text(html: str) -> str:
    """The page's words, tags dropped and whitespace folded (for phrase assertions)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _events(engine: Engine, journey_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(E).where(E.c.journey_id == journey_id)
            ).scalar_one()
        )


def _permanence(sw: Api, reference: str, started: date, **child: object) -> dict[str, Any]:
    """A child of team north with permanence planning started on ``started``."""
    made = sw.create_child(reference, looked_after_since=started.isoformat(), **child)
    return sw.start(made["id"], "permanence_planning", started_on=started.isoformat())


# -- the RAG rule -------------------------------------------------------------------------


def test_rag_rule_counts_english_working_days() -> None:
    friday = date(2026, 12, 18)  # Christmas Day and the Boxing Day substitute follow
    assert rag_status(None, friday) == "grey"
    assert rag_status(date(2026, 12, 17), friday) == "red"
    assert rag_status(friday, friday) == "amber"  # due today is not yet overdue
    # Five working days after Friday 18 December: 21, 22, 23, 24, then 29 December.
    assert rag_status(date(2026, 12, 29), friday) == "amber"
    assert rag_status(date(2026, 12, 30), friday) == "green"


# -- My work ------------------------------------------------------------------------------


def test_my_work_lists_overdue_first_with_rag_and_counts(sw: Api, tm: Api, web_as: WebAs) -> None:
    now = today()
    # Green: started today, first review in 20 working days.
    _permanence(sw, "C-GREEN", now)
    # Red: started long ago, first review long overdue.
    _permanence(sw, "C-RED", now - timedelta(days=90))
    # Amber: first review due within 5 working days.
    _permanence(sw, "C-AMBER", add_working_days(now, -18))
    sw.create_child("C-NONE")  # no journey, so no deadline: last
    page = web_as(sw).get("/my-work")
    assert page.status_code == 200
    html = page.text
    order = [m for m in re.findall(r'data-child="([^"]+)"', html)]
    assert order == ["C-RED", "C-AMBER", "C-GREEN", "C-NONE"]
    rows = dict(
        re.findall(r'data-child="([^"]+)">(.*?)</tr>', html, flags=re.S)  # reference -> row
    )
    assert "Overdue" in rows["C-RED"]
    assert "Due soon" in rows["C-AMBER"]
    assert "On track" in rows["C-GREEN"]
    assert "No deadline" in rows["C-NONE"]
    assert "Awaiting first looked-after review" in rows["C-RED"]
    assert "First looked-after review" in rows["C-RED"]
    assert re.search(r'id="count-overdue">1<', html)
    assert re.search(r'id="count-due-soon">1<', html)
    assert re.search(r'id="count-total">4<', html)
    assert "My caseload" in html
    # The team manager sees the same children as the team's caseload, with the worker.
    team = web_as(tm).get("/my-work")
    assert team.status_code == 200
    assert re.findall(r'data-child="([^"]+)"', team.text) == order
    assert "sw.north" in team.text


def test_a_social_worker_sees_their_own_caseload_and_can_see_the_team(
    make_user: UserFactory, sw: Api, web_as: WebAs
) -> None:
    other = make_user("sw2.north", "social_worker", team="north")
    sw.create_child("C-MINE")
    other.create_child("C-THEIRS")
    page = web_as(sw)
    mine = page.get("/my-work")
    assert re.findall(r'data-child="([^"]+)"', mine.text) == ["C-MINE"]
    team = page.get("/my-work?worker=all")
    assert sorted(re.findall(r'data-child="([^"]+)"', team.text)) == ["C-MINE", "C-THEIRS"]
    theirs = page.get(f"/my-work?worker={other.user_id}")
    assert re.findall(r'data-child="([^"]+)"', theirs.text) == ["C-THEIRS"]


def test_a_service_manager_sees_every_team_and_can_filter_one(
    make_user: UserFactory, sw: Api, web_as: WebAs
) -> None:
    south = make_user("sw.south", "social_worker", team="south")
    manager = make_user("sm", "service_manager")
    sw.create_child("C-NORTH")
    south.create_child("C-SOUTH")
    page = web_as(manager)
    everyone = page.get("/my-work")
    assert sorted(re.findall(r'data-child="([^"]+)"', everyone.text)) == ["C-NORTH", "C-SOUTH"]
    only = page.get("/my-work?team=south")
    assert re.findall(r'data-child="([^"]+)"', only.text) == ["C-SOUTH"]


def test_my_work_is_not_for_other_roles(make_user: UserFactory, web_as: WebAs) -> None:
    admin = make_user("admin", "sysadmin")
    assert web_as(admin).get("/my-work").status_code == 403


def test_my_work_answers_in_a_fixed_number_of_queries(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    from sqlalchemy import event

    page = web_as(sw)

    def count_queries() -> int:
        seen: list[str] = []

        def before(*args: object) -> None:
            seen.append(str(args[2]))

        # On the Engine class: the app under test has its own engine, not the fixture's.
        event.listen(Engine, "before_cursor_execute", before)
        try:
            assert page.get("/my-work").status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", before)
        return len(seen)

    for n in range(3):
        _permanence(sw, f"C-{n}", today())
    few = count_queries()
    assert few > 0  # the listener sees the page's queries
    for n in range(3, 15):
        _permanence(sw, f"C-{n}", today())
    assert count_queries() == few  # no query per child


# -- children and team scoping ------------------------------------------------------------


def test_children_search_by_reference_or_name(sw: Api, web_as: WebAs) -> None:
    sw.create_child("LA-1001", given_name="Alexandra", family_name="Ng")
    sw.create_child("LA-2002", given_name="Sam", family_name="Brook")
    page = web_as(sw)
    # The search is a POST answered in place: the name never reaches the address.
    by_name = page.post("/children", {"q": "alexandra"})
    assert by_name.status_code == 200
    assert str(by_name.url).endswith("/children")
    assert "LA-1001" in by_name.text and "LA-2002" not in by_name.text
    by_reference = page.post("/children", {"q": "2002"})
    assert "LA-2002" in by_reference.text and "LA-1001" not in by_reference.text
    assert "No children match" in page.post("/children", {"q": "zzz"}).text
    # The form itself posts, so a browser never builds /children?q=...
    assert '<form method="post" action="/children"' in page.get("/children").text
    # A term in the address is not a search (it would have been logged on the way).
    listed = page.get("/children?q=alexandra")
    assert "LA-1001" in listed.text and "LA-2002" in listed.text
    # Without the session's token, nothing is searched.
    assert page.post("/children", {"q": "alexandra"}, csrf="").status_code == 403


def test_search_results_page_by_post_keeping_the_term_out_of_the_address(
    sw: Api, web_as: WebAs
) -> None:
    for n in range(52):
        sw.create_child(f"PG-{n:03d}", given_name="Pagename", family_name=f"F{n:03d}")
    sw.create_child("OTHER-1", given_name="Someone", family_name="Else")
    page = web_as(sw)
    first = page.post("/children", {"q": "pagename"})
    row_link = 'class="govuk-link" href="/children/'
    assert first.text.count(row_link) == 50
    pages = first.text.split('aria-label="Pages"', 1)[1]
    assert '<form method="post" action="/children"' in pages
    assert 'name="q" value="pagename"' in pages and 'name="page" value="2"' in pages
    second = page.post("/children", {"q": "pagename", "page": "2"})
    assert second.text.count(row_link) == 2
    assert "OTHER-1" not in first.text + second.text
    assert 'name="page" value="1"' in second.text


def test_another_teams_child_page_is_refused_without_showing_the_child(
    make_user: UserFactory, sw: Api, web_as: WebAs
) -> None:
    journey = _permanence(sw, "C-NORTH", today(), given_name="Northname", family_name="Secret")
    south = web_as(make_user("tm.south", "team_manager", team="south"))
    for path in (
        f"/children/{journey['child_id']}",
        f"/journeys/{journey['id']}",
        f"/journeys/{journey['id']}/events/hold_review",
        f"/children/{journey['child_id']}/journeys/new",
    ):
        response = south.get(path)
        assert response.status_code in (403, 404), path
        assert "Northname" not in response.text and "Secret" not in response.text
        assert "C-NORTH" not in response.text
    listed = south.get("/children")
    assert "C-NORTH" not in listed.text and "Northname" not in listed.text
    assert "C-NORTH" not in south.get("/my-work").text
    missing = south.get("/children/999999")
    assert missing.status_code == 404


def test_the_child_page_links_a_caseworker_to_refer_the_journey_to_panel(
    sw: Api, make_user: UserFactory, web_as: WebAs
) -> None:
    journey = _permanence(sw, "C-REFER", today())
    link = f'href="/panel/referrals/new?journey_id={journey["id"]}"'
    page = web_as(sw).get(f"/children/{journey['child_id']}")
    assert link in page.text
    assert web_as(sw).get(f"/panel/referrals/new?journey_id={journey['id']}").status_code == 200
    viewer = web_as(make_user("viewer.north", "read_only", team="north"))
    assert link not in viewer.get(f"/children/{journey['child_id']}").text


# -- the child page and recording an event --------------------------------------------------


def test_firing_an_event_through_the_form_moves_the_journey_and_its_deadlines(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    started = today() - timedelta(days=10)
    journey = _permanence(sw, "C-0001", started)
    child_id, jid = journey["child_id"], journey["id"]
    first_due = journey["deadlines"][0]["due_on"]
    page = web_as(sw)
    before = page.get(f"/children/{child_id}")
    assert before.status_code == 200
    text = _text(before.text)
    assert "Awaiting first looked-after review" in text
    assert f"First looked-after review {govuk_date(first_due)}" in text
    assert f'href="/journeys/{jid}/events/hold_review"' in before.text
    assert 'class="app-diagram"' in before.text and "<svg" in before.text
    # A text alternative to the diagram names the stage it can move on to.
    assert "It can move on to: Awaiting second looked-after review" in text

    form = page.get(f"/journeys/{jid}/events/hold_review")
    assert form.status_code == 200
    assert 'name="expected_version" value="1"' in form.text
    assert 'name="f_notes"' in form.text
    held = today() - timedelta(days=2)
    response = page.post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "f_notes": "Review held with the IRO",
            "occurred_on-day": str(held.day),
            "occurred_on-month": str(held.month),
            "occurred_on-year": str(held.year),
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/children/{child_id}?done=event-recorded#journey-{jid}"
    assert _events(engine, jid) == 2

    after = page.get(f"/children/{child_id}?done=event-recorded")
    text = _text(after.text)
    assert "govuk-notification-banner--success" in after.text
    assert (
        "Record a looked-after review: recorded Permanence planning is now at the stage: "
        "Awaiting second looked-after review." in text
    )
    # The first review is met; the second is due three months after the review was held.
    assert f"Second looked-after review {govuk_date(add_months(held, 3))}" in text
    assert "Met" in text
    assert "Notes: Review held with the IRO" in text
    assert _state(sw, jid) == "awaiting_second_review"


def _state(api: Api, journey_id: int) -> str:
    """The journey's state as the API reads it."""
    return str(api.reload({"id": journey_id})["state"])


def test_a_guard_failure_is_shown_next_to_the_field_and_nothing_is_written(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today())
    jid = journey["id"]
    page = web_as(sw)
    now = today()
    response = page.post(
        f"/journeys/{jid}/events/record_permanence_plan",
        {
            "expected_version": "1",
            "f_primary_plan": "adoption",
            "f_contingency_plan": "adoption",
            "occurred_on-day": str(now.day),
            "occurred_on-month": str(now.month),
            "occurred_on-year": str(now.year),
        },
    )
    assert response.status_code == 422
    html = response.text
    assert "govuk-error-summary" in html
    assert '<a href="#f_contingency_plan">The contingency plan must differ' in html
    assert 'id="f_contingency_plan-error"' in html
    assert 'name="f_primary_plan" type="radio" value="adoption" checked' in html  # kept
    assert _events(engine, jid) == 1
    assert _state(sw, jid) == "awaiting_first_review"


def test_missing_and_malformed_input_is_refused_before_the_engine(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today() - timedelta(days=30))
    jid = journey["id"]
    page = web_as(sw)
    response = page.post(
        f"/journeys/{jid}/events/record_permanence_plan",
        {"expected_version": "1", "f_contingency_plan": "adoption", "occurred_on-day": "31"},
    )
    assert response.status_code == 422
    assert '<a href="#f_primary_plan">Select primary plan</a>' in response.text
    assert '<a href="#occurred_on-month">Date this happened must include a month</a>' in (
        response.text
    )
    future = today() + timedelta(days=3)
    response = page.post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "occurred_on-day": str(future.day),
            "occurred_on-month": str(future.month),
            "occurred_on-year": str(future.year),
        },
    )
    assert response.status_code == 422
    assert "Date this happened must be today or in the past" in response.text
    assert _events(engine, jid) == 1


def test_the_engines_refusal_of_a_date_goes_next_to_the_date(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today() - timedelta(days=5))
    jid = journey["id"]
    early = today() - timedelta(days=40)  # before the journey started
    response = web_as(sw).post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "occurred_on-day": str(early.day),
            "occurred_on-month": str(early.month),
            "occurred_on-year": str(early.year),
        },
    )
    assert response.status_code == 422
    assert '<a href="#occurred_on-day">An event cannot be dated before the journey started.' in (
        response.text
    )
    assert _events(engine, jid) == 1


def test_a_stale_page_is_refused_with_a_clear_message_and_nothing_written(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today() - timedelta(days=10))
    jid = journey["id"]
    page = web_as(sw)
    form = page.get(f"/journeys/{jid}/events/hold_review")
    assert 'name="expected_version" value="1"' in form.text
    sw.fire(journey, "hold_review", occurred_on=today().isoformat())  # someone else, meanwhile
    response = page.post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "f_notes": "typed before the change",
            "occurred_on-day": str(today().day),
            "occurred_on-month": str(today().month),
            "occurred_on-year": str(today().year),
        },
    )
    assert response.status_code == 409
    text = _text(response.text)
    assert (
        "Someone else changed this journey while you were on this page. Nothing has been saved. "
        "Check the journey's current stage below and try again." in text
    )
    assert "Awaiting second looked-after review" in text  # the stage now
    assert f'href="/children/{journey["child_id"]}#journey-{jid}"' in response.text
    assert "typed before the change" in response.text  # what was typed is kept
    assert _events(engine, jid) == 2  # the start and the other person's review only


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_an_event_post_without_the_right_token_is_refused(
    sw: Api, web_as: WebAs, engine: Engine, token: str
) -> None:
    journey = _permanence(sw, "C-0001", today())
    jid = journey["id"]
    response = web_as(sw).post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "occurred_on-day": str(today().day),
            "occurred_on-month": str(today().month),
            "occurred_on-year": str(today().year),
        },
        csrf=token,
    )
    assert response.status_code == 403
    assert _events(engine, jid) == 1


def test_a_read_only_user_sees_no_actions_and_cannot_post(
    make_user: UserFactory, sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today())
    jid, child_id = journey["id"], journey["child_id"]
    viewer = web_as(make_user("viewer.north", "read_only", team="north"))
    page = viewer.get(f"/children/{child_id}")
    assert page.status_code == 200
    assert "Awaiting first looked-after review" in page.text
    assert "/events/" not in page.text
    assert "Start a journey" not in page.text
    assert "You can see this journey but not change it." in page.text
    assert viewer.get(f"/journeys/{jid}/events/hold_review").status_code == 403
    response = viewer.post(
        f"/journeys/{jid}/events/hold_review",
        {
            "expected_version": "1",
            "occurred_on-day": str(today().day),
            "occurred_on-month": str(today().month),
            "occurred_on-year": str(today().year),
        },
    )
    assert response.status_code == 403
    assert _events(engine, jid) == 1
    assert viewer.get(f"/children/{child_id}/journeys/new").status_code == 403


def test_an_event_of_another_role_or_stage_is_not_offered(sw: Api, web_as: WebAs) -> None:
    made = sw.create_child("C-0001")
    journey = sw.start(made["id"], "long_term_fostering", data={"placement_kind": "mainstream"})
    page = web_as(sw)
    child = page.get(f"/children/{made['id']}")
    # The panel chair's recommendation is not the social worker's (and not at this stage).
    assert "/events/recommend" not in child.text
    assert page.get(f"/journeys/{journey['id']}/events/recommend").status_code == 403
    assert page.get(f"/journeys/{journey['id']}/events/submit_pack").status_code == 409
    assert page.get(f"/journeys/{journey['id']}/events/no_such_event").status_code == 404


def test_a_checklist_event_maps_each_item_to_radios(sw: Api, web_as: WebAs, engine: Engine) -> None:
    made = sw.create_child("C-0001")
    journey = sw.start(
        made["id"],
        "long_term_fostering",
        started_on=(today() - timedelta(days=30)).isoformat(),
        data={"placement_kind": "residential"},
    )
    journey = sw.fire(journey, "hold_matching_meeting", occurred_on=today().isoformat())
    page = web_as(sw)
    form = page.get(f"/journeys/{journey['id']}/events/submit_pack")
    assert form.status_code == 200
    # Checklist C (residential) has five items, each Yes / No / Not applicable.
    items = re.findall(r'name="f_checklist__([a-z_]+)" type="radio" value="yes"', form.text)
    assert items == ["pack_on_time", "views", "care_plan", "placement_plan", "child_voice"]
    panel = today() + timedelta(days=30)
    answers = {f"f_checklist__{k}": "yes" for k in items}
    answers["f_checklist__care_plan"] = "no"
    body = {
        "expected_version": str(journey["version"]),
        "f_panel_date-day": str(panel.day),
        "f_panel_date-month": str(panel.month),
        "f_panel_date-year": str(panel.year),
        "occurred_on-day": str(today().day),
        "occurred_on-month": str(today().month),
        "occurred_on-year": str(today().year),
        **answers,
    }
    refused = page.post(f"/journeys/{journey['id']}/events/submit_pack", body)
    assert refused.status_code == 422
    assert '<a href="#f_checklist__care_plan">Checklist C' in refused.text
    assert _events(engine, journey["id"]) == 2
    body["f_checklist__care_plan"] = "not_applicable"
    done = page.post(f"/journeys/{journey['id']}/events/submit_pack", body)
    assert done.status_code == 303, done.text
    assert _state(sw, journey["id"]) == "pack_submitted"


def _today_parts(prefix: str = "occurred_on", day: date | None = None) -> dict[str, str]:
    day = day or today()
    return {
        f"{prefix}-day": str(day.day),
        f"{prefix}-month": str(day.month),
        f"{prefix}-year": str(day.year),
    }


def test_every_problem_with_what_was_typed_shows_at_once_in_the_forms_words(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    made = sw.create_child("C-0001", looked_after_since=(today() - timedelta(days=60)).isoformat())
    journey = sw.start(made["id"], "care_proceedings", started_on=made["looked_after_since"])
    response = web_as(sw).post(
        f"/journeys/{journey['id']}/events/extend_timetable",
        {
            "expected_version": str(journey["version"]),
            "f_weeks": "9",
            "f_reason": "",
            **_today_parts(day=today() + timedelta(days=2)),
        },
    )
    assert response.status_code == 422
    summary = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', response.text.split("</h2>", 1)[1])
    # The date first, as the form reads it, then the fields in order; each worded by the
    # form from the engine's error code (the limits come from the field's declaration).
    assert summary[:3] == [
        ("occurred_on-day", "Date this happened must be today or in the past"),
        ("f_weeks", "Weeks must be a whole number from 1 to 8"),
        ("f_reason", "Enter reason"),
    ]
    assert 'id="f_weeks-error"' in response.text
    assert 'id="f_weeks" name="f_weeks" type="text" value="9"' in response.text  # kept
    assert _events(engine, journey["id"]) == 1


def test_an_event_post_asks_the_journey_service_once_in_one_write_transaction(
    sw: Api, web_as: WebAs, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import db

    opened: list[str] = []

    def counted(kind: str, real: Any) -> Any:
        def open_(*args: Any, **kw: Any) -> Any:
            opened.append(kind)
            return real(*args, **kw)

        return open_

    # Every transaction the journey service opens, counted.
    monkeypatch.setattr("services.journeys.write_connection", counted("write", db.write_connection))
    monkeypatch.setattr("services.journeys.read_connection", counted("read", db.read_connection))
    journey = _permanence(sw, "C-0001", today() - timedelta(days=10))
    jid = journey["id"]
    page = web_as(sw)
    posts = {
        "recorded": ({"expected_version": "1", **_today_parts()}, 303),
        "refused by a guard": (
            {
                "expected_version": "2",
                "f_primary_plan": "adoption",
                "f_contingency_plan": "adoption",
                **_today_parts(),
            },
            422,
        ),
        "stale": ({"expected_version": "1", **_today_parts()}, 409),
    }
    for name, (body, status) in posts.items():
        event = "hold_review" if name != "refused by a guard" else "record_permanence_plan"
        opened.clear()
        response = page.post(f"/journeys/{jid}/events/{event}", body)
        assert response.status_code == status, (name, response.text)
        assert opened == ["write"], name  # no read of the journey before or after
    assert _events(engine, jid) == 2


def test_the_service_refusals_of_an_event_read_as_the_page_words_them(
    make_user: UserFactory, sw: Api, web_as: WebAs, engine: Engine
) -> None:
    journey = _permanence(sw, "C-0001", today())
    jid = journey["id"]
    body = {"expected_version": "1", **_today_parts()}
    chair = web_as(make_user("chair.x", "panel_chair"))
    for response in (
        chair.get(f"/journeys/{jid}/events/hold_review"),
        chair.post(f"/journeys/{jid}/events/hold_review", body),
    ):
        assert response.status_code == 403
        assert "Only social worker, team manager, service manager, iro may do this." in (
            _text(response.text)
        )
    viewer = web_as(make_user("viewer.north", "read_only", team="north"))
    refused = viewer.post(f"/journeys/{jid}/events/hold_review", body)
    assert refused.status_code == 403
    assert "Your roles allow reading only." in _text(refused.text)
    page = web_as(sw)
    unknown = page.post(f"/journeys/{jid}/events/no_such_event", body)
    assert unknown.status_code == 404
    assert "This journey has no such action." in _text(unknown.text)
    versionless = page.post(f"/journeys/{jid}/events/hold_review", _today_parts())
    assert versionless.status_code == 400
    assert "The form is missing the journey's version." in _text(versionless.text)
    assert _events(engine, jid) == 1


def test_a_change_committed_while_the_post_is_checked_is_refused_as_stale(
    sw: Api,
    web_as: WebAs,
    engine: Engine,
    journey_service: Any,
    principal_of: Callable[[int], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite's writers queue: no one can commit while the post's transaction runs")
    from app.web import event_forms

    journey = _permanence(sw, "C-0001", today() - timedelta(days=10))
    jid = journey["id"]
    real_read_input = event_forms.read_input

    def someone_else_first(*args: Any, **kw: Any) -> Any:
        # Inside the post's transaction, after it read the journey: another user's change
        # commits (the post's UPDATE then finds the version moved on).
        journey_service.fire(
            jid,
            event="hold_review",
            expected_version=1,
            occurred_on=today(),
            data={},
            principal=principal_of(sw.user_id),
        )
        return real_read_input(*args, **kw)

    monkeypatch.setattr("app.web.routes.journey_events.read_input", someone_else_first)
    response = web_as(sw).post(
        f"/journeys/{jid}/events/hold_review",
        {"expected_version": "1", "f_notes": "typed meanwhile", **_today_parts()},
    )
    assert response.status_code == 409
    text = _text(response.text)
    assert "Someone else changed this journey while you were on this page." in text
    # The stage and version now, read after the race, and the form offered again at them.
    assert "Current stage Awaiting second looked-after review" in text
    assert 'name="expected_version" value="2"' in response.text
    assert "typed meanwhile" in response.text
    assert _events(engine, jid) == 2  # the start and the other person's review only


def test_starting_a_journey_from_the_child_page(sw: Api, web_as: WebAs, engine: Engine) -> None:
    made = sw.create_child("C-0001", looked_after_since=(today() - timedelta(days=3)).isoformat())
    page = web_as(sw)
    assert "Start a journey" in page.get(f"/children/{made['id']}").text
    choose = page.get(f"/children/{made['id']}/journeys/new")
    assert choose.status_code == 200
    assert "govuk-error-summary" not in choose.text
    nothing_chosen = page.get(f"/children/{made['id']}/journeys/new?chosen=1")
    assert nothing_chosen.status_code == 422
    assert '<a href="#type">Select a type of journey' in nothing_chosen.text
    assert 'value="care_proceedings"' in choose.text
    details = page.get(f"/children/{made['id']}/journeys/new?type=care_proceedings")
    assert details.status_code == 200
    assert 'name="f_court"' in details.text and 'name="f_case_number"' in details.text
    issued = today() - timedelta(days=1)
    response = page.post(
        f"/children/{made['id']}/journeys/new",
        {
            "type": "care_proceedings",
            "started_on-day": str(issued.day),
            "started_on-month": str(issued.month),
            "started_on-year": str(issued.year),
            "f_court": "Leicester Family Court",
        },
    )
    assert response.status_code == 303, response.text
    assert "?done=journey-started#journey-" in response.headers["location"]
    child = page.get(response.headers["location"].split("#")[0])
    text = _text(child.text)
    assert "Care proceedings started" in text
    assert f"{govuk_date(issued + timedelta(weeks=26))}" in text  # the 26-week timetable
    # A second one of the same type is not offered.
    again = page.get(f"/children/{made['id']}/journeys/new?type=care_proceedings")
    assert again.status_code == 422


# -- notifications --------------------------------------------------------------------------


def test_notifications_list_and_mark_as_read(
    sw: Api, web_as: WebAs, engine: Engine, policies: Policies
) -> None:
    journey = first_review_child(sw)
    sweep(engine, policies, BANK_HOLIDAY_DUE)  # the "due today" reminder
    with engine.connect() as conn:
        notice_id = conn.execute(
            select(func.min(N.c.id)).where(N.c.recipient_id == sw.user_id)
        ).scalar_one()
    page = web_as(sw)
    listed = page.get("/notifications")
    assert listed.status_code == 200
    assert "Unread" in listed.text
    assert "C-0001" in listed.text
    assert f'href="/journeys/{journey["id"]}"' in listed.text
    assert f'action="/notifications/{notice_id}/read"' in listed.text
    # My work shows it too, among the unread.
    assert "C-0001" in page.get("/my-work").text.split('id="my-notifications"')[1]
    # Refused without the token; nothing changes.
    assert page.post(f"/notifications/{notice_id}/read", {}, csrf="").status_code == 403
    with engine.connect() as conn:
        assert conn.execute(select(N.c.read_at).where(N.c.id == notice_id)).scalar() is None
    done = page.post(f"/notifications/{notice_id}/read", {"page": "1"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/notifications?page=1&done=read#notice-{notice_id}"
    with engine.connect() as conn:
        assert conn.execute(select(N.c.read_at).where(N.c.id == notice_id)).scalar() is not None
    after = page.get("/notifications?page=1&done=read")
    assert "Notification marked as read" in after.text
    assert f'action="/notifications/{notice_id}/read"' not in after.text
    # The journey link leads to the child's page.
    followed = page.get(f"/journeys/{journey['id']}")
    assert followed.status_code == 303
    assert (
        followed.headers["location"] == f"/children/{journey['child_id']}#journey-{journey['id']}"
    )


def test_someone_elses_notification_cannot_be_marked(
    make_user: UserFactory, sw: Api, web_as: WebAs, engine: Engine, policies: Policies
) -> None:
    first_review_child(sw)
    sweep(engine, policies, BANK_HOLIDAY_DUE)
    with engine.connect() as conn:
        notice_id = conn.execute(
            select(func.min(N.c.id)).where(N.c.recipient_id == sw.user_id)
        ).scalar_one()
    other = web_as(make_user("sw2.north", "social_worker", team="north"))
    assert other.post(f"/notifications/{notice_id}/read", {}).status_code == 404
    with engine.connect() as conn:
        assert conn.execute(select(N.c.read_at).where(N.c.id == notice_id)).scalar() is None


# -- every field of every journey has its input ------------------------------------------


def _valid_input(f: FormField) -> dict[str, str]:
    """What a user would type or choose for ``f``, as the browser would post it."""
    assert f.spec is not None
    if f.widget == "date":
        day = today()
        return {f"{f.input_name}-{p}": str(getattr(day, p)) for p in ("day", "month", "year")}
    if f.widget == "checklist":
        return {item.input_name: "yes" for item in f.items}
    if f.widget in ("radios", "select", "yes_no"):
        return {f.input_name: f.options[-1][0]}
    if f.widget == "number":
        low = f.spec.minimum if f.spec.minimum is not None else 0
        return {f.input_name: str(int(low) + 1 if f.spec.type == "integer" else low + 1.5)}
    return {f.input_name: "Some words"}


def test_every_event_field_has_a_labelled_input_that_reads_back_as_valid_data() -> None:
    from starlette.datastructures import FormData

    from app.web.templating import templates

    macro = templates.env.get_template("casework/_fields.html").module.event_field  # type: ignore[attr-defined]
    widgets: set[str] = set()
    for definition in states.DEFINITIONS:
        for ev in (definition.start, *definition.events):
            fields = form_fields(ev.fields, {})
            assert [f.name for f in fields] == [s.name for s in ev.fields]
            for f in fields:
                widgets.add(f.widget)
                html = str(macro(f, echo(None, [f]), FormErrors()))
                ids = [f"{f.input_name}-day"] if f.widget == "date" else [f.error_id]
                ids += [i.input_name for i in f.items]
                for input_id in ids:
                    assert f'id="{input_id}"' in html, (definition.type, ev.name, f.name)
                assert (f.legend if f.widget != "checklist" else f.label) in unescape(html)
            posted: dict[str, str] = {}
            for f in fields:
                posted.update(_valid_input(f))
            errors = FormErrors()
            data = read_data(FormData(posted), fields, errors)
            assert not errors, (definition.type, ev.name, errors.items)
            _clean, problems = validate(ev.fields, data)
            assert problems == [], (definition.type, ev.name, problems)
            # Nothing typed: only the required fields are refused, each by its own input.
            errors = FormErrors()
            read_data(FormData({}), fields, errors)
            refused = {field_id for field_id, _ in errors.items}
            expected = set()
            for f in fields:
                if f.required:
                    expected |= {i.input_name for i in f.items} or {f.error_id}
            assert refused == expected, (definition.type, ev.name)
    assert widgets == {"date", "radios", "yes_no", "number", "textarea", "input", "checklist"}


# -- adding a child -------------------------------------------------------------------------


def _child_form(**overrides: str) -> dict[str, str]:
    return {
        "reference": "LA-9001",
        "given_name": "Casey",
        "family_name": "Newchild",
        "date_of_birth-day": "4",
        "date_of_birth-month": "3",
        "date_of_birth-year": "2019",
        "legal_status": "section_20",
        **overrides,
    }


def _children(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(C)).scalar_one())


def test_a_social_worker_adds_a_child_to_their_caseload(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    page = web_as(sw)
    assert 'href="/children/new"' in page.get("/children").text
    form = page.get("/children/new")
    assert form.status_code == 200
    assert 'name="worker"' not in form.text  # a social worker's child is their own
    response = page.post("/children/new", _child_form())
    assert response.status_code == 303, response.text
    child_page = page.get(response.headers["location"])
    text = _text(child_page.text)
    assert "Child added" in text
    assert "Casey Newchild" in text and "4 March 2019" in text and "Section 20" in text
    assert "Social worker sw.north" in text and "Team North" in text
    assert re.findall(r'data-child="([^"]+)"', page.get("/my-work").text) == ["LA-9001"]


def test_adding_a_child_shows_each_problem_next_to_its_field_and_writes_nothing(
    sw: Api, web_as: WebAs, engine: Engine
) -> None:
    sw.create_child("LA-9001")
    page = web_as(sw)
    before = _children(engine)
    taken = page.post("/children/new", _child_form())
    assert taken.status_code == 422
    assert '<a href="#reference">A child with this reference is already recorded</a>' in taken.text
    assert 'value="Casey"' in taken.text  # what was typed is kept
    future = today() + timedelta(days=1)
    bad = page.post(
        "/children/new",
        _child_form(
            reference="no spaces allowed",
            given_name="",
            **{
                "date_of_birth-day": str(future.day),
                "date_of_birth-month": str(future.month),
                "date_of_birth-year": str(future.year),
                "looked_after_since-day": "1",
            },
        ),
    )
    assert bad.status_code == 422
    links = re.findall(r'<li><a href="#([^"]+)">', bad.text)
    assert links == [
        "reference",
        "given_name",
        "date_of_birth-day",
        "looked_after_since-month",
    ]
    assert _children(engine) == before


def test_a_team_manager_allocates_and_a_read_only_user_cannot_add(
    make_user: UserFactory, sw: Api, tm: Api, web_as: WebAs, engine: Engine
) -> None:
    manager = web_as(tm)
    form = manager.get("/children/new")
    assert f'<option value="{sw.user_id}">sw.north</option>' in form.text
    response = manager.post("/children/new", _child_form(worker=str(sw.user_id)))
    assert response.status_code == 303, response.text
    assert "Social worker sw.north" in _text(manager.get(response.headers["location"]).text)
    viewer = web_as(make_user("viewer.north", "read_only", team="north"))
    assert 'href="/children/new"' not in viewer.get("/children").text
    assert viewer.get("/children/new").status_code == 403
    before = _children(engine)
    assert viewer.post("/children/new", _child_form(reference="LA-9002")).status_code == 403
    assert _children(engine) == before


def test_a_service_manager_names_the_team(
    make_user: UserFactory, web_as: WebAs, engine: Engine
) -> None:
    manager = web_as(make_user("sm", "service_manager"))
    missing = manager.post("/children/new", _child_form())
    assert missing.status_code == 422
    assert '<a href="#team">Enter the child&#39;s team</a>' in missing.text
    done = manager.post("/children/new", _child_form(team="east"))
    assert done.status_code == 303, done.text
    assert "Team East" in _text(manager.get(done.headers["location"]).text)


def test_a_child_with_an_overdue_deadline_still_counts_as_due_soon_for_its_next(
    sw: Api, web_as: WebAs
) -> None:
    # The first review is long overdue, and the SGO plan is due in 3 working days: the
    # reminder says "due in 3 working days", so the counts must say so too.
    child = sw.create_child(
        "C-BOTH", looked_after_since=(today() - timedelta(days=200)).isoformat()
    )
    sw.start(
        child["id"], "permanence_planning", started_on=(today() - timedelta(days=200)).isoformat()
    )
    due = add_working_days(today(), 3)
    sw.start(child["id"], "sgo", today().isoformat(), {"court_filing_due": due.isoformat()})
    page = web_as(sw).get("/my-work").text

    def count(name: str) -> str:
        return page.split(f'id="count-{name}">', 1)[1].split("<", 1)[0]

    assert (count("overdue"), count("due-soon"), count("total")) == ("1", "1", "1")


def test_a_deadline_met_after_its_due_date_says_how_late(sw: Api, web_as: WebAs) -> None:
    # Looked after from Fri 24 April 2026: the first review was due Tue 26 May 2026 (after
    # the bank holiday); held on Thu 28 May it was two working days late.
    journey = first_review_child(sw)
    sw.fire(journey, "hold_review", occurred_on="2026-05-28")
    text = _text(web_as(sw).get(f"/children/{journey['child_id']}").text)
    assert "First looked-after review 26 May 2026 Met late (2 working days) 28 May 2026" in text


def test_a_deadline_met_on_time_says_met(sw: Api, web_as: WebAs) -> None:
    journey = first_review_child(sw)
    sw.fire(journey, "hold_review", occurred_on="2026-05-26")
    text = _text(web_as(sw).get(f"/children/{journey['child_id']}").text)
    assert "Met late" not in text
    assert "First looked-after review 26 May 2026 Met 26 May 2026" in text


def test_a_court_direction_is_named_by_what_the_court_directed(sw: Api, web_as: WebAs) -> None:
    made = sw.create_child("C-DIR", looked_after_since=(today() - timedelta(days=60)).isoformat())
    journey = sw.start(made["id"], "care_proceedings", started_on=made["looked_after_since"])
    due = (today() + timedelta(days=30)).isoformat()
    data = {"direction": "Parenting assessment", "due_on": due}
    sw.fire(journey, "add_direction", occurred_on=today().isoformat(), data=data)
    text = _text(web_as(sw).get(f"/children/{made['id']}").text)
    assert "Court direction (Parenting assessment)" in text
    assert "Court direction (1)" not in text
