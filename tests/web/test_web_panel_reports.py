"""The panel's pages beyond the meeting (issue 11 item 7): open actions across meetings with
their filters, the themes and annual report, and a child's panel history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from services.clock import today
from tests.conftest import Api, UserFactory
from tests.panel_support import held_meeting_with_referrals, iso, ok, people
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]


def _decided_with_actions(make_user: UserFactory) -> tuple[Any, dict[str, Any], list[Any]]:
    """A held meeting whose two items were decided, one action overdue and one not, and
    whose minutes were approved."""
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast)
    mid = ready.meeting["id"]
    agenda = ok(cast.admin.post(f"/panel/meetings/{mid}/agenda", {}))
    items = agenda["parts"][0]["items"]
    dues = [today() - timedelta(days=3), today() + timedelta(days=10)]
    for item, due, words in zip(items, dues, ("Overdue report", "Future visit"), strict=True):
        ok(
            cast.chair.post(
                f"/panel/items/{item['id']}/decision",
                {
                    "outcome": "recommend",
                    "meets_needs": "will",
                    "notes": "A stable match",
                    "actions": [{"description": words, "due_on": iso(due)}],
                },
            ),
            201,
        )
    minutes = ok(cast.admin.post(f"/panel/meetings/{mid}/minutes"))
    ok(
        cast.admin.post(
            f"/panel/meetings/{mid}/minutes/approve",
            {"approved_on": iso(min(today(), date.fromisoformat(minutes["minutes_due_on"])))},
        )
    )
    return cast, ready.meeting, items


def test_open_actions_page_filters_by_owner_team_and_overdue(
    make_user: UserFactory, web_as: WebAs
) -> None:
    cast, _meeting, _items = _decided_with_actions(make_user)
    web = web_as(cast.admin)
    page = web.get("/panel/actions")
    assert page.status_code == 200
    assert "Overdue report" in page.text and "Future visit" in page.text
    assert "2 of 2 open actions shown" in page.text
    overdue = web.get("/panel/actions?overdue=1")
    assert "Overdue report" in overdue.text and "Future visit" not in overdue.text
    assert "1 of 2 open actions shown" in overdue.text
    mine = web.get(f"/panel/actions?owner={cast.sw.user_id}&team=north")
    assert "2 of 2 open actions shown" in mine.text
    nobody = web.get("/panel/actions?team=south")
    assert "0 of 2 open actions shown" in nobody.text
    assert "No open actions match these filters" in nobody.text


def test_reports_page_shows_themes_and_the_annual_report(
    make_user: UserFactory, web_as: WebAs
) -> None:
    cast, _meeting, _items = _decided_with_actions(make_user)
    web = web_as(cast.admin)
    page = web.get("/panel/reports")
    assert page.status_code == 200
    decisions = page.text.split('id="themes-decisions"', 1)[1].split("</table>", 1)[0]
    assert "Recommend" in decisions and ">2<" in decisions
    assert f'<dd class="govuk-summary-list__value">{today().year}</dd>' in page.text
    bad = web.get(
        "/panel/reports?from-day=5&from-month=5&from-year=2026&to-day=1&to-month=1&to-year=2026"
    )
    assert bad.status_code == 422
    assert "End date must be the same as or after the start date" in bad.text
    assert web.get("/panel/reports?year=1999").status_code == 422
    # The reports are the panel's and the senior managers': not a social worker's.
    assert web_as(cast.sw).get("/panel/reports").status_code == 403


def test_a_childs_panel_history_page_shows_the_decision_and_actions(
    make_user: UserFactory, web_as: WebAs
) -> None:
    cast, meeting, items = _decided_with_actions(make_user)
    child_id = items[0]["child_id"]
    web = web_as(cast.sw)
    assert f'href="/panel/children/{child_id}/history"' in web.get(f"/children/{child_id}").text
    page = web.get(f"/panel/children/{child_id}/history")
    assert page.status_code == 200
    assert "Recommend" in page.text and "A stable match" in page.text
    assert "Overdue report" in page.text
    assert f'href="/panel/meetings/{meeting["id"]}"' in page.text
    south = web_as(make_user("sw.south", "social_worker", team="south"))
    assert south.get(f"/panel/children/{child_id}/history").status_code == 403
