"""A new child's journeys planned in memory and written together (services.journey_batch)
write exactly the rows that the journey service one by one writes for the same return:
journeys, events with their data and chained hashes, deadlines, the record and the audit
trail; and a re-import after the fast path writes nothing."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, insert, select

from services import clock, history_chain, journey_batch
from services.care_record.importer import ImportReport, import_return
from services.models import TEAMS
from services.users import create_user
from states.ssda903 import CollectionYear
from tests.conftest import TEST_TEAMS, _wipe
from tests.record_support import timeline_return
from tests.services.care_record.support import fake_data_folder
from tests.services.care_record.test_journeys import small_return

GENERATOR = Path(__file__).resolve().parents[3] / "benchmarks" / "ssda903_generate.py"

# Every table an import writes (or could), compared row by row, every column.
_COMPARED = (
    "app_user",
    "child",
    "care_import",
    "care_child",
    "care_episode",
    "care_review",
    "care_adoption_decision",
    "care_adoption_match",
    "care_uasc",
    "care_previous_permanence",
    "journey",
    "journey_event",
    "deadline",
    "audit_log",
)


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Every ``now_utc`` the service calls returns a microsecond later than the one before;
    the returned function starts the count again. Two runs that stamp the same rows in the
    same order then stamp them alike, and a row stamped by the wrong transition shows."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ticks: Iterator[int] = iter(())

    def now() -> datetime:
        return start + timedelta(microseconds=next(ticks))

    def reset() -> None:
        nonlocal ticks
        ticks = iter(range(10**9))

    reset()
    real = clock.now_utc
    for module in list(sys.modules.values()):
        if getattr(module, "now_utc", None) is real:
            monkeypatch.setattr(module, "now_utc", now)
    return reset


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children whose journeys the fast path wrote (by their ``child`` id)."""
    seen: list[int] = []
    original = journey_batch.NewJourneys.write

    def spy(self: journey_batch.NewJourneys, conn: Any, *, day: date) -> None:
        seen.append(self.child.id)
        original(self, conn, day=day)

    monkeypatch.setattr(journey_batch.NewJourneys, "write", spy)
    return seen


def _dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    meta = MetaData()
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in _COMPARED:
            table = Table(name, meta, autoload_with=conn)
            rows = conn.execute(select(table).order_by(table.c.id)).mappings()
            # A password hash is salted afresh each time; nothing here writes one.
            out[name] = [{k: v for k, v in r.items() if k != "password_hash"} for r in rows]
    return out


def _fresh(engine: Engine, reset: Callable[[], None]) -> None:
    """An empty database (ids from 1 again) with the tests' teams and one social worker."""
    _wipe(engine)
    reset()
    with engine.begin() as conn:
        conn.execute(
            insert(TEAMS),
            [
                {"name": t, "title": t.capitalize(), "created_at": clock.now_utc()}
                for t in TEST_TEAMS
            ],
        )
    create_user(
        engine, username="sw.north", password="x" * 12, roles=["social_worker"], team="north"
    )


def _generated(folder: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("ssda903_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    module.generate(folder, children=150, seed=11, year=CollectionYear(2025))
    return sorted(folder.glob("*.csv"))


def _return(tmp: Path, which: str) -> tuple[list[Path], date]:
    """The return ``which`` with the day it is imported as of."""
    folder = tmp / which
    folder.mkdir()
    if which == "small":
        return small_return(folder).write(), date(2026, 11, 1)
    if which == "timeline":
        return timeline_return(folder).write(), date(2026, 11, 1)
    if which == "fake":
        return sorted(fake_data_folder().glob("*.csv")), date(2026, 3, 31)
    return _generated(folder), date(2026, 3, 31)


@pytest.mark.parametrize("which", ["small", "timeline", "fake", "generated"])
def test_the_fast_path_writes_the_rows_one_by_one_writes(
    engine: Engine,
    tmp_path: Path,
    ticking: Callable[[], None],
    writes: list[int],
    which: str,
) -> None:
    paths, day = _return(tmp_path, which)

    def run(*, fast: bool) -> tuple[ImportReport, dict[str, list[dict[str, Any]]]]:
        _fresh(engine, ticking)
        report = import_return(engine, paths, as_of=day, fast_journeys=fast)
        return report, _dump(engine)

    reference, expected = run(fast=False)
    assert writes == []
    fast, actual = run(fast=True)
    assert reference.journeys_started > 0
    assert fast.as_dict() == reference.as_dict()
    # Every new child with a journey went through the fast path, once.
    assert {j["child_id"] for j in actual["journey"]} <= set(writes)
    assert len(writes) == len(set(writes))
    for name in _COMPARED:
        assert actual[name] == expected[name], name
    chain = history_chain.verify(engine)
    assert chain.ok, chain
    assert chain.checked == len(actual["journey_event"]) > 0


def test_a_re_import_after_the_fast_path_writes_nothing(
    engine: Engine, tmp_path: Path, ticking: Callable[[], None], writes: list[int]
) -> None:
    paths, day = _return(tmp_path, "generated")
    _fresh(engine, ticking)
    first = import_return(engine, paths, as_of=day)
    assert first.events_recorded > 0 and writes
    before = _dump(engine)
    again = import_return(engine, paths, as_of=day)
    assert again.import_id is None
    assert again.children_created == again.children_updated == again.events_recorded == 0
    assert again.children_unchanged == first.children_created
    assert _dump(engine) == before
