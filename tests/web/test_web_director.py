"""The director's page, "What is drifting": its figures match the data, the filters narrow its
lists, escalations are acknowledged from it (with a comment, audited, CSRF-checked), and its
chart of breaches per month is well-formed SVG with the right bars.

Dates are relative to today: the page works as of today, and events cannot be future-dated.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from app.web.chart import bar_chart, nice_ceiling
from notifications.models import NOTICES as N
from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from services.drift import bucket_by_month, month_starts
from services.models import AUDIT_LOG as A
from services.rag import rag_status
from tests.conftest import Api, Staff, UserFactory
from tests.panel_support import ok, people
from tests.web_support import WebUser

SVG = "{http://www.w3.org/2000/svg}"
WebAs = Callable[[Api], WebUser]


def _ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


@dataclass
class Drift:
    """The data behind the page: who, which children, and the sweep's escalations."""

    staff: Staff
    sw_south: Api
    late_review: dict[str, Any]  # north, first review long overdue: escalated to the director
    proceedings: dict[str, Any]  # north, 26 weeks passed a few days ago
    due_soon: dict[str, Any]  # south, first review due in the next 4 weeks
    met_late: dict[str, Any]  # north, first review held late (a breach, met)


def _journey(api: Api, reference: str, kind: str, looked_after: str, **kw: Any) -> dict[str, Any]:
    child = api.create_child(reference, looked_after_since=looked_after)
    journey = api.start(child["id"], kind, **kw)
    journey["child_id"] = child["id"]
    return journey


@pytest.fixture
def drift(engine: Engine, staff: Staff, policies: Policies, make_user: UserFactory) -> Drift:
    """Children in two teams with overdue, due-soon, met-late and far-off deadlines, and the
    escalations a sweep as of today records for them."""
    sw_south = make_user("sw.south", "social_worker", team="south")
    late = _journey(staff.sw, "C-0100", "permanence_planning", _ago(70))
    proceedings = _journey(staff.sw, "C-0200", "care_proceedings", _ago(300), started_on=_ago(190))
    soon = _journey(sw_south, "C-0300", "permanence_planning", _ago(10))
    held = _journey(staff.sw, "C-0400", "permanence_planning", _ago(120))
    first_due = date.fromisoformat(held["deadlines"][0]["due_on"])
    staff.sw.fire(held, "hold_review", (first_due + timedelta(days=7)).isoformat())
    _journey(staff.sw, "C-0500", "adoption", _ago(30))  # its A1 deadline is more than a year off
    sweep(engine, policies, today())
    return Drift(staff, sw_south, late, proceedings, soon, held)


def _open_deadlines(api: Api) -> list[dict[str, Any]]:
    response = api.get("/deadlines?status=open&limit=1000")
    assert response.status_code == 200, response.text
    return list(response.json())


def _in_window(deadlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    end = today() + timedelta(days=28)
    return [d for d in deadlines if date.fromisoformat(d["due_on"]) < end]


def _section(html: str, start_id: str, end_id: str) -> str:
    start = html.index(f'id="{start_id}"')
    return html[start : html.index(f'id="{end_id}"', start)]


def _summary(html: str) -> dict[str, int]:
    found = re.findall(
        r'font-weight-bold">(\d+)</span>\s*<a class="govuk-link" href="#[\w-]+">([^<]+)</a>', html
    )
    return {label: int(value) for value, label in found}


def _cells(html: str) -> dict[tuple[str, str], int]:
    """(team, journey type) -> the count linked in the breakdown table."""
    table = _section(html, "by-team", "filtered")
    return {
        (team, kind): int(n)
        for team, kind, n in re.findall(
            r'href="/director\?team=([\w.-]+)&amp;journey_type=(\w+)#filtered">(\d+)<span', table
        )
    }


def _ack_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/director/escalations/(\d+)/acknowledge', html)]


def _open_escalation_rows(api: Api) -> list[dict[str, Any]]:
    response = api.get("/escalations?status=open")
    assert response.status_code == 200, response.text
    return list(response.json())


# -- the figures --------------------------------------------------------------------------------


def test_figures_and_breakdown_match_the_data(drift: Drift, web_as: WebAs) -> None:
    sd = drift.staff.sd
    page = web_as(sd).get("/director")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<h1 class="govuk-heading-l">What is drifting</h1>' in html

    window = _in_window(_open_deadlines(sd))
    overdue = [d for d in window if date.fromisoformat(d["due_on"]) < today()]
    breaches = sd.get(f"/breaches?as_of={today().isoformat()}").json()
    escalated = {(e["deadline_id"], e["due_on"]) for e in _open_escalation_rows(sd)}
    # The set-up is what it claims: two overdue (both escalated), some due soon, one met late.
    assert {d["child_reference"] for d in overdue} == {"C-0100", "C-0200"}
    assert len(escalated) == 2
    assert {b["child_reference"] for b in breaches} == {"C-0100", "C-0200", "C-0400"}
    assert "C-0500" not in {d["child_reference"] for d in window}

    summary = _summary(html)
    assert summary["deadlines missed"] == len(breaches) == 3
    assert summary["open escalations"] == 2
    assert summary["overdue deadlines"] == 2
    assert summary["deadlines due in the next 4 weeks"] == len(window) - len(overdue)

    expected = Counter((d["team"], d["journey_type"]) for d in window)
    assert _cells(html) == dict(expected)
    assert expected[("south", "permanence_planning")] == 1
    assert expected[("north", "care_proceedings")] == 1
    # Overdue counts are shown under each cell's total; the row of all teams sums them.
    table = _section(html, "by-team", "filtered")
    assert "1 overdue" in table and "2 overdue" in table


def test_filters_narrow_the_lists(drift: Drift, web_as: WebAs) -> None:
    user = web_as(drift.staff.sd)

    south = user.get("/director?team=south").text
    deadlines = _section(south, "deadlines", "breaches-over-time")
    escalations = _section(south, "open-escalations", "deadlines")
    assert "C-0300" in deadlines and "C-0100" not in deadlines and "C-0200" not in deadlines
    assert "There are no open escalations for these filters" in escalations
    assert "team <strong>South</strong>" in south
    # The figures at the top still cover every team.
    assert _summary(south)["open escalations"] == 2

    court = user.get("/director?journey_type=care_proceedings").text
    deadlines = _section(court, "deadlines", "breaches-over-time")
    escalations = _section(court, "open-escalations", "deadlines")
    assert "C-0200" in deadlines and "C-0100" not in deadlines and "C-0300" not in deadlines
    assert "C-0200" in escalations and "C-0100" not in escalations
    assert len(_ack_ids(escalations)) == 1

    both = user.get("/director?team=north&journey_type=permanence_planning").text
    deadlines = _section(both, "deadlines", "breaches-over-time")
    assert "C-0100" in deadlines and "C-0300" not in deadlines and "C-0200" not in deadlines

    # An unknown journey type is no filter; an unknown team matches nothing.
    assert "C-0300" in user.get("/director?journey_type=nonsense").text
    nobody = user.get("/director?team=west").text
    assert "No open deadline is overdue or due in the next 4 weeks for these filters" in nobody


def test_deadline_rows_link_to_the_child_with_a_status(drift: Drift, web_as: WebAs) -> None:
    html = web_as(drift.staff.sd).get("/director").text
    rows = _section(html, "deadlines", "breaches-over-time")
    assert f'href="/children/{drift.due_soon["child_id"]}">C-0300</a>' in rows
    assert f'href="/children/{drift.late_review["child_id"]}">C-0100</a>' in rows
    # Overdue first: both overdue rows come before the first one that is not.
    order = re.findall(r">(C-\d{4})</a>", rows)
    assert set(order[:2]) == {"C-0100", "C-0200"}
    assert rows.count("govuk-tag--red") == 2
    assert "Care proceedings" in rows and "Care proceedings 26-week timetable" in rows


# -- acknowledging ------------------------------------------------------------------------------


def _group_of(html: str, reference: str) -> str:
    """The escalation card of one child."""
    escalations = _section(html, "open-escalations", "deadlines")
    cards = escalations.split('<tr class="govuk-table__row app-escalation">')[1:]
    return next(card for card in cards if f">{reference}</a>" in card)


def _audit(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(A).where(A.c.action == "acknowledge_escalation")))


def _acknowledged(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(N.c.id).where(N.c.acknowledged_at.is_not(None))))


def test_acknowledging_removes_the_escalation_and_audits(
    drift: Drift, web_as: WebAs, engine: Engine
) -> None:
    sd = drift.staff.sd
    user = web_as(sd)
    card = _group_of(user.get("/director").text, "C-0100")
    (notice_id,) = _ack_ids(card)
    # The director answers the rung addressed to them.
    mine = [e for e in _open_escalation_rows(sd) if e["id"] == notice_id]
    assert mine and mine[0]["recipient"] == "sd" and mine[0]["child_reference"] == "C-0100"
    assert "Service director" in card  # the level it reached, in the table
    # Its own page lists every rung reached, with the comment box.
    own = user.get(f"/director/escalations/{notice_id}/acknowledge").text
    assert "Team manager (tm.north)" in own and "Service director (sd)" in own

    response = user.post(
        f"/director/escalations/{notice_id}/acknowledge",
        {"comment": "Review booked with the IRO for next week.", "team": "north"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/director?team=north&done=acknowledged"

    after = user.get("/director?done=acknowledged").text
    assert "Escalation acknowledged" in after
    escalations = _section(after, "open-escalations", "deadlines")
    assert "C-0100" not in escalations and "C-0200" in escalations
    assert _summary(after)["open escalation"] == 1  # singular
    # Every rung of that deadline is answered, not only the director's.
    assert {e["child_reference"] for e in _open_escalation_rows(sd)} == {"C-0200"}
    audit = _audit(engine)
    assert [(a.entity_id, a.actor_id) for a in audit] == [(notice_id, sd.user_id)]
    assert "IRO" not in str(audit[0].details)  # the comment stays on the notice
    answered = sd.get("/escalations?status=acknowledged").json()
    assert [(e["id"], e["comment"]) for e in answered if e["id"] == notice_id] == [
        (notice_id, "Review booked with the IRO for next week.")
    ]


def test_an_empty_comment_is_an_error_next_to_the_field(
    drift: Drift, web_as: WebAs, engine: Engine
) -> None:
    user = web_as(drift.staff.sd)
    notice_id = _ack_ids(_group_of(user.get("/director").text, "C-0200"))[0]
    response = user.post(f"/director/escalations/{notice_id}/acknowledge", {"comment": "   "})
    assert response.status_code == 422
    html = response.text
    assert "<title>Error: Acknowledge escalation" in html
    assert "There is a problem" in html
    assert '<a href="#comment">Enter a comment' in html
    field = html[html.index('id="comment-error"') :]
    assert field.index("Enter a comment") < field.index('<textarea class="govuk-textarea')
    assert "govuk-textarea--error" in field[: field.index("</textarea>")]
    assert _audit(engine) == [] and _acknowledged(engine) == []

    too_long = user.post(f"/director/escalations/{notice_id}/acknowledge", {"comment": "x" * 2001})
    assert too_long.status_code == 422
    assert "Comment must be 2,000 characters or fewer" in too_long.text
    assert _audit(engine) == [] and _acknowledged(engine) == []


def test_a_missing_token_is_refused_and_nothing_written(
    drift: Drift, web_as: WebAs, engine: Engine
) -> None:
    user = web_as(drift.staff.sd)
    notice_id = _ack_ids(user.get("/director").text)[0]
    for token in ("", "wrong-token"):
        response = user.post(
            f"/director/escalations/{notice_id}/acknowledge", {"comment": "done"}, csrf=token
        )
        assert response.status_code == 403
    assert _audit(engine) == [] and _acknowledged(engine) == []


def test_already_acknowledged_says_so(drift: Drift, web_as: WebAs, engine: Engine) -> None:
    user = web_as(drift.staff.sd)
    notice_id = _ack_ids(_group_of(user.get("/director").text, "C-0100"))[0]
    path = f"/director/escalations/{notice_id}/acknowledge"
    assert user.post(path, {"comment": "first"}).status_code == 303
    again = user.post(path, {"comment": "second"})
    assert again.status_code == 409
    assert '<a href="#open-escalations">This escalation has already been acknowledged' in again.text
    assert len(_audit(engine)) == 1


def test_a_service_manager_answers_their_own_rung(drift: Drift, web_as: WebAs) -> None:
    sm = drift.staff.sm
    page = web_as(sm).get("/director")
    assert page.status_code == 200
    for notice_id in _ack_ids(page.text):
        (row,) = [e for e in _open_escalation_rows(sm) if e["id"] == notice_id]
        assert row["recipient"] == "sm"


def test_other_roles_get_403(drift: Drift, web_as: WebAs, engine: Engine) -> None:
    for api in (drift.staff.sw, drift.staff.tm):
        user = web_as(api)
        page = user.get("/director")
        assert page.status_code == 403
        assert "You do not have access to this page" in page.text
        assert "C-0100" not in page.text
        notice_id = _open_escalation_rows(drift.staff.sd)[0]["id"]
        refused = user.post(f"/director/escalations/{notice_id}/acknowledge", {"comment": "x"})
        assert refused.status_code == 403
    assert _audit(engine) == [] and _acknowledged(engine) == []


def test_signed_out_goes_to_sign_in(app_client: Any) -> None:
    response = app_client.get("/director", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/director"


# -- set-based queries ---------------------------------------------------------------------------


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test is listening."""
    from sqlalchemy.engine import Engine as EngineClass

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(EngineClass, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(EngineClass, "before_cursor_execute", count)


def test_the_page_runs_the_same_queries_whatever_the_data(
    drift: Drift, web_as: WebAs, engine: Engine, policies: Policies, statements: list[str]
) -> None:
    user = web_as(drift.staff.sd)
    user.get("/director")  # warm: the session's last-seen write happens at most once a minute
    statements.clear()
    assert user.get("/director").status_code == 200
    few = len(statements)
    for n in range(6):
        _journey(drift.staff.sw, f"C-09{n:02d}", "permanence_planning", _ago(60 + n))
    sweep(engine, policies, today())
    statements.clear()
    html = user.get("/director").text
    assert _summary(html)["open escalations"] == 8
    assert len(statements) == few, statements


# -- the chart -----------------------------------------------------------------------------------


def _bars(svg: str) -> list[tuple[str, int]]:
    root = ET.fromstring(svg)
    return [
        (bar.attrib["data-label"], int(bar.attrib["data-value"]))
        for bar in root.iter(f"{SVG}rect")
        if bar.attrib.get("class") == "app-chart__bar"
    ]


def test_the_chart_has_a_bar_per_month_with_the_breaches(drift: Drift, web_as: WebAs) -> None:
    sd = drift.staff.sd
    html = web_as(sd).get("/director").text
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    bars = _bars(svg)
    months = month_starts(today())
    assert [label for label, _ in bars] == [f"{m:%b}\n{m:%Y}" for m in months]
    breaches = sd.get(f"/breaches?as_of={today().isoformat()}").json()
    due_months = Counter(date.fromisoformat(b["due_on"]).replace(day=1) for b in breaches)
    assert [value for _, value in bars] == [due_months.get(m, 0) for m in months]
    assert sum(value for _, value in bars) == 3
    # The same figures as a table, with met-late and still-open apart.
    table = html[html.index('id="breaches-table"') :]
    met = date.fromisoformat(next(b for b in breaches if b["status"] == "met_late")["due_on"])
    row = table[table.index(f">{met:%b %Y}</th>") :]
    cells = re.findall(r'numeric">(\d+)</td>', row)[:3]
    assert int(cells[0]) >= 1 and int(cells[2]) == due_months[met.replace(day=1)]


def test_bar_chart_is_valid_svg_with_escaped_text() -> None:
    svg = bar_chart(
        [("Jan\n2026", 0), ("Feb <&>", 3), ("Mar", 7)],
        title='Breaches & "drift" <per month>',
        description="Three months: 0, 3, 7.",
        x_label="Month",
        y_label="Deadlines missed",
        chart_id="test-chart",
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-labelledby"] == "test-chart-title"
    assert root.find(f"{SVG}title").text == 'Breaches & "drift" <per month>'  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Three months: 0, 3, 7."  # type: ignore[union-attr]
    assert _bars(svg) == [("Jan\n2026", 0), ("Feb <&>", 3), ("Mar", 7)]
    assert "style" not in svg
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    # Values above the bars, the axis titles and the wrapped month label are all drawn.
    assert {"0", "3", "7", "Month", "Deadlines missed", "Jan2026", "Feb <&>"} <= set(texts)
    heights = {b.attrib["data-label"]: float(b.attrib["height"]) for b in root.iter(f"{SVG}rect")}
    assert heights["Jan\n2026"] == 0 and heights["Mar"] > heights["Feb <&>"] > 0
    # The value axis's top is a round number at or above the largest value.
    ticks = [t for t in texts if t.isdigit()]
    assert "8" in ticks


def test_bar_chart_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        bar_chart([("a", -1)], title="t", description="d", x_label="x", y_label="y")
    with pytest.raises(ValueError):
        bar_chart([], title="t", description="d", x_label="x", y_label="y", chart_id='x" onload="')
    empty = ET.fromstring(bar_chart([], title="t", description="d", x_label="x", y_label="y"))
    assert list(empty.iter(f"{SVG}rect")) == []


@pytest.mark.parametrize(
    ("largest", "top", "step"),
    [(0, 1, 1), (1, 1, 1), (3, 3, 1), (7, 8, 2), (10, 10, 5), (45, 60, 20), (100, 100, 50)],
)
def test_nice_ceiling(largest: int, top: int, step: int) -> None:
    assert nice_ceiling(largest) == (top, step)


# -- pure rules ----------------------------------------------------------------------------------


def test_rag_status() -> None:
    friday = date(2026, 11, 20)
    assert rag_status(date(2026, 11, 19), friday) == "red"
    assert rag_status(friday, friday) == "amber"
    assert rag_status(date(2026, 11, 27), friday) == "amber"  # 5 working days on
    assert rag_status(date(2026, 11, 30), friday) == "green"


def test_month_starts_and_buckets() -> None:
    as_of = date(2026, 2, 10)
    starts = month_starts(as_of)
    assert starts[0] == date(2025, 3, 1) and starts[-1] == date(2026, 2, 1) and len(starts) == 12
    months = bucket_by_month(
        [
            (date(2026, 2, 3), "open", 2),
            (date(2026, 2, 9), "met", 1),
            (date(2025, 3, 31), "met", 4),
            (date(2025, 2, 28), "open", 9),  # before the window: not shown
        ],
        as_of,
    )
    assert [(m.month, m.met_late, m.still_open) for m in months if m.total] == [
        (date(2025, 3, 1), 4, 0),
        (date(2026, 2, 1), 1, 2),
    ]
    assert sum(m.total for m in months) == 7


# -- a panel meeting's own deadline -------------------------------------------------------------


def test_a_meeting_escalation_is_listed_without_a_child(
    make_user: UserFactory, web_as: WebAs, engine: Engine, policies: Policies
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post(
            "/panel/meetings/generate", {"start": (today() - timedelta(days=60)).isoformat()}
        )
    )
    held = [
        m
        for m in planner
        if date.fromisoformat(str(m["meeting_date"])) < today() - timedelta(days=21)
    ][-1]
    ok(
        cast.admin.post(
            f"/panel/meetings/{held['id']}/attendance",
            {"entries": [{"member_key": "chair", "status": "present"}]},
        )
    )
    sweep(engine, policies, today())
    user = web_as(cast.director)
    html = user.get("/director").text
    card = _section(html, "open-escalations", "deadlines")
    meeting_day = date.fromisoformat(str(held["meeting_date"]))
    assert f"Panel meeting {meeting_day.day} {meeting_day:%B %Y}: Panel minutes" in card
    assert "/children/" not in card
    (notice_id,) = _ack_ids(card)
    # A breach (the minutes are late) with no team: in the count, not in the breakdown.
    summary = _summary(html)
    assert summary["deadline missed"] == 1 and summary["open escalation"] == 1
    assert _cells(html) == {}
    assert "No deadline is overdue or due in the next 4 weeks" in html
    assert (
        "There are no open escalations for these filters" in user.get("/director?team=north").text
    )
    done = user.post(f"/director/escalations/{notice_id}/acknowledge", {"comment": "Chased"})
    assert done.status_code == 303
    assert "There are no open escalations." in user.get("/director").text


def test_the_level_filter_narrows_the_escalations_table(drift: Drift, web_as: WebAs) -> None:
    user = web_as(drift.staff.sd)
    everything = user.get("/director").text
    assert "C-0100" in _escalations_section(everything)
    # C-0100 reached the service director, so a team-manager-level filter leaves it out.
    narrowed = user.get("/director?level=team_manager").text
    assert "C-0100" not in _escalations_section(narrowed)
    kept = user.get("/director?level=service_director").text
    assert "C-0100" in _escalations_section(kept)
    # An unknown level is no filter.
    assert "C-0100" in _escalations_section(user.get("/director?level=nonsense").text)


def _escalations_section(html: str) -> str:
    """The page from the open escalations heading to the next section."""
    start = html.index('id="open-escalations"')
    return html[start : html.index('id="deadlines"', start)]
