"""The cohorts' one-read scan of the episodes (issue 13 item 11) gives what the reference
statements give: the current episode with the starts of its period of care and legal status
(window functions), the stability pre-filter and the histories. On a varied return (the
cohort tests' small one, with every boundary, and a generated one) and several dates, on
SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Connection, Engine, select

from services import cohorts
from services.care_record import derive
from services.care_record.importer import import_return
from services.care_record.models import CARE_CHILDREN
from services.care_record.records import ChildRecord
from services.db import read_connection
from states.ssda903 import CollectionYear
from tests.services.test_cohorts import AS_OF, EARLIER, the_return

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "ssda903_generate.py"
DATES = (AS_OF, EARLIER, date(2025, 3, 31), date(2026, 3, 31), date(2026, 9, 30))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ssda903_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _same(conn: Connection, on: date, ids: list[int] | None) -> int:
    """Compare the scan with the reference statements; return how many were looked after."""
    scan = cohorts._scan(conn, on, ids)
    current = cohorts._current(conn, on, ids)
    assert scan.current == current
    assert scan.stability == cohorts._stability_candidates(conn, on, ids) & current.keys()
    wanted = set(current)
    assert scan.recorded == cohorts._with_record(conn, ids)
    # The placement rules judged on the scanned rows, and on the reference's Episode records.
    histories = cohorts._histories(conn, on, wanted)
    assert scan.placements(wanted) == {pk: _facts(h, on) for pk, h in histories.items()}
    return len(current)


def _facts(history: ChildRecord, on: date) -> tuple[date | None, int]:
    return (
        derive.current_placement_start(history, on),
        derive.placements_in_last_12_months(history, on),
    )


@pytest.mark.parametrize("source", ["small", "generated"])
def test_the_scan_matches_the_reference_statements(
    engine: Engine, tmp_path: Path, source: str
) -> None:
    if source == "small":
        paths = the_return(tmp_path / "r").write()
        day = AS_OF
    else:
        _generator().generate(tmp_path / "g", children=120, seed=11, year=CollectionYear(2025))
        paths = sorted((tmp_path / "g").glob("*.csv"))
        day = date(2026, 3, 31)
    report = import_return(engine, paths, as_of=day)
    assert report.children_rejected == 0, report.as_text()
    with read_connection(engine) as conn:
        looked_after = [_same(conn, on, None) for on in DATES]
        some = sorted(conn.execute(select(CARE_CHILDREN.c.child_pk)).scalars())[::3]
        _same(conn, day, some)
    assert max(looked_after) > 5  # the comparison is not between two empty answers


def test_cohorts_are_the_same_through_either_read(engine: Engine, tmp_path: Path) -> None:
    """Every cohort's members, sentences included, with the reference statements put back."""
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0
    with read_connection(engine) as conn:
        fast = {on: cohorts.compute(conn, on) for on in DATES}

    @dataclass(frozen=True)
    class _Reference:
        on: date
        current: dict[int, cohorts._Current]
        stability: set[int]
        recorded: set[int]
        all_histories: dict[int, ChildRecord]

        def placements(self, child_ids: Iterable[int]) -> dict[int, tuple[date | None, int]]:
            wanted = set(child_ids)
            return {pk: _facts(h, self.on) for pk, h in self.all_histories.items() if pk in wanted}

    def reference(conn: Connection, on: date, ids: list[int] | None) -> _Reference:
        current = cohorts._current(conn, on, ids)
        return _Reference(
            on,
            current,
            cohorts._stability_candidates(conn, on, ids) & current.keys(),
            cohorts._with_record(conn, ids),
            cohorts._histories(conn, on, set(current)),
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cohorts, "_scan", reference)
        with read_connection(engine) as conn:
            slow = {on: cohorts.compute(conn, on) for on in DATES}
    assert fast == slow
    assert sum(len(m) for m in fast[AS_OF].values()) > 10
