"""The director's breakdown table, its rows made once in the route (``breakdown_rows``):
the same counts, links and words the template used to ask for one cell at a time."""

from __future__ import annotations

from app.web.routes.director import JOURNEY_TYPES, breakdown_rows, filter_href
from services.drift import Breakdown, Cell


def test_each_row_and_cell_has_the_filters_link_counts_and_words() -> None:
    # Team names a link must quote: spaces, an ampersand, a plus, a slash, an accent.
    teams = ["north", "south & east", "a+b/c", "Gwynedd Môn"]
    types = list(JOURNEY_TYPES)
    cells = {
        (team, journey_type): Cell(overdue=i % 3, total=i % 3 + i % 5)
        for i, (team, journey_type) in enumerate((t, j) for t in teams for j in types)
    }
    breakdown = Breakdown(cells=cells)
    titles = {"north": "North", "south & east": "South and East"}
    rows = breakdown_rows(breakdown, titles)
    assert [r.team for r in rows] == [*breakdown.teams, None]
    for row in rows:
        assert row.href == filter_href(row.team)
        if row.team:
            assert row.title == titles.get(row.team, row.team)
            assert row.words == f"team {row.title}"
        else:
            assert (row.title, row.words) == ("", "all teams")
        assert len(row.cells) == len(types) + 1
        for journey_type, cell in zip([*types, None], row.cells, strict=True):
            want = breakdown.cell(row.team, journey_type)
            assert (cell.total, cell.overdue) == (want.total, want.overdue)
            assert cell.href == filter_href(row.team, journey_type)
            assert cell.journeys == (
                JOURNEY_TYPES[journey_type] if journey_type else "all journeys"
            )
