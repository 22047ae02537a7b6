"""Benchmark data (not a test): a synthetic SSDA903 return shaped like the real one, at scale.

Writes the return's CSV tables (header, episodes, reviews, placed_for_adoption, ad1, uasc,
previous_permanence; dates dd/mm/yyyy) and optionally an allocation file, for:

* ``--size national``: 84,000 children (about 250,000 episodes and 300,000 reviews), England's
  children looked after;
* ``--size authority``: 2,000 children, a large authority;
* or ``--children N``.

Each child is written with its current period of care from its start to the extract's end
(31 March of ``--year``): episodes that follow one another without overlapping (RNE S, then
changes of placement and of legal status, now and then a temporary placement and the return
from it), reviews at the statutory intervals, and the codes valid for each episode's year
(H5 before 2024/25 and K3 from it, Z1 or its 2025/26 sub-codes, sex 1/2 or M/F, no P2 after
28 October 2023). Postcodes use the unused area letters Q?, so none is real.

``--la 3`` (or ``--la Sefton,Wirral``) adds an ``LA`` column spreading the children over
several authorities, as a regional file does. ``--changed-percent 1`` writes a later extract
(three months on) of the same children, identical except for 1% of them: a new episode, an
episode closed because the child left care, or the last episode withdrawn (the one before it
reopened). The same ``--seed`` gives the same files, so a base and a changed extract pair up.

Rows are written with the csv module as each child is made: nothing is held but one child.

    python benchmarks/ssda903_generate.py --size national --out /tmp/903/national
    python benchmarks/ssda903_generate.py --size national --changed-percent 1 --out /tmp/903/later
    python benchmarks/ssda903_generate.py --size authority --la 3 --allocation --out /tmp/903/region
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from states.ssda903 import VALID_UNTIL, CollectionYear, is_valid  # noqa: E402

SIZES = {"national": 84_000, "authority": 2_000}

COLUMNS: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": (
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ),
    "reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "placed_for_adoption": (
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ),
    "ad1": (
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    "uasc": ("CHILD", "SEX", "DOB", "DUC"),
    "previous_permanence": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
    "allocation": ("CHILD", "REFERENCE", "GIVEN_NAME", "FAMILY_NAME", "TEAM", "SOCIAL_WORKER"),
}

AUTHORITIES = (
    "Sefton",
    "Wirral",
    "Torbay",
    "Leicestershire",
    "Liverpool",
    "Knowsley",
    "St Helens",
    "Halton",
    "Warrington",
    "Cheshire East",
)

# Weights roughly like the national figures: most children in foster care, under care orders.
FIRST_LEGAL_STATUS = {"V2": 30, "C1": 38, "C2": 15, "L1": 4, "L2": 3, "J1": 3, "E1": 2, "V3": 1}
NEXT_LEGAL_STATUS = {"C1": 20, "C2": 50, "E1": 4, "V2": 15, "J1": 2, "L1": 1, "D1": 1}
PLACEMENTS = {
    "U6": 34, "U4": 14, "U3": 10, "U1": 5, "U5": 2, "U2": 2, "K2": 14, "P1": 6, "K3": 4,
    "H5": 4, "R1": 1, "S1": 1, "K1": 1, "R3": 1,
    "R2": 1, "R5": 1, "P3": 1, "Z1": 1, "Z11": 1, "Z12": 1, "Z13": 1, "Z14": 1,
}  # fmt: skip
TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
NEXT_REASON = {"P": 55, "L": 25, "T": 8, "B": 8, "U": 4}
NEEDS = {"N1": 60, "N2": 5, "N3": 4, "N4": 8, "N5": 14, "N6": 2, "N7": 1, "N8": 6}
LEAVING = {
    "E4A": 20, "E4B": 4, "E13": 6, "E11": 6, "E12": 3, "E45": 4, "E46": 2, "E47": 5, "E48": 1,
    "E41": 3, "E5": 8, "E6": 3, "E17": 6, "E8": 8, "E3": 2, "E7": 1, "E9": 1, "E14": 3,
    "E15": 1, "E16": 1, "E2": 1,
}  # fmt: skip
PLACE_CHANGE = {
    "CARPL": 40, "CLOSE": 5, "ALLEG": 2, "STAND": 2, "APPRR": 1, "CREQB": 12, "CREQO": 6,
    "CHILD": 6, "LAREQ": 8, "PLACE": 10, "CUSTOD": 1, "OTHER": 7,
}  # fmt: skip
ETHNICITIES = {
    "WBRI": 60, "WIRI": 1, "WOTH": 6, "WIRT": 1, "WROM": 1, "MWBC": 3, "MWBA": 2, "MWAS": 2,
    "MOTH": 3, "AIND": 1, "APKN": 2, "ABAN": 1, "AOTH": 2, "BCRB": 1, "BAFR": 5, "BOTH": 2,
    "CHNE": 1, "OOTH": 4, "REFU": 1, "NOBT": 1,
}  # fmt: skip
PARTICIPATION = {"PN1": 40, "PN2": 8, "PN3": 5, "PN4": 5, "PN5": 12, "PN6": 20, "PN7": 10}
GIVEN = ("Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Taylor", "Jamie", "Robin", "Ellis")
FAMILY = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Khan")
TEAMS = ("North", "South", "East", "West", "Central", "Children in Care 1", "Children in Care 2")
NO_PROVIDER = {*TEMPORARY, "Z1", "Z11", "Z12", "Z13", "Z14"}
WITH_URN = {"K1", "K2", "K3", "R3", "S1", "H5"}


def _pick(rng: random.Random, weights: dict[str, int], field: str, year: CollectionYear) -> str:
    """A weighted choice among the codes valid in ``year``."""
    codes = [c for c in weights if is_valid(field, c, year)]
    return rng.choices(codes, [weights[c] for c in codes])[0]


def _birthday(born: date, years: int) -> date:
    """The day a child born on ``born`` turns ``years`` (29 February: 1 March)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def _day(value: date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


def _postcode(rng: random.Random) -> str:
    # No postcode area starts with Q, so these can never be somebody's address.
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (
        f"Q{rng.choice(letters)}{rng.randrange(1, 30)} "
        f"{rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
    )


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, count, product = 2.718281828459045**-mean, 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass
class _Episode:
    start: date
    end: date | None
    rne: str
    ls: str
    place: str
    postcode: str
    urn: str
    rec: str = ""
    change: str = ""


@dataclass
class _Child:
    id: str
    la: str
    row: dict[str, str]
    episodes: list[_Episode]
    home: str = ""
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Config:
    year: CollectionYear
    end: date
    authorities: tuple[str, ...]
    allocation: bool


def _carer(rng: random.Random, place: str) -> tuple[str, str]:
    """A placement postcode and, for regulated settings, an Ofsted URN."""
    urn = f"SC{rng.randrange(100000, 999999)}" if place in WITH_URN else ""
    return _postcode(rng), urn


def _place_for(rng: random.Random, until: date | None, cfg: _Config) -> str:
    """A placement type valid for an episode from ``on`` to ``until`` (None: still open)."""
    year = CollectionYear.of(until or cfg.end)
    while True:
        place = _pick(rng, PLACEMENTS, "PLACE", year)
        cutoff = VALID_UNTIL.get(("PLACE", place))
        if cutoff is None or (until is not None and until <= cutoff):
            return place


def _carry(place: str, until: date | None, cfg: _Config) -> str:
    """A placement type carried into a later episode, recoded as the later year requires
    (H5 became K3 and Z1 became its sub-codes in 2025/26; P2 ended in October 2023)."""
    year = CollectionYear.of(until or cfg.end)
    cutoff = VALID_UNTIL.get(("PLACE", place))
    if is_valid("PLACE", place, year) and (
        cutoff is None or (until is not None and until <= cutoff)
    ):
        return place
    return {"H5": "K3", "P2": "K3", "Z1": "Z14"}.get(place, place)


def _episodes(rng: random.Random, start: date, stop: date | None, cfg: _Config) -> list[_Episode]:
    """The episodes of one period of care, from ``start`` to ``stop`` (None: still open)."""
    last_day = stop or cfg.end
    days = max((last_day - start).days, 1)
    changes = min(_poisson(rng, 1.9), days - 1)
    starts = [
        start,
        *sorted(start + timedelta(days=d) for d in rng.sample(range(1, days), changes)),
    ]
    ends: list[date | None] = [*starts[1:], stop]
    made: list[_Episode] = []
    i = 0
    while i < len(starts):
        begin, finish = starts[i], ends[i]
        year = CollectionYear.of(finish or cfg.end)
        if not made:
            place = _place_for(rng, finish, cfg)
            made.append(
                _Episode(
                    begin,
                    finish,
                    "S",
                    _pick(rng, FIRST_LEGAL_STATUS, "LS", year),
                    place,
                    *_carer(rng, place),
                )
            )
            i += 1
            continue
        before = made[-1]
        reason = rng.choices(list(NEXT_REASON), list(NEXT_REASON.values()))[0]
        legal = before.ls
        if reason in ("L", "B", "U"):
            legal = _pick(rng, NEXT_LEGAL_STATUS, "LS", year)
        place, postcode, urn = _carry(before.place, finish, cfg), before.postcode, before.urn
        if reason in ("P", "B"):
            place = _place_for(rng, finish, cfg)
            postcode, urn = _carer(rng, place)
        elif reason in ("T", "U"):
            place = _place_for(rng, finish, cfg)
            urn = _carer(rng, place)[1]
        if (
            reason == "P"
            and finish is not None
            and (finish - begin).days > 10
            and rng.random() < 0.08
        ):
            # A temporary placement of a few days, then back to the same placement.
            back = begin + timedelta(days=rng.randrange(1, 8))
            made.append(
                _Episode(begin, back, "P", legal, rng.choice(TEMPORARY), _postcode(rng), "")
            )
            again = _carry(before.place, finish, cfg)
            made.append(_Episode(back, finish, "P", legal, again, before.postcode, before.urn))
            i += 1
            continue
        made.append(_Episode(begin, finish, reason, legal, place, postcode, urn))
        i += 1
    for earlier, later in pairwise(made):
        earlier.rec = "X1"
        if later.rne != "L" and earlier.place not in TEMPORARY:
            year = CollectionYear.of(later.start)
            earlier.change = _pick(rng, PLACE_CHANGE, "REASON_PLACE_CHANGE", year)
    if stop is not None:
        year = CollectionYear.of(stop)
        if len(made) > 1 and made[-1].rne != "L" and rng.random() < 0.25:
            # Left care by adoption: placed for adoption under a placement order first.
            made[-1].place, made[-1].ls = rng.choice(("A5", "A6")), "E1"
            made[-1].rne, made[-1].urn = "B", ""
        if made[-1].place in ("A5", "A6"):
            made[-1].rec = rng.choice(("E11", "E11", "E12"))
        else:
            leaving = {k: v for k, v in LEAVING.items() if k not in ("E11", "E12")}
            made[-1].rec = _pick(rng, leaving, "REC", year)
    return made


def _make_child(index: int, seed: int, cfg: _Config) -> _Child:
    rng = random.Random(f"{seed}/child/{index}")
    end = cfg.end
    age = rng.choices(range(18), [3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 7, 8, 10, 12, 12, 10])[0]
    born = end - timedelta(days=age * 365 + rng.randrange(365))
    length = min(int(rng.expovariate(1 / 540)) + 1, (end - born).days)
    start = end - timedelta(days=length)
    left = rng.random() < 0.12 and length > 30
    stop = end - timedelta(days=rng.randrange(0, min(length - 1, 300))) if left else None
    episodes = _episodes(rng, start, stop, cfg)
    sex = rng.choice(("M", "F") if cfg.year >= CollectionYear(2024) else ("1", "2"))
    female = sex in ("F", "2")
    child_id = f"{index + 1:07d}"
    row = {
        "CHILD": child_id,
        "SEX": sex,
        "DOB": _day(born),
        "ETHNIC": rng.choices(list(ETHNICITIES), list(ETHNICITIES.values()))[0],
        "UPN": "UN1" if age < 4 else f"Q{rng.randrange(10**11, 10**12)}",
        "MOTHER": ("1" if rng.random() < 0.02 else "0") if female and age >= 12 else "",
    }
    # The authority has its own random stream, so --la changes nothing but the LA column.
    la = random.Random(f"{seed}/la/{index}").choice(cfg.authorities) if cfg.authorities else ""
    child = _Child(child_id, la, row, episodes)
    _other_tables(rng, child, born, start, stop, cfg)
    return child


def _other_tables(
    rng: random.Random, child: _Child, born: date, start: date, stop: date | None, cfg: _Config
) -> None:
    dob = _day(born)
    last = stop or cfg.end
    reviews: list[dict[str, str]] = []
    held = start + timedelta(days=28)
    gap = 91
    while held <= last:
        if held < _birthday(born, 4):
            code = "PN0"
        else:
            code = rng.choices(list(PARTICIPATION), list(PARTICIPATION.values()))[0]
        reviews.append({"CHILD": child.id, "DOB": dob, "REVIEW": _day(held), "REVIEW_CODE": code})
        held += timedelta(days=gap + rng.randrange(-10, 5))
        gap = 182
    child.tables["reviews"] = reviews
    adoption = [e for e in child.episodes if e.ls == "E1" or e.place in ("A3", "A4", "A5", "A6")]
    if adoption:
        decided = max(start, adoption[0].start - timedelta(days=rng.randrange(30, 200)))
        decision = {"CHILD": child.id, "DOB": dob, "DATE_PLACED": _day(decided)}
        if rng.random() < 0.1 and decided < last - timedelta(days=40):
            decision["DATE_PLACED_CEASED"] = _day(
                decided + timedelta(days=rng.randrange(30, (last - decided).days))
            )
            decision["REASON_PLACED_CEASED"] = rng.choice(("RD1", "RD2", "RD3", "RD4"))
        child.tables["placed_for_adoption"] = [decision]
        if child.episodes[-1].rec in ("E11", "E12"):
            matched = min(decided + timedelta(days=rng.randrange(60, 300)), last)
            child.tables["ad1"] = [
                {
                    "CHILD": child.id,
                    "DOB": dob,
                    "DATE_INT": _day(decided),
                    "DATE_MATCH": _day(matched),
                    "FOSTER_CARE": rng.choice("01"),
                    "NB_ADOPTR": (number := rng.choice("12")),
                    "SEX_ADOPTR": rng.choice(("M1", "F1"))
                    if number == "1"
                    else rng.choice(("MF", "MM", "FF")),
                    "LS_ADOPTR": "L0"
                    if number == "1"
                    else rng.choice(("L11", "L12", "L2", "L3", "L4")),
                }
            ]
    if rng.random() < 0.1 and (cfg.end - born).days > 12 * 365:
        ceases = _day(_birthday(born, 18))
        child.tables["uasc"] = [
            {"CHILD": child.id, "SEX": child.row["SEX"], "DOB": dob, "DUC": ceases}
        ]
    previous = rng.choices(("Z1", "P1", "P2", "P3", "P4"), (90, 1, 5, 3, 1))[0]
    perm = {"CHILD": child.id, "DOB": dob, "PREV_PERM": previous}
    if previous != "Z1":
        perm["LA_PERM"] = str(rng.randrange(300, 940))
        ordered = born + timedelta(days=rng.randrange(1, max(2, (start - born).days)))
        perm["DATE_PERM"] = (
            _day(ordered) if rng.random() < 0.8 else "ZZ/" + ordered.strftime("%m/%Y")
        )
    child.tables["previous_permanence"] = [perm]
    if cfg.allocation:
        child.tables["allocation"] = [
            {
                "CHILD": child.id,
                "REFERENCE": f"CR{rng.randrange(10**6, 10**7)}",
                "GIVEN_NAME": rng.choice(GIVEN),
                "FAMILY_NAME": rng.choice(FAMILY),
                "TEAM": rng.choice(TEAMS),
                "SOCIAL_WORKER": "" if rng.random() < 0.1 else f"sw{rng.randrange(1, 400):03d}",
            }
        ]


def _change(child: _Child, seed: int, index: int, later: date, cfg: _Config) -> str | None:
    """Change one child for the later extract; the kind of change, or None if none applied."""
    rng = random.Random(f"{seed}/change/{index}")
    last = child.episodes[-1]
    kind = rng.choice(("new_episode", "closed", "withdrawn"))
    if last.end is not None and kind != "withdrawn":
        kind = "withdrawn"
    if kind == "withdrawn":
        if len(child.episodes) < 2:
            return None
        child.episodes.pop()
        before = child.episodes[-1]
        before.end, before.rec, before.change = None, "", ""
        return kind
    moved = cfg.end + timedelta(days=rng.randrange(1, (later - cfg.end).days))
    year = CollectionYear.of(moved)
    last.end = moved
    if kind == "closed":
        last.rec = _pick(
            rng, {k: v for k, v in LEAVING.items() if k not in ("E11", "E12")}, "REC", year
        )
        return kind
    last.rec = "X1"
    last.change = _pick(rng, PLACE_CHANGE, "REASON_PLACE_CHANGE", year)
    place = _place_for(rng, None, cfg)
    child.episodes.append(_Episode(moved, None, "P", last.ls, place, *_carer(rng, place)))
    return kind


def _episode_rows(child: _Child) -> list[dict[str, str]]:
    rows = []
    for e in child.episodes:
        rows.append(
            {
                "CHILD": child.id,
                "DECOM": _day(e.start),
                "RNE": e.rne,
                "LS": e.ls,
                "CIN": "N1",
                "PLACE": e.place,
                "PLACE_PROVIDER": ""
                if e.place in NO_PROVIDER
                else ("PR0" if e.place == "P1" else "PR1"),
                "DEC": _day(e.end),
                "REC": e.rec,
                "REASON_PLACE_CHANGE": e.change,
                "HOME_POST": child.home,
                "PL_POST": e.postcode,
                "URN": e.urn,
            }
        )
    return rows


def generate(
    out: Path,
    *,
    children: int,
    seed: int,
    year: CollectionYear,
    authorities: Sequence[str] = (),
    changed_percent: float = 0.0,
    allocation: bool = False,
) -> dict[str, Any]:
    """Write the return into ``out``; the number of rows per table and of changed children."""
    cfg = _Config(year, year.last_day, tuple(authorities), allocation)
    later = cfg.end + timedelta(days=91)
    names = [n for n in COLUMNS if n != "allocation" or allocation]
    counts = dict.fromkeys(names, 0)
    changes: dict[str, int] = {}
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        writers = {}
        for name in names:
            handle = stack.enter_context(
                (out / f"{name}.csv").open("w", newline="", encoding="utf-8")
            )
            writer = csv.writer(handle)
            writer.writerow([*COLUMNS[name], *(("LA",) if authorities else ())])
            writers[name] = writer
        for index in range(children):
            child = _make_child(index, seed, cfg)
            child.home = _postcode(random.Random(f"{seed}/home/{index}"))
            if (
                changed_percent
                and random.Random(f"{seed}/pick/{index}").random() * 100 < changed_percent
            ):
                kind = _change(child, seed, index, later, cfg)
                if kind is not None:
                    changes[kind] = changes.get(kind, 0) + 1
            tables = dict(child.tables)
            tables["header"] = [child.row]
            tables["episodes"] = _episode_rows(child)
            for name in names:
                for row in tables.get(name, ()):
                    values = [row.get(c, "") for c in COLUMNS[name]]
                    writers[name].writerow([*values, child.la] if authorities else values)
                    counts[name] += 1
    return {"rows": counts, "changed": changes}


def _authorities(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    if text.isdigit():
        count = int(text)
        if not 2 <= count <= len(AUTHORITIES):
            raise SystemExit(f"--la: give 2 to {len(AUTHORITIES)} authorities, or their names")
        return AUTHORITIES[:count]
    return tuple(n.strip() for n in text.split(",") if n.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the files and print how many rows of each table, and how long."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSV files in")
    parser.add_argument("--size", choices=sorted(SIZES), default="authority")
    parser.add_argument("--children", type=int, help="number of children (overrides --size)")
    parser.add_argument("--seed", type=int, default=903)
    parser.add_argument("--year", default="2025/26", help="collection year of the extract")
    parser.add_argument("--la", help="several authorities: a count, or names separated by commas")
    parser.add_argument("--changed-percent", type=float, default=0.0)
    parser.add_argument("--allocation", action="store_true", help="also write allocation.csv")
    args = parser.parse_args(argv)
    children = args.children if args.children is not None else SIZES[args.size]
    started = time.perf_counter()
    result = generate(
        args.out,
        children=children,
        seed=args.seed,
        year=CollectionYear.parse(args.year),
        authorities=_authorities(args.la),
        changed_percent=args.changed_percent,
        allocation=args.allocation,
    )
    elapsed = time.perf_counter() - started
    rows = ", ".join(f"{name} {count:,}" for name, count in result["rows"].items())
    print(f"{children:,} children in {elapsed:.1f} s to {args.out}: {rows}")
    if args.changed_percent:
        print(f"changed children: {result['changed']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
