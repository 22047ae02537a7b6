"""The journeys added for issue 14 are drawn on the child page like the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.clock import today
from tests.conftest import Api
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]

STARTS: dict[str, tuple[dict[str, Any], str]] = {
    "connected_person_approval": ({}, "Temporarily approved (regulation 24)"),
    "reunification": (
        {"assessment_kind": "schedule_3", "assessment_due": "2099-01-01"},
        "Assessment started",
    ),
    "child_arrangements_order": ({}, "Child arrangements order proposed"),
}


@pytest.mark.parametrize("journey_type", list(STARTS))
def test_child_page_draws_the_new_journey(sw: Api, web_as: WebAs, journey_type: str) -> None:
    data, label = STARTS[journey_type]
    child = sw.create_child(f"NEW-{journey_type[:3].upper()}")
    started = (today() - timedelta(days=7)).isoformat()
    sw.start(child["id"], journey_type, started, data)
    page = web_as(sw).get(f"/children/{child['id']}")
    assert page.status_code == 200
    assert 'class="app-diagram"' in page.text and "<svg" in page.text
    assert label in page.text
