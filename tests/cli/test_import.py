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
    """The fake return through the command three times (a dry run as JSON, the import, the
    re-import as text); and no UPN, postcode or date of birth in anything the three runs
    printed or logged, nor in the import's stored counts and audit rows (issue 13 item 10)."""
    from services.models import AUDIT_LOG
    from tests.services.care_record.test_importer import personal_values

    files = [str(p) for p in sorted(fake_data_folder().glob("*.csv"))]

    dry = _run(database_url, *files, "--dry-run", "--json")
    # The fake return has rejected rows: exit 3, the report printed all the same.
    assert dry.returncode == 3, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["children"]["created"] > 1000
    assert planned["rejections"] and {"file", "row", "column", "value", "reason"} <= set(
        planned["rejections"][0]
    )
    assert _count(engine, CHILDREN) == 0 and _count(engine, CARE_IMPORTS) == 0

    real = _run(database_url, *files)
    assert real.returncode == 3, real.stderr
    assert f"children: {planned['children']['created']} created" in real.stdout
    assert "rejected rows:" in real.stdout
    assert _count(engine, CARE_CHILDREN) == planned["children"]["created"]

    again = _run(database_url, *files)
    assert again.returncode == 3, again.stderr
    assert "Nothing changed" in again.stdout
    assert f"{planned['children']['created']} unchanged" in again.stdout
    assert _count(engine, CARE_IMPORTS) == 1

    said = "\n".join(r.stdout + r.stderr for r in (dry, real, again))
    assert "care_import_finished" in said  # the JSON log lines are in what was checked
    with read_connection(engine) as conn:
        kept = conn.execute(select(CARE_IMPORTS.c.counts, CARE_IMPORTS.c.files)).all()
        audits = conn.execute(select(AUDIT_LOG.c.details)).scalars().all()
    said += json.dumps([list(k) for k in kept]) + json.dumps(audits)
    assert sorted(v for v in personal_values() if v in said) == []


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


def test_exit_0_when_every_row_is_accepted_and_3_when_any_is_rejected(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    clean = write_csv(tmp_path / "clean.csv", HEADER, [header("A1")])
    assert _run(database_url, str(clean)).returncode == 0

    bad = write_csv(tmp_path / "bad.csv", HEADER, [header("B1"), header("C1", DOB="31/02/2012")])
    result = _run(database_url, str(bad), "--json")

    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["children"]["created"] == 1 and report["rejected_rows"] == 1
    assert _count(engine, CHILDREN) == 2  # A1 and B1; C1 rejected


def test_the_exit_codes_are_in_the_help() -> None:
    shown = subprocess.run(
        [*PERMANENCE, "import", "ssda903", "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0
    words = " ".join(shown.stdout.split())
    assert "0 every row accepted; 3 some rows rejected" in words
