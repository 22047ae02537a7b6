"""The care record's work list pages (issue 13 item 5): linked from My work with a count for
social workers and team managers; the "to confirm" list with its links and the "nothing to
confirm" form (an error without a reason, then the child leaves the list); the disagree list."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from services.care_record.importer import import_return
from services.models import JOURNEYS
from tests.conftest import Api, UserFactory
from tests.record_lists_support import AS_OF, child_ids, first_extract
from tests.services.care_record.test_journeys import adopted_return
from tests.web_support import WebUser


def _listed(html: str, words: str) -> list[str]:
    """The children of the "to confirm" rows whose fact has ``words``, in order."""
    rows = html.split('<tr class="govuk-table__row">')[2:]
    return [re.findall(r'href="/children/\d+">(\w+)</a>', row)[0] for row in rows if words in row]


def test_the_lists_from_my_work_and_nothing_to_confirm(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    sw_api = make_user("sw.north", "social_worker", team="north")
    sm = web_as(make_user("sm", "service_manager"))
    import_return(engine, first_extract(tmp_path).write(), as_of=AS_OF)
    ids = child_ids(engine)
    sw_api.start(ids["CO"], "care_proceedings", started_on="2026-01-05")
    sw = web_as(sw_api)

    my_work = sw.get("/my-work").text
    assert 'href="/care-record/to-confirm"' in my_work
    assert re.search(r"journeys disagree</a> \(1\)", my_work)
    assert "record-lists" not in sm.get("/my-work").text  # not a social worker's list

    listing = sw.get("/care-record/to-confirm")
    assert listing.status_code == 200, listing.text
    # ICO, ICOP and ICOD in team north (ICOS is south's); CO's proceedings disagree.
    assert _listed(listing.text, "Interim care order since") == ["ICO", "ICOP", "ICOD"]
    # Every north child's journeys have deadlines due before the import's day.
    north = sorted(c for c in ids if c != "ICOS")
    assert sorted(_listed(listing.text, "fell due before the child")) == north
    assert f"({len(north)} children)" in my_work  # the count: children, not rows
    assert f'href="/children/{ids["ICO"]}#before-service-title"' in listing.text
    assert f'href="/children/{ids["ICO"]}/journeys/new?type=care_proceedings"' in listing.text
    assert "20 January 2026" in listing.text and "2026-01-20" not in listing.text
    path = f"/care-record/to-confirm/{ids['ICOD']}/ico_without_proceedings"
    assert sw.get(path).status_code == 200

    empty = sw.post(path, {"note": "  "})
    assert empty.status_code == 422
    assert "Say why there is nothing to confirm." in empty.text
    done = sw.post(path, {"note": "The order was made in Wales; proceedings are there."})
    assert done.status_code == 303
    assert done.headers["location"] == "/care-record/to-confirm?done=dismissed"
    after = sw.get("/care-record/to-confirm?done=dismissed").text
    assert "Recorded" in after and "ICOD" not in _listed(after, "Interim care order")
    assert sw.get("/care-record/to-confirm/1/no_such_reason").status_code == 404
    # A deadline is recorded on its own page, not as "nothing to confirm".
    deadlines = f"/care-record/to-confirm/{ids['ICO']}/deadline_before_service"
    assert sw.get(deadlines).status_code == 404

    disagree = sw.get("/care-record/disagreements")
    assert disagree.status_code == 200
    assert "Full care order since 1 January 2026." in disagree.text
    assert "/journeys/" in disagree.text


def test_the_adopted_child_links_to_its_adoption_journey(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], engine: Engine, tmp_path: Path
) -> None:
    sm = web_as(make_user("sm", "service_manager"))
    import_return(engine, adopted_return(tmp_path).write(), as_of=AS_OF)
    with engine.connect() as conn:
        journey = conn.execute(
            select(JOURNEYS.c.id).where(JOURNEYS.c.type == "adoption")
        ).scalar_one()
    listing = sm.get("/care-record/to-confirm")
    assert listing.status_code == 200, listing.text
    [row] = [r for r in listing.text.split("<tr") if "ends the period of care" in r]
    assert "1 September 2026: Adopted: application unopposed" in row
    assert f'href="/journeys/{journey}"' in row
    assert "Record the application on the adoption journey" in row
    assert "Nothing to confirm" in row  # a person may find the adoption recorded elsewhere
