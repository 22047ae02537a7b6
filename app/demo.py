"""Demo data: a user for every role and a caseload of synthetic children at various stages.

Every journey is driven through the real engine with back-dated events, so its history and
deadlines are what the service itself would have recorded. Names are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select

from notifications.policy import Policies
from notifications.sweep import sweep
from panels.config import load_panel
from panels.service import PanelService
from services.access import Principal
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
    for i in range(children):
        team = "north" if i % 4 else "south"
        sw = workers[team]
        start = now - timedelta(days=rng.randint(120, 500))
        child_id = create_child(
            engine,
            ChildCreate(
                reference=f"DEMO-{i + 1:04d}",
                given_name=rng.choice(_GIVEN),
                family_name=rng.choice(_FAMILY),
                date_of_birth=start - timedelta(days=rng.randint(365, 365 * 14)),
                looked_after_since=start,
                legal_status="interim_care_order" if i % 3 else "section_20",
            ),
            sw,
        )
        journey_type, start_data, events = _SCENARIOS[i % len(_SCENARIOS)]
        _drive(journeys, child_id, start, journey_type, start_data, events, sw)
    _plan_panel(engine, journeys, panel)
    if policies is not None:
        sweep(engine, policies, now)
    return True


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
