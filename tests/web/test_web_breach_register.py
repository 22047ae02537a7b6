"""The breach register as a paged page, with its filters (issue 11 item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from notifications.policy import Policies
from notifications.sweep import sweep
from services.clock import today
from tests.conftest import Api, Staff
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]


def _rows(html: str) -> list[str]:
    if 'id="breach-register"' not in html:
        return []
    body = html.split('id="breach-register"', 1)[1].split("</tbody>", 1)[0]
    return body.split('<tr class="govuk-table__row" id="breach-')[1:]


def test_the_breach_register_pages_and_filters(
    staff: Staff, engine: Engine, policies: Policies, web_as: WebAs
) -> None:
    # 27 north children whose first looked-after review is weeks overdue.
    since = (today() - timedelta(days=70)).isoformat()
    for n in range(27):
        child = staff.sw.create_child(f"B-{n:03d}", looked_after_since=since)
        staff.sw.start(child["id"], "permanence_planning")
    sweep(engine, policies, today())
    director = web_as(staff.sd)
    first = director.get("/director/breaches")
    assert first.status_code == 200
    assert len(_rows(first.text)) == 25
    assert "Breaches 1 to 25" in first.text and "Still open" in first.text
    assert "Service director" in _rows(first.text)[0]  # the escalations it reached
    assert "/director/breaches?status=all&amp;page=2" in first.text
    second = director.get("/director/breaches?status=all&page=2")
    assert len(_rows(second.text)) == 2 and "Breaches 26 to 27" in second.text
    assert _rows(director.get("/director/breaches?team=south").text) == []
    assert _rows(director.get("/director/breaches?status=met_late").text) == []
    assert len(_rows(director.get("/director/breaches?status=open&team=north").text)) == 25
    assert 'href="/director/breaches"' in director.get("/director").text
    # The register is for the director and service managers only.
    assert web_as(staff.sw).get("/director/breaches").status_code == 403
