"""A small SSDA903 return with a known care record, shared by the record API, page and
browser tests: child A1 came into care on an interim care order, then a care order, then
moved to a long-term foster placement; one review; a should-be-placed-for-adoption decision
and a match. Child B1 has no allocation (unallocated)."""

from __future__ import annotations

from pathlib import Path

from tests.services.care_record.support import (
    AD1,
    ALLOCATION,
    PLACED_FOR_ADOPTION,
    REVIEWS,
    SmallReturn,
    episode,
    header,
)


def timeline_return(folder: Path, *, worker: str = "sw.north", third: bool = True) -> SmallReturn:
    """The return (``third=False`` leaves out A1's move, as a later extract that withdraws it)."""
    a1 = [
        episode("A1", "10/04/2024", "01/09/2024", LS="C1", PLACE="U4", REC="X1"),
        episode(
            "A1",
            "01/09/2024",
            "01/02/2025" if third else "",
            RNE="L",
            LS="C2",
            PLACE="U4",
            REC="X1" if third else "",
        ),
    ]
    if third:
        a1.append(episode("A1", "01/02/2025", RNE="P", LS="C2", PLACE="U1"))
    return (
        SmallReturn(folder)
        .headers(header("A1", SEX="M"), header("B1", SEX="F"))
        .episodes(*a1, episode("B1", "01/06/2024", LS="V2", PLACE="U4"))
        .add("reviews", REVIEWS, {"CHILD": "A1", "REVIEW": "01/10/2024", "REVIEW_CODE": "PN1"})
        .add(
            "placed_for_adoption",
            PLACED_FOR_ADOPTION,
            {"CHILD": "A1", "DATE_PLACED": "01/03/2025"},
        )
        .add("ad1", AD1, {"CHILD": "A1", "DATE_INT": "01/04/2025", "DATE_MATCH": "01/05/2025"})
        .add(
            "allocation",
            ALLOCATION,
            {
                "CHILD": "A1",
                "REFERENCE": "REC-A1",
                "GIVEN_NAME": "Alex",
                "FAMILY_NAME": "Record",
                "TEAM": "north",
                "SOCIAL_WORKER": worker,
            },
        )
    )
