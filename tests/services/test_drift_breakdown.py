"""The director's breakdown (services.drift.Breakdown): each sum it gives, for a team, a
journey type, both or neither, is the sum of the cells matching it, as the table's rows,
columns and totals show them; the sums are read once, not per question (issue 12, item 4)."""

from __future__ import annotations

import random

from services.drift import Breakdown, Cell

TEAMS = (None, "north", "south", "east")
TYPES = (None, "adoption", "care_proceedings")


def _summed(cells: dict[tuple[str, str], Cell], team: str | None, kind: str | None) -> Cell:
    matching = [
        c
        for (t, j), c in cells.items()
        if (team is None or t == team) and (kind is None or j == kind)
    ]
    return Cell(sum(c.overdue for c in matching), sum(c.total for c in matching))


def test_every_sum_is_the_sum_of_its_matching_cells() -> None:
    rng = random.Random(12)
    for _ in range(200):
        cells: dict[tuple[str, str], Cell] = {}
        for _ in range(rng.randint(0, 9)):
            # A cell keyed None (a deadline with no team) counts once in every total.
            key: tuple[str, str] = (rng.choice(TEAMS), rng.choice(TYPES))  # type: ignore[assignment]
            overdue = rng.randint(0, 5)
            cells[key] = Cell(overdue, overdue + rng.randint(0, 5))
        breakdown = Breakdown(dict(cells))
        for team in (*TEAMS, "nobody"):
            for kind in (*TYPES, "no_such_type"):
                assert breakdown.cell(team, kind) == _summed(cells, team, kind), (cells, team, kind)
        assert breakdown.overdue == _summed(cells, None, None).overdue


def test_the_sums_do_not_take_part_in_equality() -> None:
    cells = {("north", "adoption"): Cell(1, 3), ("south", "adoption"): Cell(0, 2)}
    asked = Breakdown(dict(cells))
    assert asked.cell(None, "adoption") == Cell(1, 5)
    assert asked == Breakdown(dict(cells))  # one read, one not: the same breakdown
    assert asked != Breakdown({("north", "adoption"): Cell(1, 3)})
