"""The SSDA903 (children looked after) code lists, year by year, with labels in plain English.

Every field of the return that carries a code has its list here, for each collection year from
2017/18 to the current specification (2026/27). A collection year runs from 1 April to 31 March
(:class:`CollectionYear`); a code is valid in a year when that year's specification lists it
(:func:`is_valid`). Pages and exports show :func:`label`, never the bare code.

Where the lists come from
-------------------------
The DfE's published specification of each year: "Children looked after by local authorities in
England: guide to the SSDA903 collection" and its technical specification and validation rules,
2017 to 2018 through 2026 to 2027. The lists were checked against two public readings of those
documents: data-to-insight/csc-validator-be-903 (MIT; its rule sets 2022/23 to 2026/27, rules
101, 103, 120, 143-149, 175-178, 217t, 230, 371, 503D, 631, 1009) and
SocialFinanceDigitalLabs/liia-tools (its SSDA903 schema files 2017-2024, for the 2018/19 change
to the reasons an episode ceased). The labels are our own shorter wording of the DfE's.

The changes between years that matter here
------------------------------------------
* 2018/19: special guardianship orders split by carer (REC E45-E48 replace E43/E44); new reason
  for a placement change CUSTOD (custody arrangement).
* 2023/24: supported accommodation for 16 and 17 year olds became regulated from
  28 October 2023. P2 (independent living) is not valid for a placement open after that day
  (:data:`VALID_UNTIL`); H5 needs an Ofsted URN from then on. No other placement code changed
  in 2023/24 (K1, K2 and R5 kept their meaning).
* 2024/25: K3 (supported accommodation registered with Ofsted) is H5's successor; sex is
  recorded as M / F / U instead of 1 / 2.
* 2025/26: H5 and P2 are gone; Z1 (other placements) is split into Z11, Z12, Z13 and Z14.
* 2026/27: a new table of deprivation of liberty orders (DoLO); no code list changed.

One caution: the four 2025/26 sub-codes of Z1 are known from the validator's rule sets, which do
not give their wording, so their labels say no more than "other placement" with the sub-code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True, order=True)
class CollectionYear:
    """One SSDA903 collection year, 1 April ``start`` to 31 March ``start + 1``."""

    start: int

    @classmethod
    def of(cls, day: date) -> CollectionYear:
        """The collection year a date falls in (1 April opens a year, 31 March closes it)."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> CollectionYear:
        """``"2023/24"`` (or ``"2023-24"``, ``"2023 to 2024"``) as a collection year."""
        match = re.fullmatch(r"\s*(\d{4})\s*(?:/|-|to)\s*(\d{2}|\d{4})\s*", text)
        if match is None:
            raise ValueError(f"not a collection year: {text!r} (expected e.g. 2023/24)")
        start, end = int(match.group(1)), match.group(2)
        if int(end) % 100 != (start + 1) % 100 or (len(end) == 4 and int(end) != start + 1):
            raise ValueError(f"not a collection year: {text!r} (the years must be consecutive)")
        return cls(start)

    @property
    def first_day(self) -> date:
        """1 April of the year's start."""
        return date(self.start, 4, 1)

    @property
    def last_day(self) -> date:
        """31 March of the year's end."""
        return date(self.start + 1, 3, 31)

    def __str__(self) -> str:
        return f"{self.start}/{(self.start + 1) % 100:02d}"


FIRST_YEAR = CollectionYear(2017)
"""The earliest year whose lists are held here (2017/18)."""

CURRENT_YEAR = CollectionYear(2026)
"""The current specification (2026/27)."""


def supported_years() -> tuple[CollectionYear, ...]:
    """Every collection year with lists here, oldest first."""
    return tuple(CollectionYear(y) for y in range(FIRST_YEAR.start, CURRENT_YEAR.start + 1))


def clamp(year: CollectionYear) -> CollectionYear:
    """The year whose lists judge ``year``: years before 2017/18 use 2017/18's, later years
    the current specification's (the lists barely changed before 2017, and a year beyond the
    current specification has no lists yet)."""
    return min(max(year, FIRST_YEAR), CURRENT_YEAR)


@dataclass(frozen=True)
class Code:
    """One code of a field, its label and the years it is valid in (``last`` None: still)."""

    code: str
    label: str
    first: CollectionYear
    last: CollectionYear | None

    def valid_in(self, year: CollectionYear) -> bool:
        """True if the code is in the list of ``year`` (clamped to the years held here)."""
        return self.valid_between(year, year)

    def valid_between(self, first: CollectionYear, last: CollectionYear) -> bool:
        """True if the code is in the list of at least one year from ``first`` to ``last``."""
        # Plain integers: this runs for every code of every row of a national return.
        low = min(max(first.start, FIRST_YEAR.start), CURRENT_YEAR.start)
        high = min(max(last.start, FIRST_YEAR.start), CURRENT_YEAR.start)
        return self.first.start <= high and (self.last is None or low <= self.last.start)


# Each list: (code, label, first collection year, last collection year or None). Years are
# written by their first calendar year: 2018 is 2018/19. 2017 means "2017/18 or earlier".
_Row = tuple[str, str, int, int | None]

_LS: tuple[_Row, ...] = (
    ("C1", "Interim care order", 2017, None),
    ("C2", "Full care order", 2017, None),
    ("D1", "Freeing order granted", 2017, None),
    ("E1", "Placement order granted", 2017, None),
    ("V2", "Accommodated under section 20 (single period)", 2017, None),
    ("V3", "Short breaks: agreed series, each episode recorded", 2017, None),
    ("V4", "Short breaks: agreed series, agreements recorded", 2017, None),
    ("L1", "Police protection, in local authority accommodation", 2017, None),
    ("L2", "Emergency protection order", 2017, None),
    ("L3", "Child assessment order, in local authority accommodation", 2017, None),
    ("J1", "Remanded to local authority or youth detention accommodation", 2017, None),
    (
        "J2",
        "In local authority accommodation under the Police and Criminal Evidence Act",
        2017,
        None,
    ),
    ("J3", "Youth rehabilitation order with a residence or fostering requirement", 2017, None),
)

_RNE: tuple[_Row, ...] = (
    ("S", "Started to be looked after", 2017, None),
    ("L", "Change of legal status only", 2017, None),
    ("P", "Change of placement and carer", 2017, None),
    ("T", "Change of placement, same carer", 2017, None),
    ("B", "Change of legal status and of placement and carer", 2017, None),
    ("U", "Change of legal status and of placement, same carer", 2017, None),
)

_CIN: tuple[_Row, ...] = (
    ("N1", "Abuse or neglect", 2017, None),
    ("N2", "Child's disability", 2017, None),
    ("N3", "Parental illness or disability", 2017, None),
    ("N4", "Family in acute stress", 2017, None),
    ("N5", "Family dysfunction", 2017, None),
    ("N6", "Socially unacceptable behaviour", 2017, None),
    ("N7", "Low income", 2017, None),
    ("N8", "Absent parenting", 2017, None),
)

_PLACE: tuple[_Row, ...] = (
    ("A3", "Placed for adoption with consent, with current foster carers", 2017, None),
    ("A4", "Placed for adoption with consent, not with current foster carers", 2017, None),
    ("A5", "Placed for adoption under a placement order, with current foster carers", 2017, None),
    (
        "A6",
        "Placed for adoption under a placement order, not with current foster carers",
        2017,
        None,
    ),
    ("H5", "Semi-independent living, not subject to children's homes regulations", 2017, 2024),
    ("K1", "Secure children's home", 2017, None),
    ("K2", "Children's home", 2017, None),
    ("K3", "Supported accommodation registered with Ofsted", 2024, None),
    ("P1", "Placed with parents or others with parental responsibility", 2017, None),
    ("P2", "Independent living (flat, lodgings, bedsit, B&B or with friends)", 2017, 2023),
    ("P3", "Residential employment", 2017, None),
    ("R1", "Residential care home", 2017, None),
    ("R2", "NHS or other health establishment giving medical or nursing care", 2017, None),
    ("R3", "Family centre or mother and baby unit", 2017, None),
    ("R5", "Young offender institution", 2017, None),
    ("S1", "Residential school", 2017, None),
    ("T0", "Temporary move", 2017, None),
    ("T1", "Temporary period in hospital", 2017, None),
    ("T2", "Temporary absence on holiday", 2017, None),
    ("T3", "Temporary placement while the usual foster carer is on holiday", 2017, None),
    ("T4", "Temporary placement of seven days or less", 2017, None),
    ("U1", "Foster care with a relative or friend: long-term", 2017, None),
    ("U2", "Foster care with a relative or friend who is an approved adopter", 2017, None),
    ("U3", "Foster care with a relative or friend: not long-term", 2017, None),
    ("U4", "Foster care with another foster carer: long-term", 2017, None),
    ("U5", "Foster care with another foster carer who is an approved adopter", 2017, None),
    ("U6", "Foster care with another foster carer: not long-term", 2017, None),
    ("Z1", "Other placement", 2017, 2024),
    # The validator's 2025/26 rules name these four codes without their wording (see above).
    ("Z11", "Other placement (sub-type Z11)", 2025, None),
    ("Z12", "Other placement (sub-type Z12)", 2025, None),
    ("Z13", "Other placement (sub-type Z13)", 2025, None),
    ("Z14", "Other placement (sub-type Z14)", 2025, None),
)

_PLACE_PROVIDER: tuple[_Row, ...] = (
    ("PR0", "Parents or others with parental responsibility", 2017, None),
    ("PR1", "The local authority's own provision", 2017, None),
    ("PR2", "Another local authority's provision", 2017, None),
    ("PR3", "Other public provision", 2017, None),
    ("PR4", "Private provision", 2017, None),
    ("PR5", "Voluntary or third sector provision", 2017, None),
)

_REC: tuple[_Row, ...] = (
    ("X1", "Episode ended and a new one began the same day", 2017, None),
    ("E11", "Adopted: application unopposed", 2017, None),
    ("E12", "Adopted: consent dispensed with by the court", 2017, None),
    ("E2", "Died", 2017, None),
    ("E3", "Care taken over by another local authority in the UK", 2017, None),
    ("E4A", "Returned home to parents as part of the care plan", 2017, None),
    ("E4B", "Returned home to parents, not as part of the care plan", 2017, None),
    (
        "E13",
        "Left care to live with a parent or relative without parental responsibility",
        2017,
        None,
    ),
    ("E41", "Residence or child arrangements order granted", 2017, None),
    ("E43", "Special guardianship order made to former foster carers", 2017, 2017),
    (
        "E44",
        "Special guardianship order made to carers other than former foster carers",
        2017,
        2017,
    ),
    (
        "E45",
        "Special guardianship order to former foster carers who are relatives or friends",
        2018,
        None,
    ),
    (
        "E46",
        "Special guardianship order to former foster carers, not relatives or friends",
        2018,
        None,
    ),
    ("E47", "Special guardianship order to other carers who are relatives or friends", 2018, None),
    ("E48", "Special guardianship order to other carers, not relatives or friends", 2018, None),
    ("E5", "Moved to independent living with formal support", 2017, None),
    ("E6", "Moved to independent living without formal support", 2017, None),
    ("E7", "Transferred to residential care funded by adult social care", 2017, None),
    ("E8", "Ceased to be looked after for another reason", 2017, None),
    ("E9", "Sentenced to custody", 2017, None),
    ("E14", "Accommodation on remand ended", 2017, None),
    ("E15", "Age assessment found the child to be 18 or over", 2017, None),
    ("E16", "Child moved abroad", 2017, None),
    ("E17", "Aged 18 or over and stayed with current carers (staying put)", 2017, None),
)

_REASON_PLACE_CHANGE: tuple[_Row, ...] = (
    ("CARPL", "Change to, or carrying out of, the care plan", 2017, None),
    ("CLOSE", "Carer resigned or the provision closed", 2017, None),
    ("ALLEG", "Allegation (section 47 enquiry)", 2017, None),
    ("STAND", "Concerns about the standard of care", 2017, None),
    ("APPRR", "Carer's approval removed", 2017, None),
    ("CREQB", "Carer asked for the placement to end because of the child's behaviour", 2017, None),
    ("CREQO", "Carer asked for the placement to end for another reason", 2017, None),
    ("CHILD", "Child asked for the placement to end", 2017, None),
    ("LAREQ", "Responsible or area authority asked for the placement to end", 2017, None),
    ("PLACE", "Change in the status of the placement only", 2017, None),
    ("CUSTOD", "Custody arrangement", 2018, None),
    ("OTHER", "Other reason", 2017, None),
)

_REVIEW_CODE: tuple[_Row, ...] = (
    ("PN0", "Child under 4 at the time of the review", 2017, None),
    ("PN1", "Child attended and spoke for themselves", 2017, None),
    ("PN2", "Child attended and an advocate spoke for them", 2017, None),
    ("PN3", "Child attended and gave their views without words", 2017, None),
    ("PN4", "Child attended but did not give their views", 2017, None),
    ("PN5", "Child did not attend but briefed an advocate", 2017, None),
    ("PN6", "Child did not attend but gave their views another way", 2017, None),
    ("PN7", "Child did not attend and their views were not given", 2017, None),
)

_SEX: tuple[_Row, ...] = (
    ("1", "Male", 2017, 2023),
    ("2", "Female", 2017, 2023),
    ("M", "Male", 2024, None),
    ("F", "Female", 2024, None),
    ("U", "Not known", 2024, None),
)

_ETHNIC: tuple[_Row, ...] = (
    ("WBRI", "White British", 2017, None),
    ("WIRI", "White Irish", 2017, None),
    ("WOTH", "Any other White background", 2017, None),
    ("WIRT", "Traveller of Irish heritage", 2017, None),
    ("WROM", "Gypsy or Roma", 2017, None),
    ("MWBC", "White and Black Caribbean", 2017, None),
    ("MWBA", "White and Black African", 2017, None),
    ("MWAS", "White and Asian", 2017, None),
    ("MOTH", "Any other mixed background", 2017, None),
    ("AIND", "Indian", 2017, None),
    ("APKN", "Pakistani", 2017, None),
    ("ABAN", "Bangladeshi", 2017, None),
    ("AOTH", "Any other Asian background", 2017, None),
    ("BCRB", "Caribbean", 2017, None),
    ("BAFR", "African", 2017, None),
    ("BOTH", "Any other Black background", 2017, None),
    ("CHNE", "Chinese", 2017, None),
    ("OOTH", "Any other ethnic group", 2017, None),
    ("REFU", "Refused", 2017, None),
    ("NOBT", "Information not yet obtained", 2017, None),
)

_UPN_UNKNOWN: tuple[_Row, ...] = (
    ("UN1", "No UPN yet: not of school age", 2017, None),
    ("UN2", "No UPN: never attended a maintained school in England", 2017, None),
    ("UN3", "No UPN: educated outside England", 2017, None),
    ("UN4", "UPN not yet known: newly looked after", 2017, None),
    ("UN5", "UPN withheld: records disagree on the child's details", 2017, None),
)

_MOTHER: tuple[_Row, ...] = (
    ("0", "Not a mother", 2017, None),
    ("1", "A mother", 2017, None),
)

_REASON_PLACED_CEASED: tuple[_Row, ...] = (
    ("RD1", "The child's needs changed after the decision", 2017, None),
    ("RD2", "The court did not make a placement order", 2017, None),
    ("RD3", "Prospective adopters could not be found", 2017, None),
    ("RD4", "Another reason", 2017, None),
)

_FOSTER_CARE: tuple[_Row, ...] = (
    ("0", "Not adopted by their foster carers", 2017, None),
    ("1", "Adopted by their foster carers", 2017, None),
)

_NB_ADOPTR: tuple[_Row, ...] = (
    ("1", "One adopter", 2017, None),
    ("2", "Two adopters", 2017, None),
)

_SEX_ADOPTR: tuple[_Row, ...] = (
    ("M1", "A single male adopter", 2017, None),
    ("F1", "A single female adopter", 2017, None),
    ("MM", "Two male adopters", 2017, None),
    ("FF", "Two female adopters", 2017, None),
    ("MF", "A male and a female adopter", 2017, None),
)

_LS_ADOPTR: tuple[_Row, ...] = (
    ("L0", "Single adopter", 2017, None),
    ("L11", "Married couple of different sexes", 2017, None),
    ("L12", "Married couple of the same sex", 2017, None),
    ("L2", "Civil partners", 2017, None),
    ("L3", "Unmarried couple of different sexes", 2017, None),
    ("L4", "Unmarried couple of the same sex", 2017, None),
)

_PREV_PERM: tuple[_Row, ...] = (
    ("P1", "Adoption", 2017, None),
    ("P2", "Special guardianship order", 2017, None),
    ("P3", "Residence order or child arrangements order", 2017, None),
    ("P4", "A permanence order of a type not known", 2017, None),
    ("Z1", "No previous permanence order", 2017, None),
)

_RAW: Mapping[str, tuple[_Row, ...]] = {
    "LS": _LS,
    "RNE": _RNE,
    "CIN": _CIN,
    "PLACE": _PLACE,
    "PLACE_PROVIDER": _PLACE_PROVIDER,
    "REC": _REC,
    "REASON_PLACE_CHANGE": _REASON_PLACE_CHANGE,
    "REVIEW_CODE": _REVIEW_CODE,
    "SEX": _SEX,
    "ETHNIC": _ETHNIC,
    "UPN_UNKNOWN": _UPN_UNKNOWN,
    "MOTHER": _MOTHER,
    "REASON_PLACED_CEASED": _REASON_PLACED_CEASED,
    "FOSTER_CARE": _FOSTER_CARE,
    "NB_ADOPTR": _NB_ADOPTR,
    "SEX_ADOPTR": _SEX_ADOPTR,
    "LS_ADOPTR": _LS_ADOPTR,
    "PREV_PERM": _PREV_PERM,
}


def _build() -> Mapping[str, Mapping[str, Code]]:
    lists: dict[str, Mapping[str, Code]] = {}
    for name, rows in _RAW.items():
        entries = {
            code: Code(
                code,
                text,
                CollectionYear(first),
                None if last is None else CollectionYear(last),
            )
            for code, text, first, last in rows
        }
        if len(entries) != len(rows):
            raise ValueError(f"duplicate code in the {name} list")
        lists[name] = MappingProxyType(entries)
    return MappingProxyType(lists)


CODE_LISTS: Mapping[str, Mapping[str, Code]] = _build()
"""Field name -> code -> :class:`Code`, over every year held here."""

VALID_UNTIL: Mapping[tuple[str, str], date] = MappingProxyType(
    {
        # Independent living stopped being a placement when supported accommodation became
        # regulated: a P2 episode must have ended by 28 October 2023 (DfE rule 217).
        ("PLACE", "P2"): date(2023, 10, 28),
    }
)
"""Codes that stop being valid on a day inside a collection year: an episode carrying one must
have ended on or before that day."""


class UnknownCode(KeyError):
    """A field or code that no year's list holds."""


def fields() -> tuple[str, ...]:
    """The fields with a code list, in a stable order."""
    return tuple(CODE_LISTS)


def _field(field: str) -> Mapping[str, Code]:
    try:
        return CODE_LISTS[field]
    except KeyError:
        raise UnknownCode(f"no SSDA903 code list for field {field!r}") from None


def codes(field: str, year: CollectionYear) -> frozenset[str]:
    """The codes of ``field`` valid in ``year`` (clamped to the years held here)."""
    return frozenset(c.code for c in _field(field).values() if c.valid_in(year))


def is_valid(field: str, code: str, year: CollectionYear) -> bool:
    """True if ``code`` is in the ``field`` list of collection year ``year``.

    Years before 2017/18 are judged by 2017/18's list and years after the current
    specification by the current one (:func:`clamp`). Codes are case-sensitive, as in the
    DfE's lists.
    """
    entry = _field(field).get(code)
    return entry is not None and entry.valid_in(year)


def is_valid_between(field: str, code: str, first: CollectionYear, last: CollectionYear) -> bool:
    """True if ``code`` is in the ``field`` list of at least one year from ``first`` to
    ``last`` (each clamped as :func:`is_valid` does)."""
    entry = _field(field).get(code)
    return entry is not None and entry.valid_between(first, last)


def valid_years(field: str, code: str) -> tuple[CollectionYear, ...]:
    """The years held here in which ``code`` is valid (empty for an unknown code)."""
    entry = _field(field).get(code)
    if entry is None:
        return ()
    return tuple(y for y in supported_years() if entry.valid_in(y))


def label(field: str, code: str) -> str:
    """The words for a code, e.g. ``label("LS", "C1") == "Interim care order"``.

    Raises :class:`UnknownCode` for a code no year's list holds: such a code never passes the
    import's rules, so meeting one here is a bug, not something to show.
    """
    entry = _field(field).get(code)
    if entry is None:
        raise UnknownCode(f"{code!r} is not an SSDA903 {field} code")
    return entry.label


def iter_codes(field: str) -> Iterator[Code]:
    """Every code of ``field`` over all years held here, in the specification's order."""
    return iter(_field(field).values())


# Named groups the cohorts are built from. Each names one field's codes; the groups cover all
# years (a group may hold a code that is valid only in some years, such as H5 and K3).
SECTION_20 = frozenset({"V2"})
"""LS: accommodated under section 20 (not the short breaks V3/V4)."""
SHORT_BREAKS = frozenset({"V3", "V4"})
"""LS: an agreed series of short breaks."""
INTERIM_CARE_ORDER = frozenset({"C1"})
"""LS: interim care order."""
FULL_CARE_ORDER = frozenset({"C2"})
"""LS: full care order."""
CARE_ORDERS = INTERIM_CARE_ORDER | FULL_CARE_ORDER
"""LS: an interim or a full care order."""
PLACEMENT_ORDER = frozenset({"E1"})
"""LS: placement order granted."""
FREEING_ORDER = frozenset({"D1"})
"""LS: freeing order granted (the order that preceded placement orders)."""
EMERGENCY = frozenset({"L1", "L2", "L3"})
"""LS: police protection, emergency protection or child assessment order."""
YOUTH_JUSTICE = frozenset({"J1", "J2", "J3"})
"""LS: remand, PACE accommodation or youth rehabilitation order."""

PLACED_WITH_PARENTS = frozenset({"P1"})
"""PLACE: placed with parents or others with parental responsibility."""
SEMI_INDEPENDENT = frozenset({"H5", "K3"})
"""PLACE: semi-independent / supported accommodation: H5 (unregulated until 28 October 2023,
last valid 2024/25) and its successor K3 (registered supported accommodation, from 2024/25)."""
INDEPENDENT_LIVING = frozenset({"P2"})
"""PLACE: independent living (not valid after 28 October 2023)."""
OTHER_PLACEMENTS = frozenset({"Z1", "Z11", "Z12", "Z13", "Z14"})
"""PLACE: other placements, Z1 and its 2025/26 sub-codes."""
CONNECTED_FOSTER = frozenset({"U1", "U2", "U3"})
"""PLACE: foster care with a relative or friend (connected person)."""
OTHER_FOSTER = frozenset({"U4", "U5", "U6"})
"""PLACE: foster care with a foster carer who is not a relative or friend."""
FOSTER = CONNECTED_FOSTER | OTHER_FOSTER
"""PLACE: any foster placement."""
LONG_TERM_FOSTER = frozenset({"U1", "U4"})
"""PLACE: long-term foster care (with a relative or friend, or another carer)."""
FOSTERING_FOR_ADOPTION = frozenset({"U2", "U5"})
"""PLACE: foster carer who is also an approved adopter (fostering for adoption)."""
PLACED_FOR_ADOPTION = frozenset({"A3", "A4", "A5", "A6"})
"""PLACE: placed for adoption."""
TEMPORARY = frozenset({"T0", "T1", "T2", "T3", "T4"})
"""PLACE: temporary placements and absences (not counted as placements)."""
CHILDRENS_HOMES = frozenset({"K1", "K2"})
"""PLACE: secure and other children's homes."""

STARTED_CARE = frozenset({"S"})
"""RNE: started to be looked after (a new period of care)."""
NEW_PLACEMENT = frozenset({"S", "P", "B", "T", "U"})
"""RNE: the reasons for a new episode that start a new placement (everything but L)."""
LEGAL_STATUS_CHANGE = frozenset({"L", "B", "U"})
"""RNE: the reasons for a new episode that change the legal status."""

STILL_LOOKED_AFTER = frozenset({"X1"})
"""REC: the episode ended but the child stayed looked after."""
ADOPTED = frozenset({"E11", "E12"})
"""REC: adopted."""
SPECIAL_GUARDIANSHIP = frozenset({"E43", "E44", "E45", "E46", "E47", "E48"})
"""REC: special guardianship order made (E43/E44 to 2017/18, E45-E48 from 2018/19)."""
CHILD_ARRANGEMENTS = frozenset({"E41"})
"""REC: residence or child arrangements order."""
RETURNED_HOME = frozenset({"E4A", "E4B"})
"""REC: returned home to parents or others with parental responsibility."""

GROUPS: Mapping[str, tuple[str, frozenset[str]]] = MappingProxyType(
    {
        "section_20": ("LS", SECTION_20),
        "short_breaks": ("LS", SHORT_BREAKS),
        "interim_care_order": ("LS", INTERIM_CARE_ORDER),
        "full_care_order": ("LS", FULL_CARE_ORDER),
        "care_orders": ("LS", CARE_ORDERS),
        "placement_order": ("LS", PLACEMENT_ORDER),
        "freeing_order": ("LS", FREEING_ORDER),
        "emergency": ("LS", EMERGENCY),
        "youth_justice": ("LS", YOUTH_JUSTICE),
        "placed_with_parents": ("PLACE", PLACED_WITH_PARENTS),
        "semi_independent": ("PLACE", SEMI_INDEPENDENT),
        "independent_living": ("PLACE", INDEPENDENT_LIVING),
        "other_placements": ("PLACE", OTHER_PLACEMENTS),
        "connected_foster": ("PLACE", CONNECTED_FOSTER),
        "other_foster": ("PLACE", OTHER_FOSTER),
        "foster": ("PLACE", FOSTER),
        "long_term_foster": ("PLACE", LONG_TERM_FOSTER),
        "fostering_for_adoption": ("PLACE", FOSTERING_FOR_ADOPTION),
        "placed_for_adoption": ("PLACE", PLACED_FOR_ADOPTION),
        "temporary": ("PLACE", TEMPORARY),
        "childrens_homes": ("PLACE", CHILDRENS_HOMES),
        "started_care": ("RNE", STARTED_CARE),
        "new_placement": ("RNE", NEW_PLACEMENT),
        "legal_status_change": ("RNE", LEGAL_STATUS_CHANGE),
        "still_looked_after": ("REC", STILL_LOOKED_AFTER),
        "adopted": ("REC", ADOPTED),
        "special_guardianship": ("REC", SPECIAL_GUARDIANSHIP),
        "child_arrangements": ("REC", CHILD_ARRANGEMENTS),
        "returned_home": ("REC", RETURNED_HOME),
    }
)
"""Every named group: name -> (field, codes)."""
