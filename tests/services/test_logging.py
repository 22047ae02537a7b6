"""No child's name or date of birth on any log line, across a whole journey."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date

import pytest
import structlog
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from services.clock import now_utc
from services.logging import WITHHELD, allow_list
from services.models import CHILDREN
from tests.conftest import Api
from tests.log_support import root_log_output

GIVEN = "Zebedee"
FAMILY = "Quillfeather"
DOB = "2017-09-13"


@pytest.fixture
def log_output(sw: Api) -> Iterator[io.StringIO]:
    """Everything the root logger writes, formatted exactly as the service formats it."""
    del sw  # started: services.logging.configure has installed the root handler
    with root_log_output() as buffer:
        yield buffer


def test_full_journey_logs_carry_no_name_or_birth_date(
    sw: Api, adm: Api, log_output: io.StringIO
) -> None:
    child = sw.create_child(
        "LOG-1",
        given_name=GIVEN,
        family_name=FAMILY,
        date_of_birth=DOB,
        looked_after_since="2025-01-06",
    )
    journey = sw.start(child["id"], "adoption")
    steps = [
        (sw, "link_raa", "2025-02-03", {"raa": "Adoption North"}),
        (sw, "complete_cpr", "2025-03-03", {}),
        (adm, "decide_sbpfa", "2025-03-10", {}),
        (sw, "grant_placement_order", "2025-04-07", {}),
        (sw, "propose_match", "2025-05-05", {"adopters_reference": "AD-9"}),
        (adm, "approve_match", "2025-05-12", {}),
        (sw, "move_in", "2025-06-02", {}),
        (sw, "lodge_application", "2025-08-11", {}),
        (sw, "grant_adoption_order", "2025-10-06", {}),
    ]
    for actor, event, on, data in steps:
        journey = actor.fire(journey, event, on, data)
    assert journey["state"] == "adopted"
    # Searching by name puts the name in the query string: it must not reach the log.
    found = sw.get("/children", params={"q": FAMILY}).json()
    assert [c["reference"] for c in found] == ["LOG-1"]
    # A refused write and a validation error log too.
    sw.fire(journey, "change_plan", "2025-10-07", {"reason": FAMILY}, expect=409)

    output = log_output.getvalue()
    lines = [line for line in output.splitlines() if line.strip()]
    assert any('"path": "/api/v1/children"' in line for line in lines), "request lines logged"
    assert len([line for line in lines if '"event": "request"' in line]) >= len(steps) + 3
    for needle in (GIVEN, FAMILY, DOB):
        assert needle not in output
    for line in lines:
        record = json.loads(line)  # JSON lines in production format
        if record["event"] == "request":
            assert record["request_id"]


def test_allow_list_withholds_unknown_keys() -> None:
    event = {"event": "x", "child_id": 3, "given_name": GIVEN, "date_of_birth": DOB}
    out = allow_list(None, "info", event)
    assert out["child_id"] == 3
    assert out["given_name"] == WITHHELD
    assert out["date_of_birth"] == WITHHELD


def test_standard_library_records_go_through_the_allow_list(log_output: io.StringIO) -> None:
    logging.getLogger("some.library").warning("hello", extra={"family_name": FAMILY})
    structlog.get_logger("ours").info("thing", family_name=FAMILY, child_id=1)
    output = log_output.getvalue()
    assert FAMILY not in output
    assert WITHHELD in output


def _failed_insert(engine: Engine) -> IntegrityError:
    """A real database error on a statement whose parameters hold a name and a birth date."""
    row = {
        "reference": "LOG-DUP",
        "given_name": GIVEN,
        "family_name": FAMILY,
        "date_of_birth": date.fromisoformat(DOB),
        "team": "north",
        "version": 1,
        "created_at": now_utc(),
        "updated_at": now_utc(),
    }
    with engine.begin() as conn:
        conn.execute(insert(CHILDREN).values(**row))
    try:
        with engine.begin() as conn:
            conn.execute(insert(CHILDREN).values(**row))
    except IntegrityError as exc:
        return exc
    raise AssertionError("the duplicate reference was accepted")


def test_database_errors_carry_no_statement_parameters(engine: Engine) -> None:
    error = _failed_insert(engine)
    assert FAMILY not in str(error)
    assert DOB not in str(error)


def test_an_exception_is_logged_by_type_and_frames_never_its_message(
    engine: Engine, sw: Api, log_output: io.StringIO
) -> None:
    error = _failed_insert(engine)
    try:
        raise RuntimeError(f"while filing for {FAMILY}") from error
    except RuntimeError:
        structlog.get_logger("ours").exception("filing_failed")
        # uvicorn logs an application's exception through the standard library like this.
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    structlog.get_logger("ours").error("explained", exception=f"{FAMILY} {DOB}")
    output = log_output.getvalue()
    for needle in (GIVEN, FAMILY, DOB, "LOG-DUP"):
        assert needle not in output
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    failures = ("filing_failed", "Exception in ASGI application")
    logged = [r for r in records if r["event"] in failures]
    assert len(logged) == 2
    for record in logged:
        assert "sqlalchemy.exc.IntegrityError: [SQL: INSERT INTO child" in record["exception"]
        assert "builtins.RuntimeError: [withheld]" in record["exception"]
        assert "test_logging.py" in record["exception"]
    explained = next(r for r in records if r["event"] == "explained")
    assert explained["exception"] == WITHHELD
