"""The agenda draws its cohorts from the care record (issue 13 item 6): Sefton's unregulated
placements and placement stability, and Wirral's Part 3 (drift), for children known only from
the return (no journey yet)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

import states
from panels.config import load_panel
from panels.results import Agenda
from panels.service import PanelService
from services.access import Principal
from services.care_record.importer import import_return
from services.config import Settings
from services.users import create_user
from tests.services.test_cohorts import AS_OF, EXPECTED, the_return


def agenda(engine: Engine, settings: Settings, tmp_path: Path, panel: str) -> Agenda:
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0
    user_id = create_user(
        engine, username="admin", password="pw-123456789", roles=("panel_admin",), team=None
    )
    admin = Principal(user_id, "admin", frozenset({"panel_admin"}), None)
    service = PanelService(engine, states.build_registry(), load_panel(panel), settings.policy())
    meeting = service.generate(admin, AS_OF)[0]
    return service.build_agenda(meeting.id, admin, as_of=AS_OF)


def by_cohort(built: Agenda, part: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    items = [i for p in built.parts if p.key == part for i in p.items]
    items += [i for i in built.rolled if i.part == part]
    for item in items:
        for cohort in item.cohorts:
            out.setdefault(cohort, set()).add(item.child_reference)
    return out


def test_seftons_unregulated_and_stability_part_comes_from_the_record(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    built = agenda(engine, settings, tmp_path, "sefton")
    found = by_cohort(built, "unregulated_stability")
    assert found["unregulated_placements"] == {"UNREG"}
    assert found["placement_stability"] == {"STAB3"}
    # The meeting is after the return's date: CONN16 has passed 16 weeks by then.
    assert {"CONN17", "CONNAPP"} <= found["connected_person_16_weeks"]
    tracking = by_cohort(built, "tracking")
    assert tracking["section_20"] == EXPECTED["section_20"]
    assert tracking["adoption_tracker"] == EXPECTED["adoption_tracker"]
    assert {"ICO", "STAB2"} <= tracking["interim_care_orders"]


def test_wirrals_part_3_scrutinises_drift_from_the_record(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    built = agenda(engine, settings, tmp_path, "wirral")
    found = by_cohort(built, "drift")
    assert found["placed_with_parents_12m"] == {"PWP14"}
    assert EXPECTED["looked_after_12m_no_plan"] <= found["looked_after_12m_no_plan"]
    # Three 15-minute slots: the rest rolls to the next meeting, with the reason.
    drift = next(p for p in built.parts if p.key == "drift")
    assert len(drift.items) == 3
    assert any(i.part == "drift" for i in built.rolled)
