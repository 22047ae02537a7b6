"""Input a database would refuse, or that cannot be true of a child in care, is refused first.

Issue 10 items 1 and 6: a NUL character anywhere, a number beyond the database's integer, a
date written as a number, an implausible date of birth or looked-after date, a name of only
spaces: each gets a 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from services.clock import today
from services.models import AUDIT_LOG, CHILDREN
from tests.conftest import Api
from tests.web_support import WebUser


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        children = conn.execute(select(func.count()).select_from(CHILDREN)).scalar_one()
        audit = conn.execute(
            select(func.count())
            .select_from(AUDIT_LOG)
            .where(AUDIT_LOG.c.action.not_in(("sign_in", "sign_in_failed")))
        ).scalar_one()
    return children, audit


def _child(**overrides: Any) -> dict[str, Any]:
    return {
        "reference": "BAD-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "2019-04-01",
        **overrides,
    }


def _refused(response: Any, *fields: str) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert [e.split(":")[0] for e in body["errors"]] == list(fields)
    return list(body["errors"])


def test_a_nul_in_a_body_field_is_refused_naming_it(sw: Api, engine: Engine) -> None:
    before = _counts(engine)
    errors = _refused(sw.post("/children", _child(family_name="Love\x00lace")), "family_name")
    assert errors == ["family_name: must not contain a NUL character"]
    assert _counts(engine) == before


def test_a_nul_deep_in_event_data_is_refused_naming_its_path(sw: Api, engine: Engine) -> None:
    child = sw.create_child("BAD-2")
    journey = sw.start(child["id"], "sgo", "2025-09-01", {"court_filing_due": "2026-03-31"})
    response = sw.post(
        f"/journeys/{journey['id']}/events",
        {
            "event": "start_assessment",
            "expected_version": journey["version"],
            "data": {"notes": ["fine", "bad\x00"]},
        },
    )
    _refused(response, "data.notes.1")
    assert sw.reload(journey)["version"] == journey["version"]


def test_an_escaped_backslash_before_u0000_is_no_nul(sw: Api) -> None:
    # The JSON text \\u0000 is a backslash followed by "u0000": a harmless name.
    created = sw.post("/children", _child(reference="BAD-3", given_name="A\\u0000B"))
    assert created.status_code == 201, created.text
    assert created.json()["given_name"] == "A\\u0000B"


def test_a_nul_in_the_search_term_is_refused_naming_the_parameter(sw: Api) -> None:
    response = sw.get("/children", params={"q": "Love\x00"})
    assert _refused(response, "q") == ["q: must not contain a NUL character"]


def test_a_nul_in_a_page_form_is_a_422_page_and_writes_nothing(
    sw: Api, engine: Engine, web_as: Callable[[Api], WebUser]
) -> None:
    web = web_as(sw)
    before = _counts(engine)
    page = web.post(
        "/children/new",
        {
            "reference": "BAD-4",
            "given_name": "Ada\x00",
            "family_name": "Lovelace",
            "date_of_birth-day": "1",
            "date_of_birth-month": "4",
            "date_of_birth-year": "2019",
        },
    )
    assert page.status_code == 422  # as any other invalid page form
    assert "text/html" in page.headers["content-type"]
    assert _counts(engine) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allocated_social_worker_id": 2**70}, "allocated_social_worker_id"),
        ({"allocated_social_worker_id": 2**31}, "allocated_social_worker_id"),
        ({"allocated_social_worker_id": 0}, "allocated_social_worker_id"),
    ],
)
def test_ids_beyond_the_database_integer_are_refused(
    sw: Api, engine: Engine, body: dict[str, Any], field: str
) -> None:
    before = _counts(engine)
    _refused(sw.post("/children", _child(**body)), field)
    assert _counts(engine) == before


def test_a_version_beyond_the_database_integer_is_refused(sw: Api) -> None:
    child = sw.create_child("BAD-5")
    response = sw.patch(f"/children/{child['id']}", {"expected_version": 2**63, "given_name": "X"})
    _refused(response, "expected_version")
    assert sw.get(f"/children/{child['id']}").json()["version"] == 1


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"date_of_birth": 0}, "date_of_birth", "must be a date written as YYYY-MM-DD"),
        ({"date_of_birth": "1654646400"}, "date_of_birth", "must be a date written as YYYY-MM-DD"),
        (
            {"date_of_birth": (today() + timedelta(days=1)).isoformat()},
            "date_of_birth",
            "must be today or in the past",
        ),
        (
            {"date_of_birth": "1990-01-01"},
            "date_of_birth",
            "must be within the last 25 years for a child in care",
        ),
        (
            {"looked_after_since": "2019-03-31"},
            "looked_after_since",
            "must be the same as or after the date of birth",
        ),
        (
            {"looked_after_since": (today() + timedelta(days=3)).isoformat()},
            "looked_after_since",
            "must be today or in the past",
        ),
        ({"given_name": "   "}, "given_name", "must not be only spaces"),
        ({"family_name": " \t "}, "family_name", "must not be only spaces"),
    ],
)
def test_implausible_child_details_are_refused_naming_the_field(
    sw: Api, engine: Engine, overrides: dict[str, Any], field: str, problem: str
) -> None:
    before = _counts(engine)
    errors = _refused(sw.post("/children", _child(**overrides)), field)
    assert errors == [f"{field}: Value error, {problem}"]
    assert _counts(engine) == before


def test_a_number_for_a_journey_date_is_refused(sw: Api) -> None:
    child = sw.create_child("BAD-6")
    response = sw.post(f"/children/{child['id']}/journeys", {"type": "sgo", "started_on": 0})
    _refused(response, "started_on")


def test_an_edit_cannot_put_looked_after_before_the_stored_birth(sw: Api) -> None:
    child = sw.create_child("BAD-7", date_of_birth="2018-06-01")
    response = sw.patch(
        f"/children/{child['id']}", {"expected_version": 1, "looked_after_since": "2018-05-31"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        "looked_after_since: must be the same as or after the date of birth"
    ]
    assert sw.get(f"/children/{child['id']}").json()["version"] == 1
    fine = sw.patch(
        f"/children/{child['id']}", {"expected_version": 1, "looked_after_since": "2018-06-01"}
    )
    assert fine.status_code == 200, fine.text
