"""``permanence import ssda903`` as an operator runs it (real subprocesses, real database)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy import Engine, func, select

from services.care_record.models import CARE_CHILDREN, CARE_IMPORTS
from services.db import read_connection
from services.models import CHILDREN
from tests.cli.test_cli import PERMANENCE, _env
from tests.services.care_record.support import HEADER, fake_data_folder, header, write_csv


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PERMANENCE, "import", "ssda903", *args],
        capture_output=True,
        text=True,
        env=_env(database_url),
        timeout=300,
    )


def _count(engine: Engine, table: object) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_dry_run_then_import_then_reimport(database_url: str, engine: Engine) -> None:
    files = [str(p) for p in sorted(fake_data_folder().glob("*.csv"))]

    dry = _run(database_url, *files, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["children"]["created"] > 1000
    assert planned["rejections"] and {"file", "row", "column", "value", "reason"} <= set(
        planned["rejections"][0]
    )
    assert _count(engine, CHILDREN) == 0 and _count(engine, CARE_IMPORTS) == 0

    real = _run(database_url, *files)
    assert real.returncode == 0, real.stderr
    assert f"children: {planned['children']['created']} created" in real.stdout
    assert "rejected rows:" in real.stdout
    assert _count(engine, CARE_CHILDREN) == planned["children"]["created"]

    again = _run(database_url, *files)
    assert again.returncode == 0, again.stderr
    assert "Nothing changed" in again.stdout
    assert f"{planned['children']['created']} unchanged" in again.stdout
    assert _count(engine, CARE_IMPORTS) == 1


def test_several_authorities_without_la_exit_2_naming_them(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "regional.csv",
        ("LA", *HEADER),
        [{**header("A1"), "LA": "Sefton"}, {**header("B1"), "LA": "Knowsley"}],
    )

    refused = _run(database_url, str(path))

    assert refused.returncode == 2
    assert "Knowsley" in refused.stderr and "Sefton" in refused.stderr
    assert "--la" in refused.stderr
    assert _count(engine, CHILDREN) == 0

    chosen = _run(database_url, str(path), "--la", "Sefton", "--json")
    assert chosen.returncode == 0, chosen.stderr
    report = json.loads(chosen.stdout)
    assert report["children"]["created"] == 1 and report["rows_other_authorities"] == 1


def test_no_upn_postcode_or_date_of_birth_in_the_commands_output_or_logs(
    database_url: str, engine: Engine
) -> None:
    from tests.services.care_record.test_importer import personal_values

    files = [str(p) for p in sorted(fake_data_folder().glob("*.csv"))]
    runs = [
        _run(database_url, *files, "--dry-run"),
        _run(database_url, *files, "--json"),
        _run(database_url, *files),
    ]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    said = "\n".join(r.stdout + r.stderr for r in runs)
    assert "care_import_finished" in said  # the JSON log lines are in what was checked
    with read_connection(engine) as conn:
        from services.models import AUDIT_LOG

        kept = conn.execute(select(CARE_IMPORTS.c.counts, CARE_IMPORTS.c.files)).all()
        audits = conn.execute(select(AUDIT_LOG.c.details)).scalars().all()
    said += json.dumps([list(k) for k in kept]) + json.dumps(audits)
    assert sorted(v for v in personal_values() if v in said) == []
