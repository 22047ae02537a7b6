"""The demo (``permanence serve --demo``) shows children with a care record and every cohort
filled (issue 13 item 8's "done when"): its synthetic return goes through the real importer."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from app.demo import seed
from services import cohorts
from services.care_record.models import CARE_CHILDREN, CARE_IMPORTS
from services.clock import today
from services.db import read_connection
from services.journeys import JourneyService


def test_every_cohort_has_a_child_in_the_demo(
    engine: Engine, journey_service: JourneyService
) -> None:
    assert seed(engine, journey_service)
    with read_connection(engine) as conn:
        found = cohorts.compute(conn, today())
        recorded = conn.execute(select(func.count()).select_from(CARE_CHILDREN)).scalar_one()
        imports = conn.execute(select(func.count()).select_from(CARE_IMPORTS)).scalar_one()
    empty = [name for name, members in found.items() if not members]
    assert empty == []
    assert recorded == 24 + 3 and imports == 1
