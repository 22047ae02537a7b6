"""Demo data: a user for every role and a caseload of synthetic children at various stages.

Every journey is driven through the real engine with back-dated events, so its history and
deadlines are what the service itself would have recorded. Names are invented.
"""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from notifications.policy import Policies
from notifications.sweep import sweep
from panels.config import load_panel
from panels.service import PanelService
from services.access import Principal
from services.care_record.importer import import_return
from services.children import create_child
from services.clock import today
from services.journeys import JourneyService
from services.models import CHILDREN as C
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.schemas import ChildCreate
from services.teams import add_team, list_teams
from services.users import create_user

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoUser:
    username: str
    roles: tuple[str, ...]
    team: str | None
    full_name: str  # invented, as the children's names are


DEMO_TEAMS = (("north", "North"), ("south", "South"))
DEMO_USERS = (
    DemoUser("sw.north", ("social_worker",), "north", "Priya Shah"),
    DemoUser("sw.south", ("social_worker",), "south", "Tom Okafor"),
    DemoUser("tm.north", ("team_manager",), "north", "Helen Marsh"),
    DemoUser("tm.south", ("team_manager",), "south", "David Reyes"),
    DemoUser("service.manager", ("service_manager",), None, "Carol Bennett"),
    DemoUser("panel.chair", ("panel_chair",), None, "Margaret Lowe"),
    DemoUser("panel.admin", ("panel_admin",), None, "Jamal Price"),
    DemoUser("adm", ("adm",), None, "Susan Clarke"),
    DemoUser("director", ("service_director",), None, "Alan Foster"),
    DemoUser("iro", ("iro",), None, "Ruth Evans"),
    DemoUser("sysadmin", ("sysadmin",), None, "Ian Doyle"),
    DemoUser("viewer.north", ("read_only",), "north", "Grace Hill"),
)

_GIVEN = (
    "Alex",
    "Sam",
    "Jordan",
    "Riley",
    "Casey",
    "Morgan",
    "Jamie",
    "Taylor",
    "Charlie",
    "Robin",
    "Frankie",
    "Ellis",
    "Harley",
    "Rowan",
    "Skye",
    "Remi",
)
_FAMILY = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Hughes",
)

# Each scenario: journey type, start data, and events as (event, days after start, data).
Scenario = tuple[str, dict[str, Any], list[tuple[str, int, dict[str, Any]]]]
_SCENARIOS: list[Scenario] = [
    ("permanence_planning", {}, []),
    ("permanence_planning", {}, [("hold_review", 25, {})]),
    ("permanence_planning", {}, [("hold_review", 20, {}), ("hold_review", 110, {})]),
    (
        "permanence_planning",
        {},
        [
            ("hold_review", 20, {}),
            (
                "record_permanence_plan",
                60,
                {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
            ),
        ],
    ),
    ("adoption", {}, [("link_raa", 10, {"raa": "Adoption North"}), ("complete_cpr", 60, {})]),
    (
        "care_proceedings",
        {"court": "Family Court"},
        [
            ("make_ico", 1, {}),
            ("add_direction", 14, {"direction": "Parenting assessment", "due_on": "+70"}),
        ],
    ),
    (
        "sgo",
        {},
        [
            ("start_assessment", 5, {}),
            ("draft_support_plan", 40, {"additional_funding": 4500, "quotes_received": 3}),
        ],
    ),
    ("long_term_fostering", {"placement_kind": "mainstream"}, [("hold_matching_meeting", 20, {})]),
    ("placed_with_parents", {}, [("hold_review", 90, {})]),
]

# Children (by index) who also have one of the journeys issue 14 added.
_KINSHIP_AND_HOME = {
    9: "connected_person_approval",
    10: "reunification",
    11: "child_arrangements_order",
}


def _principal(engine: Engine, username: str) -> Principal:
    with engine.connect() as conn:
        row = conn.execute(
            select(U.c.id, U.c.roles, U.c.team).where(U.c.username == username)
        ).one()
    return Principal(row.id, username, frozenset(row.roles), row.team)


def seed(
    engine: Engine,
    journeys: JourneyService,
    *,
    children: int = 24,
    policies: Policies | None = None,
    panel: str = "leicestershire",
) -> bool:
    """Create the demo users and caseload unless they exist. True if it seeded.

    With ``policies``, a reminder sweep as of today follows, so inboxes and the director's
    open escalations show what the scheduler would have raised (in-app only: no email).
    ``panel`` names the panel configuration whose forward planner is generated."""
    with engine.connect() as conn:
        if conn.execute(select(U.c.id).where(U.c.username == DEMO_USERS[0].username)).first():
            return False
    present = {t.name for t in list_teams(engine)}
    for name, title in DEMO_TEAMS:
        if name not in present:
            add_team(engine, name, title, actor_id=None)
    for user in DEMO_USERS:
        create_user(
            engine,
            username=user.username,
            password=DEMO_PASSWORD,
            roles=user.roles,
            team=user.team,
            display_name=user.full_name,
        )
    rng = random.Random(903)
    now = today()
    workers = {"north": _principal(engine, "sw.north"), "south": _principal(engine, "sw.south")}
    made: list[ChildCreate] = []
    for i in range(children):
        team = "north" if i % 4 else "south"
        sw = workers[team]
        start = now - timedelta(days=rng.randint(120, 500))
        child = ChildCreate(
            reference=f"DEMO-{i + 1:04d}",
            given_name=rng.choice(_GIVEN),
            family_name=rng.choice(_FAMILY),
            date_of_birth=start - timedelta(days=rng.randint(365, 365 * 14)),
            looked_after_since=start,
            legal_status="interim_care_order" if i % 3 else "section_20",
        )
        child_id = create_child(engine, child, sw)
        made.append(child)
        journey_type, start_data, events = _SCENARIOS[i % len(_SCENARIOS)]
        _drive(journeys, child_id, start, journey_type, start_data, events, sw)
        if i in _KINSHIP_AND_HOME:
            # Three children also have a journey issue 14 added, started this season.
            kind, begun = _KINSHIP_AND_HOME[i], now - timedelta(days=40 + i)
            data = (
                {"assessment_kind": "schedule_3", "assessment_due": str(begun + timedelta(60))}
                if kind == "reunification"
                else {}
            )
            _drive(journeys, child_id, begun, kind, data, [], sw)
    _import_care_record(engine, made, now)
    _plan_panel(engine, journeys, panel)
    if policies is not None:
        sweep(engine, policies, now)
    return True


_HEADER = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN")
_EPISODES = ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC")
_ALLOCATION = ("CHILD", "REFERENCE", "GIVEN_NAME", "FAMILY_NAME", "TEAM", "SOCIAL_WORKER")
_PLACED_FOR_ADOPTION = ("CHILD", "DATE_PLACED")


def _episode(
    child: str,
    start: date,
    end: date | None,
    *,
    rne: str = "S",
    ls: str,
    place: str = "U6",
    provider: str = "PR1",
) -> dict[str, str]:
    return {
        "CHILD": child,
        "DECOM": start.isoformat(),
        "RNE": rne,
        "LS": ls,
        "CIN": "N1",
        "PLACE": place,
        "PLACE_PROVIDER": provider,
        "DEC": end.isoformat() if end else "",
        "REC": "X1" if end else "",
    }


def _chain(child: str, ls: str, steps: list[tuple[date, str, str]]) -> list[dict[str, str]]:
    """Consecutive episodes: each step (start, RNE, PLACE) ends where the next begins."""
    rows = []
    for n, (start, rne, place) in enumerate(steps):
        end = steps[n + 1][0] if n + 1 < len(steps) else None
        provider = "PR0" if place == "P1" else "PR4" if place == "K3" else "PR1"
        rows.append(_episode(child, start, end, rne=rne, ls=ls, place=place, provider=provider))
    return rows


def _care_return(
    made: list[ChildCreate], now: date
) -> dict[str, tuple[tuple[str, ...], list[dict[str, str]]]]:
    """A small synthetic SSDA903 return for the demo children, so every cohort the panels
    track from the record has someone in it: each child's episodes begin on its looked-after
    date with the legal status it was given, and a few differ in placement (supported
    accommodation, a connected person, three moves, placed with parents, long-term foster
    care, a placement order). Three more children are known only from the return."""
    headers: list[dict[str, str]] = []
    episodes: list[dict[str, str]] = []
    allocation: list[dict[str, str]] = []
    decisions: list[dict[str, str]] = []
    for i, child in enumerate(made):
        ref = child.reference
        start = child.looked_after_since or now
        ls = "C1" if child.legal_status == "interim_care_order" else "V2"
        headers.append(
            {
                "CHILD": ref,
                "SEX": "F" if i % 2 else "M",
                "DOB": child.date_of_birth.isoformat(),
                "ETHNIC": "WBRI",
                "UPN": "UN4",
            }
        )
        kind = _SCENARIOS[i % len(_SCENARIOS)][0]
        if i == 2:  # with an aunt since the start, carer not yet approved
            episodes += _chain(ref, ls, [(start, "S", "U3")])
        elif i == 5:  # three placements in the last twelve months
            moves = [(start, "S", "U6"), (now - timedelta(days=100), "P", "U6")]
            episodes += _chain(ref, ls, [*moves, (now - timedelta(days=40), "P", "U6")])
        elif kind == "placed_with_parents":
            episodes += _chain(ref, ls, [(start, "S", "P1")])
        elif i == 7:  # long-term foster care
            episodes += _chain(ref, ls, [(start, "S", "U4")])
        elif i == 13:  # a placement order since two months ago, and a should-be-placed decision
            order = now - timedelta(days=60)
            episodes.append(_episode(ref, start, order, ls=ls))
            episodes.append(_episode(ref, order, None, rne="L", ls="E1"))
            decisions.append(
                {"CHILD": ref, "DATE_PLACED": (order - timedelta(days=30)).isoformat()}
            )
        else:
            episodes += _chain(ref, ls, [(start, "S", "U6")])
    only_in_return = (
        # Aged 17, in supported accommodation for five months.
        (
            "DEMO-R001",
            now - timedelta(days=365 * 17),
            [(now - timedelta(days=400), "S", "U6"), (now - timedelta(days=150), "P", "K3")],
        ),
        # Placed with parents for 14 months.
        ("DEMO-R002", now - timedelta(days=365 * 6), [(now - timedelta(days=425), "S", "P1")]),
        # Aged 11, looked after three years, moved a year ago.
        (
            "DEMO-R003",
            now - timedelta(days=365 * 11),
            [(now - timedelta(days=1100), "S", "U6"), (now - timedelta(days=365), "P", "U6")],
        ),
    )
    given = ("Kit", "Noor", "Bailey")
    for n, (ref, born, steps) in enumerate(only_in_return):
        headers.append(
            {"CHILD": ref, "SEX": "M", "DOB": born.isoformat(), "ETHNIC": "WBRI", "UPN": "UN4"}
        )
        episodes += _chain(ref, "C2", steps)
        allocation.append(
            {
                "CHILD": ref,
                "REFERENCE": ref,
                "GIVEN_NAME": given[n],
                "FAMILY_NAME": _FAMILY[n],
                "TEAM": "north",
                "SOCIAL_WORKER": "sw.north",
            }
        )
    return {
        "header": (_HEADER, headers),
        "episodes": (_EPISODES, episodes),
        "allocation": (_ALLOCATION, allocation),
        "placed_for_adoption": (_PLACED_FOR_ADOPTION, decisions),
    }


def _import_care_record(engine: Engine, made: list[ChildCreate], now: date) -> None:
    """Write the demo's return as CSV files and import it through the real importer."""
    with tempfile.TemporaryDirectory(prefix="demo-ssda903-") as folder:
        paths: list[str] = []
        names: dict[str, str] = {}
        for table, (columns, rows) in _care_return(made, now).items():
            path = Path(folder) / f"{table}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                for row in rows:
                    writer.writerow([row.get(c, "") for c in columns])
            paths.append(str(path))
            names[str(path)] = f"demo-{table}.csv"
        report = import_return(engine, paths, as_of=now, names=names)
    if report.children_rejected:
        raise RuntimeError("the demo's care record did not import: " + report.as_text())


def _plan_panel(engine: Engine, journeys: JourneyService, panel_name: str) -> None:
    """The forward planner of the panel the service runs (``PERMANENCE_PANEL``)."""
    config = load_panel(panel_name)
    panel = PanelService(engine, journeys.registry, config, journeys.policy)
    admin = _principal(engine, "panel.admin")
    meetings = panel.generate(admin)
    # Refer every journey that one of the panel's decision types takes, so the planner,
    # the first agenda and the tracker have cases in them.
    workers = {team: _principal(engine, f"sw.{team}") for team in ("north", "south")}
    with engine.connect() as conn:
        rows = conn.execute(
            select(J.c.id, J.c.type, J.c.state, C.c.team)
            .join(C, C.c.id == J.c.child_id)
            .where(J.c.status == "active")
            .order_by(J.c.id)
        ).all()
    funding_requests = 0
    for n, row in enumerate(rows):
        for decision_type in config.decision_types_for(row.type, row.state):
            if decision_type.funding_scheme is not None:
                # A couple of funding requests awaiting their costed packs is enough.
                funding_requests += 1
                if funding_requests > 2:
                    continue
            referral = panel.refer(
                workers[row.team], journey_id=row.id, decision_type=decision_type.key
            )
            # Two in three packs arrive complete; the rest are still awaited. Funding
            # requests need a costed form, so their packs are left to the social worker.
            checklist = config.checklist(decision_type.checklist or "")
            if n % 3 != 2 and decision_type.funding_scheme is None:
                panel.submit_pack(
                    workers[row.team],
                    referral.id,
                    checklist={i.key: "yes" for i in (checklist.items if checklist else [])},
                    documents=list(decision_type.documents),
                )
            break
    upcoming = [m for m in meetings if m.status != "cancelled"]
    if upcoming:
        panel.build_agenda(upcoming[0].id, admin)


def _drive(
    journeys: JourneyService,
    child_id: int,
    start: date,
    journey_type: str,
    start_data: dict[str, Any],
    events: list[tuple[str, int, dict[str, Any]]],
    principal: Principal,
) -> None:
    view = journeys.start(
        child_id, journey_type, started_on=start, data=start_data, principal=principal
    )
    for event, offset, data in events:
        on = start + timedelta(days=offset)
        resolved = {
            k: (on + timedelta(days=int(v[1:]))).isoformat()
            if isinstance(v, str) and v.startswith("+")
            else v
            for k, v in data.items()
        }
        view = journeys.fire(
            view.id,
            event=event,
            expected_version=view.version,
            occurred_on=on,
            data=resolved,
            principal=principal,
        )
