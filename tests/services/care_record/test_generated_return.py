"""The benchmark's synthetic return (benchmarks/ssda903_generate.py) passes every rule."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from services.care_record import derive
from services.care_record.reader import SeveralAuthorities, open_return
from services.care_record.rules import Accepted, ChildOutcome
from states.ssda903 import CollectionYear

GENERATOR = Path(__file__).resolve().parents[3] / "benchmarks" / "ssda903_generate.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ssda903_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _outcomes(folder: Path, *, la: str | None = None) -> list[ChildOutcome]:
    return list(open_return(sorted(folder.glob("*.csv")), la=la).records(as_of=date(2026, 3, 31)))


def _facts(outcome: ChildOutcome) -> tuple[tuple[object, ...], ...]:
    """The child's episodes without their source (the two extracts sit in different folders)."""
    assert isinstance(outcome, Accepted)
    return tuple(
        (e.start, e.end, e.reason_new, e.legal_status, e.placement, e.reason_ceased)
        for e in outcome.record.episodes
    )


def test_every_child_is_accepted_and_shaped_like_the_return(
    generator: ModuleType, tmp_path: Path
) -> None:
    result = generator.generate(tmp_path, children=300, seed=7, year=CollectionYear(2025))
    outcomes = _outcomes(tmp_path)
    assert len(outcomes) == 300
    rejected = [o for o in outcomes if not isinstance(o, Accepted)]
    assert rejected == []
    records = [o.record for o in outcomes if isinstance(o, Accepted)]
    assert sum(len(r.episodes) for r in records) == result["rows"]["episodes"]
    assert 2.5 < result["rows"]["episodes"] / 300 < 3.5  # about 250,000 for 84,000
    assert 3.0 < result["rows"]["reviews"] / 300 < 4.2  # about 300,000 for 84,000
    # Every period of care the generator writes starts with RNE S, and most are still open.
    assert all(r.episodes[0].reason_new == "S" for r in records)
    looked_after = sum(
        derive.is_looked_after(r, date(2026, 3, 30), include_short_breaks=True) for r in records
    )
    assert looked_after > 240


def test_the_same_seed_writes_the_same_files(generator: ModuleType, tmp_path: Path) -> None:
    for name in ("a", "b"):
        generator.generate(tmp_path / name, children=50, seed=11, year=CollectionYear(2025))
    generator.generate(
        tmp_path / "la", children=50, seed=11, year=CollectionYear(2025), authorities=("X", "Y")
    )
    for table in ("header", "episodes", "reviews", "placed_for_adoption", "uasc"):
        first = (tmp_path / "a" / f"{table}.csv").read_bytes()
        assert first == (tmp_path / "b" / f"{table}.csv").read_bytes(), table
        # An LA column changes nothing else.
        with_la = (tmp_path / "la" / f"{table}.csv").read_text().splitlines()
        assert [line.rsplit(",", 1)[0] for line in with_la] == first.decode().splitlines()


def test_several_authorities_and_a_changed_extract(generator: ModuleType, tmp_path: Path) -> None:
    generator.generate(
        tmp_path / "base",
        children=400,
        seed=5,
        year=CollectionYear(2025),
        authorities=("Sefton", "Wirral"),
    )
    later = generator.generate(
        tmp_path / "later",
        children=400,
        seed=5,
        year=CollectionYear(2025),
        authorities=("Sefton", "Wirral"),
        changed_percent=10,
    )
    with pytest.raises(SeveralAuthorities):
        open_return(sorted((tmp_path / "base").glob("*.csv")))
    base = {o.child_id: o for o in _outcomes(tmp_path / "base", la="Sefton")}
    changed = {o.child_id: o for o in _outcomes(tmp_path / "later", la="Sefton")}
    assert base.keys() == changed.keys() and 150 < len(base) < 250
    assert all(isinstance(o, Accepted) for o in (*base.values(), *changed.values()))
    differing = [c for c in base if _facts(base[c]) != _facts(changed[c])]
    assert 5 <= len(differing) <= 40  # about 10% of some 200 children
    kinds: Counter[str] = Counter(later["changed"])
    assert set(kinds) <= {"new_episode", "closed", "withdrawn"} and sum(kinds.values()) >= len(
        differing
    )
