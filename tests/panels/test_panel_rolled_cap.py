"""The meeting page caps the items rolled forward it lists, with "and N more" (issue 12,
item 4: an agenda built from every cohort of a national-size authority rolls tens of
thousands); the agenda itself (the API's, the builder's) keeps every one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

import app.web.routes.panel_meeting as meeting_routes
from services.clock import today
from tests.conftest import Api, UserFactory
from tests.panel_support import Journeys, iso, ok, people
from tests.web_support import WebUser


@pytest.fixture(autouse=True)
def _wirral(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_PANEL", "wirral")


def test_the_page_lists_the_first_rolled_items_and_counts_the_rest(
    make_user: UserFactory,
    web_as: Callable[[Api], WebUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cast = people(make_user)
    planner = ok(
        cast.admin.post("/panel/meetings/generate", {"start": iso(today() - timedelta(days=150))})
    )
    first = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-5]
    factory = Journeys(cast.sw)
    for _ in range(12):
        factory.adoption()
    # Part 1 is 45 minutes at 5 minutes a child: 9 fit, 3 roll.
    agenda = ok(cast.admin.post(f"/panel/meetings/{first['id']}/agenda", {}))
    rolled = agenda["rolled"]
    assert len(rolled) == 3

    page = web_as(cast.admin)
    html = page.get(f"/panel/meetings/{first['id']}").text
    assert all(f'id="item-{r["id"]}"' in html for r in rolled)
    assert 'id="rolled-more"' not in html

    monkeypatch.setattr(meeting_routes, "ROLLED_SHOWN", 2)
    html = page.get(f"/panel/meetings/{first['id']}").text
    shown = [r for r in rolled if f'id="item-{r["id"]}"' in html]
    assert shown == rolled[:2]
    assert "And 1 more item rolled to the next meeting" in html
    # The API's agenda is not capped.
    assert len(ok(cast.admin.get(f"/panel/meetings/{first['id']}"))["agenda"]["rolled"]) == 3
