"""A first and a later SSDA903 extract for the care record's work lists (issue 13 item 5),
and what people do between them: shared by the API, page and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from services.models import CHILDREN as C
from tests.conftest import Api
from tests.services.care_record.support import ALLOCATION, SmallReturn, episode, header

AS_OF = date(2026, 12, 2)
TEAMS = {"ICOS": "south"}


def first_extract(folder: Path) -> SmallReturn:
    """Children on interim care orders; children in care and placed with parents."""
    children: dict[str, list[dict[str, str]]] = {
        # Emergency protection, then an interim care order from 20 January 2026.
        "ICO": [
            episode("ICO", "05/01/2026", "20/01/2026", LS="L2"),
            episode("ICO", "20/01/2026", RNE="L", LS="C1"),
        ],
        "ICOP": [episode("ICOP", "01/02/2026", LS="C1")],  # a person starts proceedings
        "ICOD": [episode("ICOD", "01/03/2026", LS="C1")],  # nothing to confirm, recorded
        "ICOS": [episode("ICOS", "01/04/2026", LS="C1")],  # team south
        "CO": [episode("CO", "01/01/2026", LS="C2")],  # proceedings started by a person
        "POX": [episode("POX", "01/01/2026", LS="C2")],  # adoption started by a person
        "LEFT": [episode("LEFT", "01/01/2026")],  # planning moved by a person
        "LEFTI": [episode("LEFTI", "01/01/2026")],  # planning moved by the import only
        "PWP": [
            episode("PWP", "01/01/2026", "01/04/2026"),
            episode("PWP", "01/04/2026", RNE="P", PLACE="P1"),
        ],
        "PWPI": [
            episode("PWPI", "01/01/2026", "01/04/2026"),
            episode("PWPI", "01/04/2026", RNE="P", PLACE="P1"),
        ],
    }
    r = SmallReturn(folder).headers(*(header(c, SEX="M") for c in children))
    r.episodes(*(row for rows in children.values() for row in rows))
    r.add(
        "allocation",
        ALLOCATION,
        *({"CHILD": c, "REFERENCE": c, "TEAM": TEAMS.get(c, "north")} for c in children),
    )
    return r


def later_extract(r: SmallReturn, folder: Path) -> SmallReturn:
    """The same return a few months on: POX has a placement order from 1 July; LEFT and
    LEFTI went home on 1 October; PWP's and PWPI's placement with parents ended on
    1 September (now in foster care)."""
    columns, rows = r.tables["episodes"]
    kept = [row for row in rows if row["CHILD"] not in {"POX", "LEFT", "LEFTI", "PWP", "PWPI"}]
    later = [
        episode("POX", "01/01/2026", "01/07/2026", LS="C2"),
        episode("POX", "01/07/2026", RNE="L", LS="E1"),
        *(episode(c, "01/01/2026", "01/10/2026", REC="E4A") for c in ("LEFT", "LEFTI")),
        *(
            row
            for c in ("PWP", "PWPI")
            for row in (
                episode(c, "01/01/2026", "01/04/2026"),
                episode(c, "01/04/2026", "01/09/2026", RNE="P", PLACE="P1"),
                episode(c, "01/09/2026", RNE="P", PLACE="U4"),
            )
        ),
    ]
    r.tables["episodes"] = (columns, kept + later)
    r.folder = folder
    return r


@dataclass
class World:
    ids: dict[str, int]
    sw: Api
    manager: Api
    south: Api
    first: SmallReturn


def child_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.reference: r.id for r in conn.execute(select(C.c.reference, C.c.id))}


def journey_of(api: Api, child_id: int, kind: str) -> dict[str, Any]:
    response = api.get(f"/children/{child_id}/journeys")
    assert response.status_code == 200, response.text
    return next(j for j in response.json() if j["type"] == kind)


def people_act(w: World) -> None:
    """What people did between the two extracts."""
    sw, ids = w.sw, w.ids
    sw.start(ids["ICOP"], "care_proceedings", started_on="2026-02-10")
    sw.start(ids["CO"], "care_proceedings", started_on="2026-01-05")
    sw.start(ids["POX"], "adoption", started_on="2026-02-01")
    sw.fire(
        journey_of(sw, ids["LEFT"], "permanence_planning"),
        "record_permanence_plan",
        data={"primary_plan": "return_home_family_network", "contingency_plan": "adoption"},
    )
    sw.fire(journey_of(sw, ids["PWP"], "placed_with_parents"), "hold_review")
