"""The child page's care record: a timeline of legal status and placement, labels not
codes, dates in words, each move marked; a table with the same facts; one audited read."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.db import read_connection
from services.models import AUDIT_LOG, CHILDREN
from tests.conftest import Api, UserFactory
from tests.record_support import timeline_return
from tests.services.care_record.support import AS_OF
from tests.web_support import WebUser


def _section(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}".*?</(ol|table|section)>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(0)


def test_the_child_page_shows_the_care_record_as_a_timeline(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    import_return(engine, timeline_return(tmp_path).write(), as_of=AS_OF)
    with read_connection(engine) as conn:
        child = conn.execute(
            select(CHILDREN.c.id).where(CHILDREN.c.reference == "REC-A1")
        ).scalar_one()

    page = web_as(sw).get(f"/children/{child}")

    assert page.status_code == 200, page.text
    timeline = _section(page.text, "care-timeline")
    items = re.findall(r'<li class="app-timeline__item[^"]*">', timeline)
    assert len(items) == 3
    assert "10 April 2024 to 1 September 2024" in timeline
    assert "1 February 2025 to now" in timeline
    assert "Interim care order" in timeline and "Full care order" in timeline
    assert timeline.count("Moved placement") == 1
    assert "Came into care" in timeline and "Legal status changed" in timeline
    # Labels, never the bare codes.
    for code in (">C1<", ">C2<", ">U4<", ">U1<", ">PN1<", ">X1<"):
        assert code not in page.text
    table = _section(page.text, "care-record-table")
    assert table.count('<tr class="govuk-table__row">') == 4  # the heading row and three
    assert "(a move)" in table
    assert "1 October 2024: Child attended and spoke for themselves" in page.text
    assert "Should be placed for adoption: decided 1 March 2025" in page.text
    with read_connection(engine) as conn:
        reads = conn.execute(select(AUDIT_LOG).where(AUDIT_LOG.c.action.like("read.%"))).all()
    # The page's reads are one row, the care record among its parts.
    assert [r.action for r in reads] == ["read.child_page"]
    assert "care_record" in reads[0].details["parts"]


def test_a_child_without_a_record_says_so(
    make_user: UserFactory, web_as: Callable[[Api], WebUser]
) -> None:
    sw = make_user("sw.north", "social_worker", team="north")
    child = sw.create_child("HAND-1")

    page = web_as(sw).get(f"/children/{child['id']}")

    assert page.status_code == 200
    assert "No care record has been imported for this child" in page.text
    assert 'id="care-timeline"' not in page.text
