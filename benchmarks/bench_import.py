"""Benchmark (not a test): importing a generated SSDA903 return into a real database.

Generates a return (``ssda903_generate.py``; default 2,000 children, a large authority) and a
later extract of the same children with 1% changed, then times on a fresh database:

* the first import (every child created);
* an unchanged re-import of the same files (nothing written);
* the later extract (1% of children updated: episodes added, closed or withdrawn);
* the first reminder sweep after the first import (``notifications.sweep.sweep`` with the
  default settings' policies, as of the import's day; issue 13 item 11);
* all cohorts as of one date (``services.cohorts.compute``, best of 3; issue 13 item 6);

and prints each one's counts, and the peak resident memory of the process (``ru_maxrss``).

    python benchmarks/bench_import.py                      # SQLite, a fresh temporary file
    python benchmarks/bench_import.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_import.py --children 84000     # the national size

On PostgreSQL the run gets a schema of its own, dropped afterwards unless ``--keep``; the
national size loads for many minutes, so ``--keep`` it once and time the cohorts again with
``--schema NAME`` (no generation, no import: only the cohorts).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from notifications.policy import policies_from_settings  # noqa: E402
from notifications.sweep import Channels, sweep  # noqa: E402
from services import cohorts  # noqa: E402
from services.care_record.importer import ImportReport, import_return  # noqa: E402
from services.config import Settings  # noqa: E402
from services.db import make_engine, read_connection  # noqa: E402
from services.migrate import upgrade  # noqa: E402
from states.ssda903 import CollectionYear  # noqa: E402


def generator() -> Any:
    """The return generator (benchmarks/ssda903_generate.py), loaded as a module."""
    spec = importlib.util.spec_from_file_location(
        "ssda903_generate", ROOT / "benchmarks" / "ssda903_generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _line(name: str, seconds: float, report: ImportReport) -> dict[str, Any]:
    e = report.facts["episodes"]
    r = report.facts["reviews"]
    print(
        f"{name:<22} {seconds:7.2f} s   children {report.children_created:,} created, "
        f"{report.children_updated:,} updated, {report.children_unchanged:,} unchanged, "
        f"{report.children_rejected:,} rejected; episodes +{e.added:,} ~{e.changed:,} "
        f"-{e.withdrawn:,}; reviews +{r.added:,} ~{r.changed:,} -{r.withdrawn:,}"
    )
    return {"phase": name, "seconds": round(seconds, 3), **report.counts()}


def _cohorts(engine: Any, on: Any) -> dict[str, Any]:
    """Every cohort as of one date, best of three runs."""
    best = float("inf")
    sizes: dict[str, int] = {}
    for _ in range(3):
        t = time.perf_counter()
        with read_connection(engine) as conn:
            found = cohorts.compute(conn, on)
        best = min(best, time.perf_counter() - t)
        sizes = {name: len(members) for name, members in found.items()}
    record = {n: sizes[n] for n in sorted(cohorts.FROM_RECORD)}
    print(
        f"{'all cohorts':<22} {best:7.2f} s   as of {on}: "
        + ", ".join(f"{n} {c:,}" for n, c in record.items())
    )
    return {"phase": "all cohorts", "seconds": round(best, 3), "as_of": str(on), **sizes}


def _sweep(engine: Any, on: Any) -> dict[str, Any]:
    """The first reminder sweep after the import, as the scheduler would run it that day."""
    policies = policies_from_settings(Settings())
    t = time.perf_counter()
    result = sweep(engine, policies, on, channels=Channels(email=True))
    seconds = time.perf_counter() - t
    print(
        f"{'first sweep':<22} {seconds:7.2f} s   as of {on}: {len(result.notices):,} notices, "
        f"{result.outbox:,} outbox rows, {result.unaddressed:,} due steps with nobody to send "
        "to (the return allocates no social worker)"
    )
    return {
        "phase": "first sweep",
        "seconds": round(seconds, 3),
        "notices": len(result.notices),
        "outbox": result.outbox,
        "unaddressed": result.unaddressed,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate, import three times, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=903)
    parser.add_argument("--year", default="2025/26")
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--pg-url", help="PostgreSQL URL (a private schema is used)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--first-only",
        action="store_true",
        help="only the first import and the cohorts (the national size loads for minutes)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL schema (its name is printed)"
    )
    parser.add_argument(
        "--schema",
        help="a schema kept by an earlier --keep run: only time the cohorts on it",
    )
    parser.add_argument(
        "--no-journeys",
        action="store_true",
        help="load the record without deriving journeys (a cohort-timing shortcut: the "
        "import figures are then not the import's)",
    )
    parser.add_argument(
        "--work", type=Path, help="generate the files here, or reuse them if already there"
    )
    args = parser.parse_args(argv)
    year = CollectionYear.parse(args.year)
    if args.no_journeys:
        from services.care_record import importer
        from services.care_record.journeys import Derived

        setattr(importer, "derive_journeys", lambda *a, **k: Derived())  # noqa: B010
    if args.schema:
        if not args.pg_url:
            parser.error("--schema needs --pg-url")
        return _cohorts_only(args.pg_url, args.schema, year.last_day + timedelta(days=91))

    generate = generator().generate
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-import-"))
    if not (work / "later").is_dir():
        started = time.perf_counter()
        base = generate(work / "base", children=args.children, seed=args.seed, year=year)
        generate(
            work / "later",
            children=args.children,
            seed=args.seed,
            year=year,
            changed_percent=args.changed_percent,
        )
        print(
            f"generated {args.children:,} children in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in base["rows"].items())
        )

    schema = None
    if args.pg_url:
        schema = f"bench_import_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = make_engine(args.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = _url(args.pg_url, schema)
    else:
        url = f"sqlite:///{work / f'bench-{os.getpid()}.sqlite3'}"
    engine = make_engine(url)
    results: list[dict[str, Any]] = []
    try:
        upgrade(engine)
        print(f"database: {engine.dialect.name}")
        as_of = year.last_day
        files = sorted((work / "base").glob("*.csv"))
        later = sorted((work / "later").glob("*.csv"))
        phases = [
            ("first import", files, as_of),
            ("unchanged re-import", files, as_of),
            (f"{args.changed_percent:g}% changed extract", later, as_of + timedelta(days=91)),
        ]
        for name, paths, day in phases[:1] if args.first_only else phases:
            t = time.perf_counter()
            report = import_return(engine, paths, as_of=day)
            results.append(_line(name, time.perf_counter() - t, report))
            if name == "first import":
                results.append(_sweep(engine, day))
        results.append(_cohorts(engine, as_of + timedelta(days=91)))
        peak = _peak_mib()
        print(f"peak memory: {peak:.0f} MiB")
    finally:
        engine.dispose()
        if schema is not None and args.keep:
            print(f"kept schema {schema} (drop it with DROP SCHEMA {schema} CASCADE)")
        elif schema is not None:
            admin = make_engine(args.pg_url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    if args.json:
        args.json.write_text(
            json.dumps({"children": args.children, "peak_mib": peak, "phases": results}, indent=2)
        )
    return 0


def _url(pg_url: str, schema: str) -> str:
    return (
        make_url(pg_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _cohorts_only(pg_url: str, schema: str, on: Any) -> int:
    engine = make_engine(_url(pg_url, schema))
    try:
        _cohorts(engine, on)
        print(f"peak memory: {_peak_mib():.0f} MiB")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
