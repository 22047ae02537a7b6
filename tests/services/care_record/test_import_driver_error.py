"""A child whose journeys the database refuses to store is rejected alone: the driver's own
error (the new child's journeys are written on the driver's cursor, services.journey_batch)
is caught as SQLAlchemy's is, so the child's rows go and the rest of the import stands.

The refusal is the database's own: a trigger on the journey table that refuses one child's
journeys, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from services.care_record.importer import import_return
from services.care_record.models import CARE_CHILDREN
from services.db import read_connection
from services.models import CHILDREN, JOURNEYS
from tests.services.care_record.support import AS_OF
from tests.services.care_record.test_journeys import small_return

REFUSED = "PP1"


@pytest.fixture
def refusing_trigger(engine: Engine) -> Iterator[None]:
    """The journey table refuses the journeys of child ``PP1`` (dropped afterwards)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_pp1() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN IF (SELECT reference FROM child WHERE id = NEW.child_id) = "
                    f"'{REFUSED}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_pp1 BEFORE INSERT ON journey "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_pp1()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_pp1 BEFORE INSERT ON journey WHEN "
                    f"(SELECT reference FROM child WHERE id = NEW.child_id) = '{REFUSED}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_pp1" + (" ON journey" if postgres else "")))
            if postgres:
                conn.execute(text("DROP FUNCTION refuse_pp1()"))


@pytest.mark.usefixtures("refusing_trigger")
def test_a_child_the_database_refuses_is_rejected_alone(engine: Engine, tmp_path: Path) -> None:
    report = import_return(engine, small_return(tmp_path).write(), as_of=AS_OF)

    assert report.children_rejected == 1
    (rejection,) = [r for r in report.rejections if r.child_id == REFUSED]
    assert rejection.column == "CHILD"
    assert rejection.reason.startswith("could not be stored (")
    assert "refused by the test" not in rejection.reason  # the driver's words are not shown
    assert report.children_created == 7
    with read_connection(engine) as conn:
        references = set(conn.execute(select(CHILDREN.c.reference)).scalars())
        care_children = conn.execute(select(func.count()).select_from(CARE_CHILDREN)).scalar()
        journeys = conn.execute(select(func.count()).select_from(JOURNEYS)).scalar()
    # None of the refused child's rows, all of the others'.
    assert REFUSED not in references and len(references) == 7
    assert care_children == 7
    assert journeys == report.journeys_started > 0
