"""The care record's "to confirm" and "record and journeys disagree" lists (issue 13 item 5),
and what a later extract does to the journeys the import alone moved (closed through the
engine) and to those a person moved (left alone, and on the disagree list).

A first extract, people acting on some children's journeys, then a later extract in which
some children left care or their placement with parents ended."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.care_record import lists
from services.care_record.importer import import_return
from services.models import AUDIT_LOG, JOURNEY_EVENTS, JOURNEYS
from tests.conftest import Api, UserFactory
from tests.record_lists_support import (
    AS_OF,
    World,
    child_ids,
    first_extract,
    journey_of,
    later_extract,
    people_act,
)


@pytest.fixture
def world(engine: Engine, tmp_path: Path, make_user: UserFactory) -> World:
    first = first_extract(tmp_path / "one")
    report = import_return(engine, first.write(), as_of=AS_OF)
    assert report.children_rejected == 0, report.rejections
    w = World(
        child_ids(engine),
        make_user("sw.north", "social_worker", team="north"),
        make_user("sm", "service_manager"),
        make_user("sw.south", "social_worker", team="south"),
        first,
    )
    people_act(w)
    return w


def _to_confirm(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("/care-record/to-confirm", params={"as_of": AS_OF.isoformat(), **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ico(body: dict[str, Any]) -> list[str]:
    """The children listed for an interim care order without proceedings."""
    return [c["reference"] for c in body["children"] if c["reason"] == "ico_without_proceedings"]


def _disagreements(api: Api) -> dict[str, Any]:
    response = api.get("/care-record/disagreements", params={"as_of": AS_OF.isoformat()})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _states(engine: Engine, child_id: int) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(JOURNEYS.c.type, JOURNEYS.c.state, JOURNEYS.c.status).where(
                JOURNEYS.c.child_id == child_id
            )
        )
        return {r.type: (r.state, r.status) for r in rows}


class TestToConfirm:
    def test_an_interim_care_order_without_proceedings_is_listed_with_its_fact(
        self, world: World, engine: Engine
    ) -> None:
        body = _to_confirm(world.sw)
        assert body["as_of"] == AS_OF.isoformat()
        # ICOP left when the social worker started proceedings; ICOS is another team's.
        assert _ico(body) == ["ICO", "ICOD"]
        first = next(c for c in body["children"] if c["reason"] == "ico_without_proceedings")
        assert first == {
            "child_id": world.ids["ICO"],
            "reference": "ICO",
            "reason": "ico_without_proceedings",
            "fact": "Interim care order since 20 January 2026 on the care record; no care "
            "proceedings journey: record the proceedings' issue date.",
            "since": "2026-01-20",
            "journey_id": None,
            "deadlines": 0,
        }
        assert body["total"] == len(body["children"])

    def test_team_rules_as_for_children(self, world: World, make_user: UserFactory) -> None:
        south = _to_confirm(world.south)["children"]
        assert {c["reference"] for c in south} == {"ICOS"}
        assert _ico(_to_confirm(world.manager)) == [
            "ICO",
            "ICOD",
            "ICOS",
        ]
        sysadmin = make_user("sys", "sysadmin")
        assert sysadmin.get("/care-record/to-confirm").status_code == 403

    def test_nothing_to_confirm_takes_the_child_off_once_with_an_audited_reason(
        self, world: World, engine: Engine
    ) -> None:
        path = f"/care-record/to-confirm/{world.ids['ICOD']}/nothing-to-confirm"
        body = {"reason": "ico_without_proceedings", "note": "Proceedings are in Wales."}
        assert world.south.post(path, body).status_code == 403  # another team's child
        response = world.sw.post(path, body)
        assert response.status_code == 201, response.text
        assert response.json()["since"] == "2026-03-01"
        assert response.json()["version"] == 1
        assert _ico(_to_confirm(world.sw)) == ["ICO"]
        assert world.sw.post(path, body).status_code == 409
        assert world.sw.post(path, {**body, "note": ""}).status_code == 422
        not_listed = f"/care-record/to-confirm/{world.ids['CO']}/nothing-to-confirm"
        assert world.sw.post(not_listed, body).status_code == 404
        with engine.connect() as conn:
            row = conn.execute(
                select(AUDIT_LOG.c.actor_id, AUDIT_LOG.c.entity_id, AUDIT_LOG.c.details).where(
                    AUDIT_LOG.c.action == "care_record.nothing_to_confirm"
                )
            ).one()
        assert (row.actor_id, row.entity_id) == (world.sw.user_id, world.ids["ICOD"])
        assert row.details["since"] == "2026-03-01"

    def test_the_read_is_audited_naming_the_page_and_the_list_is_paged(
        self, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        whole = _to_confirm(world.sw)["children"]
        monkeypatch.setattr(lists, "PAGE_SIZE", 1)
        page2 = _to_confirm(world.sw, page=2)
        assert page2["children"] == whole[1:2]
        assert (page2["total"], page2["page"], page2["page_size"]) == (len(whole), 2, 1)
        with engine.connect() as conn:
            details = conn.execute(
                select(AUDIT_LOG.c.details)
                .where(AUDIT_LOG.c.action == "read.to_confirm")
                .order_by(AUDIT_LOG.c.id.desc())
            ).first()
        assert details is not None
        assert details[0]["child_ids"] == [whole[1]["child_id"]]


class TestLaterExtract:
    def test_disagreements_and_closures(self, world: World, engine: Engine, tmp_path: Path) -> None:
        # Before the later extract: only the care order against open proceedings.
        before = _disagreements(world.sw)
        assert [(c["reference"], c["reason"]) for c in before["children"]] == [
            ("CO", "care_order_proceedings_open")
        ]
        files = later_extract(world.first, tmp_path / "two").write()
        report = import_return(engine, files, as_of=AS_OF)
        assert report.children_rejected == 0, report.rejections
        ids = world.ids
        # The journeys the import alone moved are closed through the engine ...
        assert _states(engine, ids["LEFTI"])["permanence_planning"] == ("ceased", "closed")
        assert _states(engine, ids["PWPI"])["placed_with_parents"] == (
            "placement_ended",
            "closed",
        )
        # ... those a person moved are left as they were.
        assert _states(engine, ids["LEFT"])["permanence_planning"] == ("plan_recorded", "active")
        assert _states(engine, ids["PWP"])["placed_with_parents"] == ("placed", "active")
        assert _states(engine, ids["POX"])["adoption"] == ("plan_considered", "active")
        with engine.connect() as conn:
            ceased = conn.execute(
                select(JOURNEY_EVENTS.c.occurred_on, JOURNEY_EVENTS.c.data)
                .join(JOURNEYS, JOURNEYS.c.id == JOURNEY_EVENTS.c.journey_id)
                .where(
                    JOURNEYS.c.child_id == ids["LEFTI"],
                    JOURNEY_EVENTS.c.event == "cease_looked_after",
                )
            ).one()
        assert ceased.occurred_on == date(2026, 10, 1)
        assert ceased.data["reason"] == "returned_home"
        assert ceased.data["import_id"] == report.import_id

        body = _disagreements(world.sw)
        rows = {c["reference"]: c for c in body["children"]}
        assert [(c["reference"], c["reason"]) for c in body["children"]] == [
            ("CO", "care_order_proceedings_open"),
            ("POX", "adoption_behind_placement_order"),
            ("PWP", "placed_with_parents_ended"),
            ("LEFT", "care_ended_planning_open"),
        ]
        assert rows["POX"]["record"] == "Placement order since 1 July 2026."
        assert rows["POX"]["journey"].endswith(": Adoption plan being considered.")
        assert rows["LEFT"]["record"] == (
            "Left care on 1 October 2026: Returned home to parents as part of the care plan."
        )
        assert rows["PWP"]["record"].startswith("Placement with parents ended on 1 September 2026")
        assert rows["CO"]["journey_id"] == journey_of(world.sw, ids["CO"], "care_proceedings")["id"]
        assert _disagreements(world.south)["children"] == []

        # Nothing twice: the same later extract again records no event.
        again = import_return(engine, files, as_of=AS_OF)
        assert (again.journeys_started, again.events_recorded) == (0, 0)
