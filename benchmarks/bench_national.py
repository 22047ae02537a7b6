"""National scale on PostgreSQL (issue 12, item 4): load England's looked-after children into
a database of its own, then time the pages, the daily sweep and transitions at that size.

Not a test. One command:

    .venv/bin/python benchmarks/bench_national.py                 # 84,000 children
    .venv/bin/python benchmarks/bench_national.py --children 2000 --requests 20   # a smoke run
    # options: --admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    #          --keep (do not drop the database) --reuse NAME (a kept database: skip loading)
    #          --json out.json --no-transitions --panel wirral

It creates ``bench_national_<pid>`` with ``CREATE DATABASE`` (never the tests' ``test``),
migrates it, and loads:

* teams of 8 social workers and a team manager, about 25 children per social worker;
* journey *templates*: one child per scenario driven through the real engine with
  back-dated events (so states, data, histories and deadlines are what the service itself
  records), then cloned for every child server-side (``INSERT ... SELECT`` from staged
  templates; children and the clone map go in with ``COPY``), each clone's dates shifted
  by up to 90 days either way. Every child has a permanence-planning journey and, by a
  fixed mix, one of the other five types. Histories are long (care proceedings with a
  hundred court directions, placements with parents reviewed every 20 days) so that the
  whole reaches the issue's shape: about 10 million journey events and 1 million open
  deadlines. Foreign-key triggers are off during the bulk insert (the rows are consistent
  by construction) and the tables' secondary indexes are built after it;
* the panel (``--panel``, default Wirral, whose agenda takes the tracked cohorts): its
  forward planner, 500 children referred to its first meeting (the tracker), and that
  meeting's agenda built from the cohorts through the service;
* a second panel whose parts take only referrals (``REFERRALS_PANEL``, Leicestershire):
  its planner and 500 referred children, so its tracker follows those 500 (the issue's
  "one panel's 500 children"); added on ``--reuse`` to a database kept without it.

Then, through the real app over HTTP (uvicorn on loopback, users signed in through the
sign-in page), it times My work for a social worker with 25 children, the child page, the
trackers of both panels (first page, page 50, the "Overdue" status), the director's
page (also with its escalations' level filter, each level in turn), the cohorts list and
its first cohort's page (after the day's snapshot of every cohort, as the daily job
stores it) and the built agenda's meeting page (``--pages`` chooses among them), each
``--requests`` times after 3 warm-ups:
p50, p95 and max. In process: the first sweep after the load (a catch-up as of yesterday,
reported, not a target) and the daily sweep as of today (target under 5 s). Last,
transitions at that size with ``bench_transitions``' engine and HTTP phases (p99).
Targets: each page p95 under 200 ms; the daily sweep under 5 s.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_transitions  # noqa: E402
import floor  # noqa: E402
import httpx2  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import states  # noqa: E402
from notifications.policy import policies_from_settings  # noqa: E402
from notifications.service import refresh_director_snapshot  # noqa: E402
from notifications.sweep import sweep  # noqa: E402
from panels.config import load_panel  # noqa: E402
from panels.service import PanelService  # noqa: E402
from services import cohort_snapshot  # noqa: E402
from services.access import Principal  # noqa: E402
from services.auth import hash_password  # noqa: E402
from services.children import create_child  # noqa: E402
from services.clock import today  # noqa: E402
from services.cohorts import COHORTS  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.journeys import JourneyService  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from services.schemas import ChildCreate  # noqa: E402
from services.teams import add_team  # noqa: E402
from services.users import create_user, load_principal  # noqa: E402

PASSWORD = "bench-national-password-1"
WORKERS_PER_TEAM = 8
SHIFT_DAYS = 90  # each clone's dates move by up to this many days either way
TEMPLATE_TEAM = "template"
PAGE_TARGET_MS = 200.0
# The panel whose tracker follows only its 500 referred children (its parts take no cohort):
# what issue 12's "the tracker for one panel's 500 children" measures. The main panel
# (``--panel``, Wirral) takes cohorts, so at national size it follows nearly every child.
REFERRALS_PANEL = "leicestershire"
SWEEP_TARGET_S = 5.0

# -- journey templates -----------------------------------------------------------------------

# (event, days after the journey's start, data); "+N" in data: N days after the event.
Steps = list[tuple[str, int, dict[str, Any]]]


def _pp_plan() -> Steps:
    steps: Steps = [
        ("hold_review", 20, {}),
        ("hold_review", 110, {}),
        (
            "record_permanence_plan",
            130,
            {"primary_plan": "adoption", "contingency_plan": "long_term_fostering"},
        ),
    ]
    # Every 25 weeks: inside the 6 months, so each review meets its deadline on time.
    steps += [("hold_review", 110 + 175 * k, {}) for k in range(1, 9)]
    return steps


def _care_proceedings(directions: int, completed: int) -> Steps:
    """An interim care order, then ``directions`` court directions (one a day, each due
    200 to 400 days after it is made, so the open ones are still ahead), the oldest
    ``completed`` of them done, and the timetable extended by 8 weeks three times."""
    steps: Steps = [("make_ico", 1, {})]
    day, done = 2, 0
    for k in range(1, directions + 1):
        steps.append(
            (
                "add_direction",
                day,
                {"direction": f"Direction {k}", "due_on": f"+{200 + (k * 37) % 200}"},
            )
        )
        day += 1
        if k > 3 and done < completed:
            done += 1
            steps.append(("complete_direction", day, {"direction_ref": str(done)}))
        if directions > 20 and k % (directions // 3) == 0:
            steps.append(("extend_timetable", day, {"weeks": 8, "reason": "Expert assessment"}))
    return steps


@dataclass(frozen=True)
class Scenario:
    key: str
    type: str
    start_data: dict[str, Any]
    steps: Steps


SCENARIOS = (
    Scenario("pp_plan", "permanence_planning", {}, _pp_plan()),
    Scenario(
        "pp_required",
        "permanence_planning",
        {},
        [("hold_review", 20, {}), ("hold_review", 110, {})],
    ),
    Scenario("pp_first", "permanence_planning", {}, []),
    Scenario(
        "adoption_match",
        "adoption",
        {},
        [
            ("link_raa", 10, {"raa": "Adoption North"}),
            ("complete_cpr", 60, {}),
            ("decide_sbpfa", 90, {}),
            ("grant_placement_order", 150, {"court": "Family Court"}),
            ("propose_match", 220, {"adopters_reference": "ADOPT-1"}),
            ("approve_match", 250, {}),
        ],
    ),
    Scenario(
        "adoption_early",
        "adoption",
        {},
        [("link_raa", 10, {"raa": "Adoption North"}), ("complete_cpr", 60, {})],
    ),
    Scenario("cp_long", "care_proceedings", {"court": "Family Court"}, _care_proceedings(130, 92)),
    Scenario("cp_short", "care_proceedings", {"court": "Family Court"}, _care_proceedings(5, 2)),
    Scenario(
        "pwp_long",
        "placed_with_parents",
        {},
        [("hold_review", 20 * k, {"notes": "review"}) for k in range(1, 201)],
    ),
    Scenario(
        "pwp_short",
        "placed_with_parents",
        {},
        [("hold_review", 90 * k, {"notes": "review"}) for k in range(1, 4)],
    ),
    Scenario(
        "sgo",
        "sgo",
        {},
        [
            ("start_assessment", 5, {}),
            ("draft_support_plan", 40, {"additional_funding": 4500, "quotes_received": 3}),
            ("submit_to_panel", 60, {}),
        ],
    ),
    Scenario(
        "ltf",
        "long_term_fostering",
        {"placement_kind": "mainstream"},
        [("hold_matching_meeting", 20, {})],
    ),
)

# Which templates a child gets: always one permanence-planning journey, and one other by
# this mix (weights in percent; "none": permanence planning only).
PP_MIX = (("pp_plan", 85), ("pp_required", 10), ("pp_first", 5))
MAIN_MIX = (
    ("cp_long", 27),
    ("cp_short", 5),
    ("pwp_long", 22),
    ("pwp_short", 5),
    ("adoption_match", 12),
    ("adoption_early", 8),
    ("sgo", 10),
    ("ltf", 8),
    ("none", 3),
)


def build_templates(engine: Any, driver: Principal) -> dict[str, int]:
    """Drive one child per scenario through the engine, back-dated so that its last event
    is 95 days ago (a clone moves up to 90 days either way, so never into the future).
    Returns each scenario's journey id."""
    service = JourneyService(engine, states.build_registry(), Settings().policy())
    out: dict[str, int] = {}
    for n, sc in enumerate(SCENARIOS):
        span = max([0, *(day for _, day, _ in sc.steps)])
        start = today() - timedelta(days=span + SHIFT_DAYS + 5)
        child_id = create_child(
            engine,
            ChildCreate(
                reference=f"TEMPLATE-{n:02d}",
                given_name="Template",
                family_name=sc.key,
                date_of_birth=start - timedelta(days=365 * 6),
                looked_after_since=start,
                legal_status="interim_care_order",
            ),
            driver,
        )
        view = service.start(
            child_id, sc.type, started_on=start, data=sc.start_data, principal=driver
        )
        for event, offset, data in sc.steps:
            on = start + timedelta(days=offset)
            resolved = {
                k: (on + timedelta(days=int(v[1:]))).isoformat()
                if isinstance(v, str) and v.startswith("+")
                else v
                for k, v in data.items()
            }
            view = service.fire(
                view.id,
                event=event,
                expected_version=view.version,
                occurred_on=on,
                data=resolved,
                principal=driver,
            )
        out[sc.key] = view.id
    return out


# -- the database ----------------------------------------------------------------------------


def db_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the admin URL's server."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(floor.pg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(floor.pg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass
class Loaded:
    """What the measurements need from the load."""

    children: int = 0
    journeys: int = 0
    events: int = 0
    deadlines: int = 0
    open_deadlines: int = 0
    social_worker: str = ""
    social_worker_children: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _first(row: tuple[Any, ...] | None) -> Any:
    """A query's one row (it always has one here)."""
    assert row is not None
    return row


def _copy_rows(cur: Any, sql: str, rows: Iterator[tuple[Any, ...]]) -> None:
    with cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _weighted(mix: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [k for k, _ in mix], [w for _, w in mix]


def load(url: str, n_children: int, rng: random.Random, panel_name: str) -> Loaded:
    """Migrate, build the templates through the engine, then bulk-load the clones."""
    loaded = Loaded()
    timer = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    add_team(engine, TEMPLATE_TEAM, "Templates", actor_id=None)
    driver_id = create_user(
        engine,
        username="template.driver",
        password=PASSWORD,
        roles=["social_worker", "team_manager", "adm", "panel_chair"],
        team=TEMPLATE_TEAM,
    )
    driver = load_principal(engine, driver_id)
    assert driver is not None
    templates = build_templates(engine, driver)
    loaded.seconds["templates"] = time.perf_counter() - timer
    engine.dispose()

    n_workers = -(-n_children // 25)
    n_teams = -(-n_workers // WORKERS_PER_TEAM)
    stamp = datetime.now().astimezone()
    password_hash = hash_password(PASSWORD)
    pp_keys, pp_weights = _weighted(PP_MIX)
    main_keys, main_weights = _weighted(MAIN_MIX)
    with psycopg.connect(floor.pg_conninfo(url)) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '512MB'")
        base_user = _first(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM app_user").fetchone())[
            0
        ]
        _copy_rows(
            cur,
            "COPY team (name, title, created_at) FROM STDIN",
            ((f"team{t:03d}", f"Team {t:03d}", stamp) for t in range(n_teams)),
        )
        users: list[tuple[Any, ...]] = []
        for w in range(n_workers):
            users.append(
                (
                    base_user + w,
                    f"sw{w:05d}",
                    f"Worker {w:05d}",
                    None,
                    password_hash,
                    '["social_worker"]',
                    f"team{w // WORKERS_PER_TEAM:03d}",
                    True,
                    stamp,
                )
            )
        uid = base_user + n_workers
        for t_ in range(n_teams):
            users.append(
                (uid, f"tm{t_:03d}", f"Manager {t_:03d}", None, password_hash,
                 '["team_manager"]', f"team{t_:03d}", True, stamp)
            )  # fmt: skip
            uid += 1
        for username, role in (
            ("bench.director", "service_director"),
            ("bench.manager", "service_manager"),
            ("bench.admin", "panel_admin"),
            ("bench.chair", "panel_chair"),
            ("bench.adm", "adm"),
        ):
            users.append(
                (uid, username, username, None, password_hash, json.dumps([role]), None, True,
                 stamp)
            )  # fmt: skip
            uid += 1
        _copy_rows(
            cur,
            "COPY app_user (id, username, display_name, email, password_hash, roles, team,"
            " active, created_at) FROM STDIN",
            iter(users),
        )
        base_child = _first(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM child").fetchone())[0]
        base_journey = _first(
            cur.execute("SELECT coalesce(max(id), 0) + 1 FROM journey").fetchone()
        )[0]
        child_rows: list[tuple[Any, ...]] = []
        map_rows: list[tuple[Any, ...]] = []
        jid = base_journey
        for i in range(n_children):
            cid = base_child + i
            worker = i // 25
            sw_id = base_user + worker
            shift = rng.randint(-SHIFT_DAYS, SHIFT_DAYS)
            picks = [rng.choices(pp_keys, pp_weights)[0], rng.choices(main_keys, main_weights)[0]]
            looked_after = today() - timedelta(days=rng.randint(100, 3000))
            child_rows.append(
                (
                    cid,
                    f"N{i:06d}",
                    "Child",
                    f"N{i:06d}",
                    looked_after - timedelta(days=rng.randint(200, 5000)),
                    looked_after,
                    rng.choice(("interim_care_order", "care_order", "section_20")),
                    f"team{worker // WORKERS_PER_TEAM:03d}",
                    sw_id,
                    1,
                    stamp,
                    stamp,
                )
            )
            for key in picks:
                if key == "none":
                    continue
                map_rows.append((jid, cid, templates[key], shift, sw_id))
                jid += 1
        _copy_rows(
            cur,
            "COPY child (id, reference, given_name, family_name, date_of_birth,"
            " looked_after_since, legal_status, team, allocated_social_worker_id, version,"
            " created_at, updated_at) FROM STDIN",
            iter(child_rows),
        )
        cur.execute(
            "CREATE TEMP TABLE clone_map (journey_id int, child_id int, template_id int,"
            " shift int, sw_id int)"
        )
        _copy_rows(
            cur,
            "COPY clone_map (journey_id, child_id, template_id, shift, sw_id) FROM STDIN",
            iter(map_rows),
        )
        cur.execute("ANALYZE clone_map")
        loaded.seconds["copy children and users"] = time.perf_counter() - t
        loaded.children = n_children
        loaded.journeys = len(map_rows)
        loaded.social_worker = "sw00000"
        loaded.social_worker_children = [base_child + i for i in range(min(25, n_children))]

        # The bulk insert: foreign-key triggers off (the rows are consistent by
        # construction), secondary indexes dropped and built afterwards.
        t = time.perf_counter()
        cur.execute("SET session_replication_role = replica")
        indexes = cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() "
            "AND i.tablename IN ('journey', 'journey_event', 'deadline') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute(
            "INSERT INTO journey (id, child_id, type, state, status, version,"
            " definition_version, started_on, closed_on, outcome, data, created_at, updated_at)"
            " SELECT m.journey_id, m.child_id, j.type, j.state, j.status, j.version,"
            " j.definition_version, j.started_on + m.shift, j.closed_on + m.shift, j.outcome,"
            " j.data, now(), now()"
            " FROM clone_map m JOIN journey j ON j.id = m.template_id ORDER BY m.journey_id"
        )
        loaded.seconds["insert journeys"] = time.perf_counter() - t
        t = time.perf_counter()
        # The clones are unchained (no prev_hash / row_hash): their content differs from the
        # template's, and `permanence audit verify` counts hashless first events as unchained.
        cur.execute(
            "INSERT INTO journey_event (journey_id, journey_version, event, from_state,"
            " to_state, occurred_on, recorded_at, actor_id, data)"
            " SELECT m.journey_id, e.journey_version, e.event, e.from_state, e.to_state,"
            " e.occurred_on + m.shift, (e.occurred_on + m.shift) + time '11:30', m.sw_id,"
            " e.data"
            " FROM clone_map m JOIN journey_event e ON e.journey_id = m.template_id"
            " ORDER BY m.journey_id, e.journey_version"
        )
        loaded.events = cur.rowcount
        loaded.seconds["insert events"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "INSERT INTO deadline (journey_id, child_id, meeting_id, kind, ref, due_on,"
            " owner_id, owner_role, status, met_on, created_at, updated_at)"
            " SELECT m.journey_id, m.child_id, NULL, d.kind, d.ref, d.due_on + m.shift,"
            " CASE WHEN d.owner_id IS NULL THEN NULL ELSE m.sw_id END, d.owner_role,"
            " d.status, d.met_on + m.shift, now(), now()"
            " FROM clone_map m JOIN deadline d ON d.journey_id = m.template_id"
            " ORDER BY m.journey_id, d.id"
        )
        loaded.deadlines = cur.rowcount
        loaded.seconds["insert deadlines"] = time.perf_counter() - t
        t = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("SET session_replication_role = DEFAULT")
        for table in ("child", "journey", "app_user"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        loaded.seconds["build indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
        loaded.seconds["vacuum analyze"] = time.perf_counter() - t
        loaded.open_deadlines = _first(
            cur.execute("SELECT count(*) FROM deadline WHERE status = 'open'").fetchone()
        )[0]
    t = time.perf_counter()
    seed_panel(url, panel_name, rng)
    loaded.seconds["panel (planner, 500 referrals)"] = time.perf_counter() - t
    t = time.perf_counter()
    seed_referrals_panel(url, rng)
    loaded.seconds[f"{REFERRALS_PANEL} panel (planner, 500 referrals)"] = time.perf_counter() - t
    return loaded


def seed_referrals_panel(url: str, rng: random.Random) -> bool:
    """The panel that tracks only its referred children (``REFERRALS_PANEL``: its parts
    take referrals, no cohort), seeded like the main one unless a load did it already (a
    database kept before this panel was added gets it on ``--reuse``). True if seeded."""
    with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM panel_referral WHERE panel = %s",
            (load_panel(REFERRALS_PANEL).panel.key,),
        ).fetchone()
    if found is not None and found[0]:
        return False
    seed_panel(url, REFERRALS_PANEL, rng)
    return True


def seed_panel(url: str, panel_name: str, rng: random.Random) -> None:
    """The forward planner and 500 children referred to its first meeting, so the tracker
    follows 500 children."""
    engine = make_engine(url)
    settings = Settings()
    panel = PanelService(engine, states.build_registry(), load_panel(panel_name), settings.policy())
    with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
        row = conn.execute("SELECT id FROM app_user WHERE username = 'bench.admin'").fetchone()
    assert row is not None
    admin_id = int(row[0])
    admin = load_principal(engine, admin_id)
    assert admin is not None
    panel.generate(admin, today() + timedelta(days=1))
    with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
        meeting_id, meeting_date = _first(
            conn.execute(
                "SELECT id, meeting_date FROM panel_meeting WHERE panel = %s"
                " AND status <> 'cancelled' ORDER BY meeting_date LIMIT 1",
                (panel.key,),
            ).fetchone()
        )
        journeys = conn.execute(
            "SELECT DISTINCT ON (j.child_id) j.id, j.child_id FROM journey j"
            " JOIN child c ON c.id = j.child_id WHERE c.reference LIKE 'N%'"
            " AND j.type = 'permanence_planning' ORDER BY j.child_id, j.id"
        ).fetchall()
        chosen = rng.sample(journeys, min(500, len(journeys)))
        with conn.cursor() as cur:
            _copy_rows(
                cur,
                "COPY panel_referral (panel, meeting_id, journey_id, child_id, decision_type,"
                " status, referred_by, referred_on, pack_due_on, checklist, documents, funding,"
                " history, created_at, updated_at) FROM STDIN",
                (
                    (panel.key, meeting_id, jid, cid, panel.config.decision_types[0].key,
                     "awaiting_pack", admin_id, today(), meeting_date, "{}", "[]", "{}", "[]",
                     datetime.now().astimezone(), datetime.now().astimezone())
                    for jid, cid in chosen
                ),
            )  # fmt: skip
    engine.dispose()


def build_agenda(url: str, panel_name: str) -> dict[str, Any]:
    """The first meeting's agenda built from the cohorts through the service (what the
    administrator's "build agenda" does): timed, with the items it listed and rolled."""
    engine = make_engine(url)
    panel = PanelService(
        engine, states.build_registry(), load_panel(panel_name), Settings().policy()
    )
    with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
        admin_id = conn.execute("SELECT id FROM app_user WHERE username = 'bench.admin'").fetchone()
        meeting_id = conn.execute(
            "SELECT id FROM panel_meeting WHERE panel = %s AND status <> 'cancelled'"
            " ORDER BY meeting_date LIMIT 1",
            (panel.key,),
        ).fetchone()
    assert admin_id is not None and meeting_id is not None
    admin = load_principal(engine, int(admin_id[0]))
    assert admin is not None
    t = time.perf_counter()
    agenda = panel.build_agenda(int(meeting_id[0]), admin)
    seconds = time.perf_counter() - t
    listed = sum(len(p.items) for p in agenda.parts)
    with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
        items = conn.execute(
            "SELECT count(*) FROM panel_item WHERE meeting_id = %s", (meeting_id[0],)
        ).fetchone()
    engine.dispose()
    out = {
        "seconds": seconds,
        "meeting_id": int(meeting_id[0]),
        "listed": listed,
        "items_written": int(items[0]) if items else 0,
    }
    print(
        f"  agenda built from the cohorts in {seconds:.1f} s: {listed} listed,"
        f" {out['items_written']:,} items written (listed and rolled)",
        flush=True,
    )
    return out


# -- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    return bench_transitions.percentile(sorted(values), p)


def sign_in(base: str, username: str) -> httpx2.Client:
    """A client signed in through the sign-in page."""
    client = httpx2.Client(base_url=base, timeout=60)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    response = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code in (200, 303), (username, response.status_code)
    return client


def time_page(client: httpx2.Client, paths: Callable[[int], str], requests: int) -> dict[str, Any]:
    """GET the page ``requests`` times (after 3 warm-ups): p50, p95, max in ms."""
    for i in range(3):
        r = client.get(paths(i))
        assert r.status_code == 200, (paths(i), r.status_code)
    timings: list[float] = []
    size = 0
    for i in range(requests):
        path = paths(i)
        t0 = time.perf_counter()
        r = client.get(path)
        timings.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
        size = max(size, len(r.content))
    return {
        "requests": requests,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "max_ms": max(timings),
        "kib": size / 1024,
    }


def _record(out: dict[str, Any], name: str, measure: Callable[[], dict[str, Any]]) -> None:
    """Measure one page into ``out`` and print it at once: a page that fails or times out
    is recorded as such and the run goes on (a run at national size lost every figure it
    had taken to the one page that outlasted the client's timeout)."""
    t0 = time.perf_counter()
    try:
        out[name] = measure()
    except (httpx2.HTTPError, AssertionError) as exc:
        failed = f"{type(exc).__name__}: {exc}"[:200]
        out[name] = {"error": failed, "ms": (time.perf_counter() - t0) * 1000}
    r = out[name]
    if "p95_ms" in r:
        print(
            f"  {name}: p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f}"
            f" ms ({r['requests']} requests; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    else:
        print(f"  {name}: {r}", flush=True)


PAGES = ("my-work", "child", "tracker", "director", "director-level", "cohorts", "agenda")


@contextmanager
def serving(url: str, panel_name: str) -> Iterator[str]:
    """The app on uvicorn on loopback with ``panel_name``'s panel: its base URL."""
    port = bench_transitions.free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-national-{port}.log"
    env = {
        "PERMANENCE_DATABASE_URL": url,
        "PERMANENCE_SECRET_KEY": secrets.token_urlsafe(32),
        "PERMANENCE_ENVIRONMENT": "test",
        # httpx2, unlike a browser, will not send a Secure cookie to http://127.0.0.1.
        "PERMANENCE_SESSION_COOKIE_SECURE": "false",
        "PERMANENCE_LOG_LEVEL": "WARNING",
        "PERMANENCE_PANEL": panel_name,
    }
    server_args = argparse.Namespace(workers=1, uvicorn_arg=None)
    proc = bench_transitions.start_server(
        bench_transitions.SERVICE_APP, env, port, log_path, server_args
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def time_trackers(out: dict[str, Any], admin: httpx2.Client, label: str, requests: int) -> None:
    """The tracker's first page (the target), a later page and a filtered one (figures)."""
    _record(out, label, lambda: time_page(admin, lambda i: "/panel/tracker", requests))
    _record(
        out,
        f"{label}, page 50",
        lambda: time_page(admin, lambda i: "/panel/tracker?page=50", requests),
    )
    _record(
        out,
        f"{label}, overdue only",
        lambda: time_page(admin, lambda i: "/panel/tracker?rag=red", requests),
    )


def measure_referrals_tracker(url: str, requests: int) -> dict[str, Any]:
    """The tracker of the panel that follows only its 500 referred children (its own app
    process: the panel is the app's setting)."""
    out: dict[str, Any] = {}
    with serving(url, REFERRALS_PANEL) as base:
        admin = sign_in(base, "bench.admin")
        time_trackers(out, admin, f"tracker ({REFERRALS_PANEL}: 500 referred children)", requests)
        admin.close()
    return out


def measure_pages(
    url: str, loaded: Loaded, requests: int, panel_name: str, only: frozenset[str]
) -> dict[str, Any]:
    """The pages through uvicorn on loopback, each as its signed-in user (``only``: which
    of ``PAGES``; the agenda is built in the database, so it comes last)."""
    out: dict[str, Any] = {}
    with serving(url, panel_name) as base:
        sw = sign_in(base, loaded.social_worker)
        director = sign_in(base, "bench.director")
        admin = sign_in(base, "bench.admin")
        kids = loaded.social_worker_children
        if "my-work" in only:
            _record(
                out,
                "My work (social worker, 25 children)",
                lambda: time_page(sw, lambda i: "/my-work", requests),
            )
        if "child" in only:
            _record(
                out,
                "child page",
                lambda: time_page(sw, lambda i: f"/children/{kids[i % len(kids)]}", requests),
            )
        if "tracker" in only:
            time_trackers(
                out, admin, f"tracker ({panel_name}: 500 referred and the cohorts)", requests
            )
        if "director" in only:
            _record(
                out,
                "director (whole authority)",
                lambda: time_page(director, lambda i: "/director", requests),
            )
        if "director-level" in only:
            # The escalations' level filter, each level in turn: the team manager's groups
            # are the newest (the ladder climbs with the days overdue), so the list's walk
            # in due-date order reaches them last.
            levels = ("team_manager", "service_manager", "service_director")
            _record(
                out,
                "director, level filter (each level in turn)",
                lambda: time_page(
                    director, lambda i: f"/director?level={levels[i % len(levels)]}", requests
                ),
            )
        if "cohorts" in only:
            measure_cohort_pages(out, admin, requests)
        if "agenda" in only:
            measure_agenda(out, url, admin, requests, panel_name)
        for client in (sw, director, admin):
            client.close()
    return out


def measure_cohort_pages(out: dict[str, Any], admin: httpx2.Client, requests: int) -> None:
    """The cohorts list and the first cohort it links to."""
    cohorts = admin.get("/panel/cohorts")
    if cohorts.status_code != 200:
        out["/panel/cohorts"] = {"error": f"HTTP {cohorts.status_code}", "ms": 0}
        return
    _record(out, "/panel/cohorts", lambda: time_page(admin, lambda i: "/panel/cohorts", requests))
    # The list links each cohort with the day it is judged on (?as_of=...), so the link is
    # matched to its closing quote (matching to the "?" found none).
    link = re.search(r'href="(/panel/cohorts/[^"#]+)"', cohorts.text)
    if link is None:
        out["cohort page"] = {"error": "no /panel/cohorts/<name> link on the list", "ms": 0}
        return
    first = html.unescape(link.group(1))
    _record(
        out,
        f"cohort page {first.split('?')[0]}",
        lambda: time_page(admin, lambda i: first, requests),
    )


def measure_agenda(
    out: dict[str, Any], url: str, admin: httpx2.Client, requests: int, panel_name: str
) -> None:
    """The agenda built from the cohorts, its meeting page and the tracker after it. It comes
    after the trackers' figures: every child it lists or rolls joins the tracker."""
    agenda = build_agenda(url, panel_name)
    out["agenda built from the cohorts (in process)"] = agenda
    # The meeting page lists the first 100 rolled children and counts the rest (it listed
    # all 93,264 and outlasted the client's 60 s timeout before).
    meeting = f"/panel/meetings/{agenda['meeting_id']}"
    _record(
        out, "cohort agenda (meeting page)", lambda: time_page(admin, lambda i: meeting, requests)
    )
    # Not a target: recorded as it answers (at national scale it may fail outright).
    t0 = time.perf_counter()
    try:
        status = admin.get("/panel/tracker").status_code
    except httpx2.TimeoutException:
        status = 0
    out["tracker after the agenda: one request"] = {
        "status": status,
        "ms": (time.perf_counter() - t0) * 1000,
    }


def refresh_cohorts(url: str) -> dict[str, Any]:
    """What the scheduler's daily job does before the day's pages: today's snapshot of every
    cohort (the cohort pages read it; without it they compute live). Skipped when today's
    newest snapshot already holds every cohort."""
    engine = make_engine(url)
    with engine.connect() as conn:
        snap = cohort_snapshot.newest(conn)
    every = {c.name for c in COHORTS}
    if snap is not None and snap.as_of == today() and every <= set(snap.cohorts.split()):
        engine.dispose()
        return {"seconds": 0.0, "skipped": True}
    t = time.perf_counter()
    cohort_snapshot.refresh_cohort_snapshot(engine, today())
    seconds = time.perf_counter() - t
    engine.dispose()
    print(f"  the day's cohort snapshot (every cohort, the daily job): {seconds:.1f} s", flush=True)
    return {"seconds": seconds, "skipped": False}


def measure_sweeps(url: str) -> dict[str, Any]:
    """The first sweep after the load (catch-up, as of yesterday) and the daily one."""
    engine = make_engine(url)
    policies = policies_from_settings(Settings())
    out: dict[str, Any] = {}
    for label, as_of in (
        ("first sweep after the load (as of yesterday)", today() - timedelta(days=1)),
        ("daily sweep (today)", today()),
    ):
        t = time.perf_counter()
        result = sweep(engine, policies, as_of)
        out[label] = {"seconds": time.perf_counter() - t, "notices": len(result.notices)}
        print(f"  {label}: {out[label]['seconds']:.2f} s, {len(result.notices):,} notices")
    # What the scheduler does after each sweep: the director's figures and open
    # escalations' counts, as a snapshot.
    label = "director's figures snapshot (after the sweep)"
    t = time.perf_counter()
    refresh_director_snapshot(engine, today())
    out[label] = {"seconds": time.perf_counter() - t, "notices": 0}
    print(f"  {label}: {out[label]['seconds']:.2f} s", flush=True)
    engine.dispose()
    return out


def measure_transitions(url: str, duration: float) -> dict[str, Any]:
    """bench_transitions' engine and HTTP phases (200 children, 16 clients) on this data."""
    engine, service, principal, run_id = bench_transitions.setup_database(url, pool_size=10)
    args = argparse.Namespace(
        port=0,
        workers=1,
        pool_size=10,
        uvicorn_arg=None,
        server_log_level="WARNING",
        clients=16,
        warmup=2.0,
        duration=duration,
    )
    out: dict[str, Any] = {}
    try:
        journeys, versions = bench_transitions.create_journeys(
            engine, service, principal, run_id, "e", 200
        )
        out["engine"] = bench_transitions.bench_engine(
            service, principal, journeys, versions, 2.0, duration
        )
        journeys, versions = bench_transitions.create_journeys(
            engine, service, principal, run_id, "h", 200
        )
        out["http"] = bench_transitions.bench_http(url, engine, principal, journeys, versions, args)
    finally:
        engine.dispose()
    return out


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'what':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
    for name, r in results["pages"].items():
        if "error" in r:
            print(f"{name:<48} failed after {r['ms']:.0f} ms: {r['error']}")
            continue
        if "p95_ms" not in r:
            answer = f"HTTP {r['status']}" if r["status"] else "timed out"
            print(f"{name:<48} {answer} after {r['ms']:.0f} ms")
            continue
        met = "met" if r["p95_ms"] < PAGE_TARGET_MS else "MISSED"
        print(
            f"{name:<48} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}  "
            f"p95 < {PAGE_TARGET_MS:.0f} ms: {met}"
        )
    if "agenda" in results:
        a = results["agenda"]
        print(
            f"{'agenda built from the cohorts (in process)':<48} {a['seconds'] * 1000:8.0f} ms"
            f" ({a['listed']} listed, {a['items_written']:,} items written)"
        )
    for name, r in results.get("sweeps", {}).items():
        target = ""
        if name.startswith("daily"):
            target = f"< {SWEEP_TARGET_S:.0f} s: " + (
                "met" if r["seconds"] < SWEEP_TARGET_S else "MISSED"
            )
        print(
            f"{name:<48} {r['seconds'] * 1000:8.0f} ms total ({r['notices']:,} notices)  {target}"
        )
    for phase, r in results.get("transitions", {}).items():
        print(
            f"{'transitions ' + phase:<48} {r['p50_ms']:8.1f} {'p99':>4} {r['p99_ms']:6.1f} ms  "
            f"{r['per_second']:.0f}/s, errors {r['errors']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server to create the benchmark's own database on",
    )
    parser.add_argument("--children", type=int, default=84_000)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--panel", default="wirral", help="panel preset (Wirral: cohorts)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="a kept database: skip the load")
    parser.add_argument("--no-transitions", action="store_true")
    parser.add_argument(
        "--no-sweep",
        action="store_true",
        help="skip the sweeps (with --reuse: keep the notices and snapshot of the last run)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="transitions: seconds")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument(
        "--pages",
        default=",".join(PAGES),
        help=f"which pages to time, comma-separated (default all: {','.join(PAGES)})",
    )
    args = parser.parse_args(argv)
    if not args.admin_url.startswith("postgresql"):
        parser.error("this benchmark runs on PostgreSQL only")
    only = frozenset(p.strip() for p in args.pages.split(",") if p.strip())
    if not only <= set(PAGES):
        parser.error(f"--pages: choose from {', '.join(PAGES)}")

    name = args.reuse or f"bench_national_{os.getpid()}"
    url = db_url(args.admin_url, name)
    results: dict[str, Any] = {"database": name, "loadavg_before": os.getloadavg()}
    rng = random.Random(args.seed)
    keep = args.keep or bool(args.reuse)
    try:
        if not args.reuse:
            create_database(args.admin_url, name)
            print(f"loading {args.children:,} children into {name}", flush=True)
            t = time.perf_counter()
            loaded = load(url, args.children, rng, args.panel)
            results["load_seconds"] = time.perf_counter() - t
            results["load_steps"] = loaded.seconds
            for step, seconds in loaded.seconds.items():
                print(f"  {step}: {seconds:.1f} s", flush=True)
        else:
            loaded = Loaded(social_worker="sw00000")
            with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
                loaded.social_worker_children = [
                    r[0]
                    for r in conn.execute(
                        "SELECT c.id FROM child c JOIN app_user u"
                        " ON u.id = c.allocated_social_worker_id"
                        " WHERE u.username = 'sw00000' ORDER BY c.id"
                    )
                ]
        with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
            for key, sql in (
                ("children", "SELECT count(*) FROM child"),
                ("journeys", "SELECT count(*) FROM journey"),
                ("journey_events", "SELECT count(*) FROM journey_event"),
                ("deadlines", "SELECT count(*) FROM deadline"),
                ("open_deadlines", "SELECT count(*) FROM deadline WHERE status = 'open'"),
                ("social_workers", "SELECT count(*) FROM app_user WHERE roles::text LIKE"
                 " '%social_worker%'"),
                ("teams", "SELECT count(*) FROM team"),
                ("database_size", "SELECT pg_size_pretty(pg_database_size(current_database()))"),
            ):  # fmt: skip
                results[key] = _first(conn.execute(sql).fetchone())[0]
        print(
            "data: {children:,} children, {journeys:,} journeys, {journey_events:,} events, "
            "{deadlines:,} deadlines ({open_deadlines:,} open), {social_workers:,} social "
            "workers in {teams:,} teams; {database_size}".format(**results),
            flush=True,
        )
        if args.reuse and not args.no_sweep:
            # Forget what earlier runs' sweeps recorded, so the first sweep is the first
            # (with --no-sweep: keep them, and the director's snapshot, as the last run left).
            with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
                conn.execute("TRUNCATE outbox, notice CASCADE")
                # And the agenda an earlier run built: the tracker is measured before it.
                conn.execute("DELETE FROM panel_item")
                conn.execute("DELETE FROM drift_count")
                conn.execute("DELETE FROM drift_snapshot")
        if not args.no_sweep:
            results["sweeps"] = measure_sweeps(url)
            # What autovacuum does within a minute of the sweep's 180,000 new notices: the
            # director's escalation groups are planned on row counts of the notice table.
            with psycopg.connect(floor.pg_conninfo(url), autocommit=True) as conn:
                conn.execute("ANALYZE notice, outbox")
        if args.reuse and seed_referrals_panel(url, rng):
            print(f"  seeded the {REFERRALS_PANEL} panel (500 referred children)", flush=True)
        if "cohorts" in only:
            results["cohort_snapshot"] = refresh_cohorts(url)
        results["loadavg_pages"] = os.getloadavg()
        pages = measure_pages(url, loaded, args.requests, args.panel, only)
        if "tracker" in only:
            pages.update(measure_referrals_tracker(url, args.requests))
        if "agenda built from the cohorts (in process)" in pages:
            results["agenda"] = pages.pop("agenda built from the cohorts (in process)")
        results["pages"] = pages
        if not args.no_transitions:
            results["transitions"] = measure_transitions(url, args.duration)
    finally:
        if not keep:
            drop_database(args.admin_url, name)
        else:
            print(f"kept database {name} (rerun with --reuse {name}; drop it when done)")
    results["loadavg_after"] = os.getloadavg()
    print_table(results)
    print(
        "load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *results["loadavg_before"], *results["loadavg_after"]
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
