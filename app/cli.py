"""The ``permanence`` command: serve, migrate, demo data, users."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from services.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from services.config import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import build_services
    from services.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    refusal = settings.production_refusal() or _workers_refusal(settings.database_url, args.workers)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    if args.workers > 1:
        # Once, before the workers start, rather than N workers queueing on the lock.
        _migrated_engine().dispose()
        print(_connection_budget(settings, args.workers), file=sys.stderr, flush=True)
        if settings.scheduler_enabled:
            print(
                "note: PERMANENCE_SCHEDULER_ENABLED runs a scheduler in every worker; its jobs "
                "are idempotent, but one `permanence scheduler` process beside them is enough",
                file=sys.stderr,
                flush=True,
            )
    if args.demo:
        from app import demo
        from notifications.policy import policies_from_settings

        services = build_services(settings)
        demo.seed(
            services.engine,
            services.journeys,
            policies=policies_from_settings(settings),
            panel=settings.panel,
        )
        services.engine.dispose()
        print(f"\nDemo users (password for all: {demo.DEMO_PASSWORD}):")
        for user in demo.DEMO_USERS:
            print(f"  {user.username:<16} {', '.join(user.roles):<20} team {user.team or '-'}")
        print(f"\nSign in at http://{args.host}:{args.port}/", flush=True)
        print(f"API docs: http://{args.host}:{args.port}/docs\n", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )
    return 0


def _workers_refusal(database_url: str, workers: int) -> str | None:
    """Why ``workers`` cannot serve ``database_url``, or None."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers > 1 and database_url.startswith("sqlite"):
        return (
            "SQLite has one writer at a time, and the service runs its writes on the event "
            "loop of one process: serve it with one worker (use PostgreSQL for --workers)"
        )
    return None


def _connection_budget(settings: Settings, workers: int) -> str:
    """What the workers may open at most, against the server's ``max_connections``."""
    from sqlalchemy import text

    from services.db import make_engine

    pool = settings.db_pool_size
    # Per worker: the async pool (the API's hot path), the sync pool and its overflow.
    most = workers * 3 * pool
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
    finally:
        engine.dispose()
    line = (
        f"{workers} workers x up to {3 * pool} connections (PERMANENCE_DB_POOL_SIZE={pool}: "
        f"{pool} async, {2 * pool} sync) = {most} at most; the server allows {limit} in all"
    )
    if most > limit:
        line += ": lower PERMANENCE_DB_POOL_SIZE or the workers"
    return line


def _migrate(_args: argparse.Namespace) -> int:
    from services.migrate import grant_app_role

    engine = _migrated_engine()
    print("database is at the newest schema")
    role = get_settings().app_role
    if role:
        try:
            grant_app_role(engine, role)
        except ValueError as exc:
            print(f"PERMANENCE_APP_ROLE: {exc}", file=sys.stderr)
            return 2
        print(f"role {role} granted: history tables insert-only")
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from app import demo
    from app.main import build_services
    from notifications.policy import policies_from_settings

    settings = get_settings()
    services = build_services(settings)
    seeded = demo.seed(
        services.engine,
        services.journeys,
        policies=policies_from_settings(settings),
        panel=settings.panel,
    )
    print("demo data created" if seeded else "demo data already present")
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from services.auth import configure_password_hashing
    from services.users import create_user
    from workflow.errors import EngineError

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    configure_password_hashing(get_settings())
    try:
        user_id = create_user(
            _migrated_engine(),
            username=args.name,
            password=password,
            roles=args.role,
            team=args.team,
            email=args.email,
            display_name=args.display_name or args.name,
        )
    except EngineError as exc:
        return _refusal(exc)
    print(f"created user {args.name} (id {user_id})")
    return 0


def _user_unlock(args: argparse.Namespace) -> int:
    from services.sign_in import unlock, user_id_named

    engine = _migrated_engine()
    user_id = user_id_named(engine, args.name)
    if user_id is None:
        print(f"error: no user {args.name!r}", file=sys.stderr)
        return 2
    was_locked = unlock(engine, None, user_id)
    print(f"unlocked {args.name}" if was_locked else f"{args.name} was not locked (failures reset)")
    return 0


def _migrated_engine() -> Engine:
    from services.db import make_engine
    from services.migrate import upgrade

    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    return engine


def _refusal(exc: Exception) -> int:
    """Print a service's refusal as the command's error; exit code 2."""
    print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
    return 2


def _team_add(args: argparse.Namespace) -> int:
    from services.teams import add_team
    from workflow.errors import EngineError

    try:
        team = add_team(_migrated_engine(), args.name, args.title, actor_id=None)
    except EngineError as exc:
        return _refusal(exc)
    print(f"added team {team.name} ({team.title})")
    return 0


def _team_rename(args: argparse.Namespace) -> int:
    from services.teams import rename_team
    from workflow.errors import EngineError

    try:
        team = rename_team(_migrated_engine(), args.name, args.title, actor_id=None)
    except EngineError as exc:
        return _refusal(exc)
    print(f"team {team.name} is now titled {team.title}")
    return 0


def _team_list(_args: argparse.Namespace) -> int:
    from services.teams import list_teams

    for team in list_teams(_migrated_engine()):
        print(f"{team.name:<24} {team.title}")
    return 0


def _audit_verify(_args: argparse.Namespace) -> int:
    from services import history_chain
    from services.audit import verify

    engine = _migrated_engine()
    result = verify(engine)
    history = history_chain.verify(engine)
    code = 0
    if result.ok:
        print(f"audit chain intact: {result.checked} rows checked, {result.unchained} unchained")
    else:
        print(
            f"audit chain broken at row {result.broken_id}: {result.reason}"
            f" ({result.checked} rows checked)",
            file=sys.stderr,
        )
        code = 1
    if history.ok:
        print(
            f"journey history intact: {history.checked} events checked in"
            f" {history.journeys} journeys, {history.unchained} unchained"
        )
    else:
        print(
            f"journey history broken at event {history.broken_id} of journey"
            f" {history.broken_journey_id}: {history.reason}"
            f" ({history.checked} events checked)",
            file=sys.stderr,
        )
        code = 1
    return code


def _remind(args: argparse.Namespace) -> int:
    from notifications.commands import remind
    from services.logging import configure
    from workflow.calendar import today_london

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    code, output = remind(
        settings,
        as_of=args.as_of or today_london(),
        dry_run=args.dry_run,
        as_json=args.json,
        deliver=not args.no_deliver,
        digest=args.digest,
    )
    print(output)
    return code


def _deliver(args: argparse.Namespace) -> int:
    from notifications.commands import deliver
    from services.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    code, output = deliver(settings, as_json=args.json)
    print(output)
    return code


def _scheduler(_args: argparse.Namespace) -> int:
    from notifications.commands import run_scheduler
    from services.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    return run_scheduler(settings)


def _panel_check(args: argparse.Namespace) -> int:
    """Validate the configuration and print a summary, or every problem found."""
    from panels.config import PanelConfigError, load_panel

    name = args.name or get_settings().panel
    try:
        config = load_panel(name)
    except PanelConfigError as exc:
        print(f"error: {exc.source}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    s = config.schedule
    print(f"{config.panel.name} ({config.panel.key}): valid")
    print(
        f"  meets {s.frequency} on {s.weekday}s at {s.start_time.strftime('%H:%M')} for "
        f"{s.length_minutes} minutes; pack due {config.pack_lead.days} {config.pack_lead.unit} "
        f"days before; minutes due {config.minutes.due_working_days} working days after"
    )
    for part in config.parts:
        print(f"  {part.title}: {part.capacity.describe()}; takes {', '.join(part.takes)}")
    from panels.quorum import describe

    print(f"  quorum: {describe(config) or 'none (every meeting is quorate)'}")
    for assumption in config.panel.assumptions:
        print(f"  not in the ToR, set locally: {assumption}")
    return 0


def _panel_presets(_args: argparse.Namespace) -> int:
    """Print the shipped presets."""
    from panels.config import load_panel, preset_names

    for name in preset_names():
        print(f"{name}: {load_panel(name).panel.name}")
    return 0


def _import_ssda903(args: argparse.Namespace) -> int:
    """Import an SSDA903 return; print its report (text or JSON). Exit 0 when every row was
    accepted, 3 when any row was rejected (the rest imported), 2 when refused outright."""
    import json

    from services.care_record.importer import ImportRefused, import_return
    from services.care_record.lock import ImportBusy
    from services.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    try:
        report = import_return(
            _migrated_engine(), args.paths, la=args.la, actor=None, dry_run=args.dry_run
        )
    except (ImportRefused, ImportBusy) as exc:
        return _refusal(exc)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.as_text())
    return IMPORT_REJECTED_ROWS if report.rejections else 0


IMPORT_REJECTED_ROWS = 3
"""``import ssda903``'s exit code when some rows were rejected (a script can tell "imported,
but look at the report" from "all clean" (0) and "refused, nothing imported" (2))."""


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="permanence", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (PostgreSQL only; run `permanence scheduler` beside them)",
    )
    serve.add_argument("--demo", action="store_true", help="create demo users and children")
    serve.set_defaults(func=_serve)

    sub.add_parser("migrate", help="create or upgrade the database").set_defaults(func=_migrate)
    sub.add_parser("demo", help="create demo users and children").set_defaults(func=_demo)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user (password on stdin)")
    create.add_argument("name")
    create.add_argument("--role", action="append", required=True, help="repeat for more roles")
    create.add_argument("--team")
    create.add_argument("--email")
    create.add_argument("--display-name")
    create.set_defaults(func=_user_create)
    unlock = user.add_parser("unlock", help="lift a sign-in lock (audited)")
    unlock.add_argument("name")
    unlock.set_defaults(func=_user_unlock)

    team = sub.add_parser("team", help="manage the list of teams").add_subparsers(
        dest="action", required=True
    )
    team_add = team.add_parser("add", help="add a team")
    team_add.add_argument("name", help="the name records hold, e.g. north")
    team_add.add_argument("--title", help="how people read it, e.g. 'North' (default: the name)")
    team_add.set_defaults(func=_team_add)
    team_rename = team.add_parser("rename", help="give a team a new title")
    team_rename.add_argument("name")
    team_rename.add_argument("--title", required=True)
    team_rename.set_defaults(func=_team_rename)
    team.add_parser("list", help="list the teams").set_defaults(func=_team_list)

    remind = sub.add_parser("remind", help="run the reminder sweep as of a date")
    remind.add_argument("--as-of", type=_iso_date, default=None, help="YYYY-MM-DD (London)")
    remind.add_argument("--dry-run", action="store_true", help="show, record nothing")
    remind.add_argument("--json", action="store_true", help="print JSON")
    remind.add_argument("--no-deliver", action="store_true", help="record, do not deliver")
    remind.add_argument("--digest", action="store_true", help="queue the day's digests too")
    remind.set_defaults(func=_remind)
    deliver = sub.add_parser("deliver", help="deliver the outbox now (no sweep)")
    deliver.add_argument("--json", action="store_true", help="print JSON")
    deliver.set_defaults(func=_deliver)
    sub.add_parser(
        "scheduler", help="run the reminder scheduler (sweeps, delivery, digest)"
    ).set_defaults(func=_scheduler)
    panel = sub.add_parser("panel", help="panel configuration").add_subparsers(
        dest="action", required=True
    )
    check = panel.add_parser("check", help="validate a preset or a panel TOML file")
    check.add_argument(
        "name", nargs="?", default=None, help="preset name or .toml path (default PERMANENCE_PANEL)"
    )
    check.set_defaults(func=_panel_check)
    panel.add_parser("presets", help="list the shipped presets").set_defaults(func=_panel_presets)
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="action", required=True
    )
    audit.add_parser(
        "verify",
        help="check the audit and journey history hash chains; non-zero naming the first break",
    ).set_defaults(func=_audit_verify)
    importing = sub.add_parser("import", help="import data from other systems").add_subparsers(
        dest="action", required=True
    )
    ssda903 = importing.add_parser(
        "ssda903",
        help="import the SSDA903 return's CSV tables (recognised by their columns)",
        description="Import the SSDA903 return's CSV tables (recognised by their columns) and "
        "print the report.",
        epilog="Exit status: 0 every row accepted; 3 some rows rejected (listed in the "
        "report; the other children were imported, or with --dry-run would be); 2 nothing "
        "imported (files that are not a return, several authorities without --la, or "
        "another import running).",
    )
    ssda903.add_argument("paths", nargs="+", metavar="PATH", help="CSV files, oldest year first")
    ssda903.add_argument("--la", help="the authority to import from a regional file's LA column")
    ssda903.add_argument("--dry-run", action="store_true", help="report, write nothing")
    ssda903.add_argument("--json", action="store_true", help="print the report as JSON")
    ssda903.set_defaults(func=_import_ssda903)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``permanence`` console script."""
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        get_settings()  # read once, here: a bad setting is a message, not a traceback
    except ValidationError as exc:
        for error in exc.errors():
            name = "PERMANENCE_" + str(error["loc"][0]).upper() if error["loc"] else "a setting"
            print(f"setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
