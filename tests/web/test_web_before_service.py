"""The child page shows an imported journey's deadlines from before the service, and the
form records one met (with its date) or missed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from services.care_record.importer import import_return
from tests.conftest import Api, Staff
from tests.services.care_record.support import AS_OF
from tests.services.care_record.test_before_service import (
    before_service_return,
    child_pk,
    deadlines,
)
from tests.web_support import WebUser


def _imported(engine: Engine, tmp_path: Path) -> int:
    import_return(engine, before_service_return(tmp_path).write(), as_of=AS_OF)
    return child_pk(engine, "REF-OLD")


def test_the_child_page_lists_them_and_marks_them_in_the_journey(
    engine: Engine, staff: Staff, web_as: Callable[[Api], WebUser], tmp_path: Path
) -> None:
    child = _imported(engine, tmp_path)
    page = web_as(staff.sw).get(f"/children/{child}")
    assert page.status_code == 200, page.text
    section = re.search(r'id="before-service-deadlines".*?</table>', page.text, re.S)
    assert section, "no deadlines from before the service"
    second = deadlines(engine, "REF-OLD")["second_review"]
    assert "Second looked-after review" in section.group(0)
    assert "20 June 2025" in section.group(0)  # a date in words
    assert f"/children/{child}/deadlines/{second.id}/confirm" in section.group(0)
    assert "Before the service: to confirm" in page.text
    # The child with nothing from before the service has no such section.
    other = web_as(staff.sw).get(f"/children/{child_pk(engine, 'REF-NEW')}")
    assert 'id="before-service-deadlines"' not in other.text


def test_recording_one_met_and_one_missed(
    engine: Engine, staff: Staff, web_as: Callable[[Api], WebUser], tmp_path: Path
) -> None:
    child = _imported(engine, tmp_path)
    sw = web_as(staff.sw)
    old = deadlines(engine, "REF-OLD")
    second, plan = old["second_review"], old["permanence_plan"]
    url = f"/children/{child}/deadlines/{second.id}/confirm"
    form = sw.get(url)
    assert form.status_code == 200
    assert "Second looked-after review: what happened?" in form.text

    nothing = sw.post(url, {})
    assert nothing.status_code == 422
    assert "Select whether the deadline was met or missed" in nothing.text
    undated = sw.post(url, {"outcome": "met"})
    assert undated.status_code == 422 and "Enter the date it was met" in undated.text
    assert deadlines(engine, "REF-OLD")["second_review"].status == "open"

    met = sw.post(
        url, {"outcome": "met", "met_on-day": "1", "met_on-month": "7", "met_on-year": "2025"}
    )
    assert met.status_code == 303, met.text
    assert met.headers["location"] == f"/children/{child}?done=deadline-confirmed"
    assert "Deadline recorded" in sw.get(met.headers["location"]).text
    after = deadlines(engine, "REF-OLD")["second_review"]
    assert (after.status, after.met_on.isoformat()) == ("met", "2025-07-01")
    assert sw.get(url).status_code == 404  # recorded: no longer to confirm

    missed = sw.post(f"/children/{child}/deadlines/{plan.id}/confirm", {"outcome": "missed"})
    assert missed.status_code == 303
    row = deadlines(engine, "REF-OLD")["permanence_plan"]
    assert (row.status, row.before_service) == ("open", False)
    page = sw.get(f"/children/{child}")
    assert 'id="before-service-deadlines"' not in page.text


def test_another_team_cannot_see_or_record_it(
    engine: Engine, staff: Staff, web_as: Callable[[Api], WebUser], tmp_path: Path
) -> None:
    child = _imported(engine, tmp_path)
    second = deadlines(engine, "REF-OLD")["second_review"]
    south = web_as(staff.tm_south)
    url = f"/children/{child}/deadlines/{second.id}/confirm"
    assert south.get(url).status_code == 403
    assert south.post(url, {"outcome": "missed"}).status_code == 403
    assert deadlines(engine, "REF-OLD")["second_review"].before_service is True


def test_my_work_shows_how_many_wait_with_a_link_to_each(
    engine: Engine, staff: Staff, web_as: Callable[[Api], WebUser], tmp_path: Path
) -> None:
    child = _imported(engine, tmp_path)
    waiting = sorted(
        (r for r in deadlines(engine, "REF-OLD").values() if r.before_service),
        key=lambda r: (r.due_on, r.id),
    )
    page = web_as(staff.sw).get("/my-work").text  # the social worker's own caseload
    count = re.search(r'id="before-service-count">(.*?)</p>', page, re.S)
    assert count, "no count of deadlines from before the service"
    assert count.group(1).startswith(f"{len(waiting)} deadlines of 1 child fell due before")
    links = re.findall(r'href="/children/(\d+)/deadlines/(\d+)/confirm"', page)
    assert links == [(str(child), str(r.id)) for r in waiting]
    assert "20 June 2025" in page and "2025-06-20" not in page
    # Another team's manager sees none of them.
    assert 'id="before-service"' not in web_as(staff.tm_south).get("/my-work").text
    # Recorded: the count goes down, the link goes.
    sw = web_as(staff.sw)
    url = f"/children/{child}/deadlines/{waiting[0].id}/confirm"
    assert sw.post(url, {"outcome": "missed"}).status_code == 303
    after = sw.get("/my-work").text
    assert f"/deadlines/{waiting[0].id}/confirm" not in after
    assert f"{len(waiting) - 1} deadline" in after
