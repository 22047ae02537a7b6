"""Importing an SSDA903 return into the service's tables (issue 13 items 2, 3 and 10).

:func:`import_return` reads the files (``reader.py``), judges each child (``rules.py``) and
writes what changed:

* a **rejected** child writes nothing: its rejections go into the report;
* an accepted child whose **fingerprint** (a digest of its clean record, see
  :func:`fingerprint`) equals the stored one, and whose own row already shows what the record
  says, is **unchanged**: nothing is written;
* a **new** child gets the service's ``child`` row (its reference from the allocation, else the
  return's child id; names, team and social worker from the allocation, else none: the child is
  unallocated, :data:`UNALLOCATED_TEAM`) and every fact row;
* a **changed** child gets its new facts added, its changed facts updated in place, and the
  facts that the new extract of the same period no longer holds marked withdrawn
  (``withdrawn_by`` = this import), never deleted. "Of the same period": a fact is withdrawn
  only when the files given include its table and the fact reaches into the period the child's
  new rows cover (from their earliest date on), so importing one year's return never withdraws
  an older year's closed episodes.

All of one child's rows apply or none: children are written in batches, one transaction per
batch and a savepoint per child, so a child that fails to store (a reference already taken, a
value too long for its column) is rolled back alone and reported. The import itself is a
``care_import`` row (who, when, each file's SHA-256, the counts) and an audit entry. A dry run
does the same work in one transaction and rolls it back. An import that changes nothing writes
nothing at all, not even its ``care_import`` row, and its report says so.

The child's current legal status and the start of the current period of care are derived from
the record as of ``as_of`` (``derive.py``) into the child's own ``legal_status`` and
``looked_after_since``, in the service's own words (:data:`SERVICE_LEGAL_STATUS`).

Journeys from the record (item 5): after a child's rows are written, in the same savepoint,
:func:`services.care_record.journeys.derive_journeys` starts and advances the child's
journeys through the journey service, back-dated, as the import's system user; the report
counts the journeys started and the events recorded (a dry run counts them and writes
nothing). A child created by this import has no journeys to look up, so its journeys are
planned in memory by the same engine code and written together, one ``executemany`` per
table (``services.journey_batch``): the same rows, a fraction of the statements. An
unchanged child is not looked at again, so a re-import records no event.

Item 10: the report names children by the return's child id only; rejections carry values
made safe by ``rejections.safe_value``; log lines carry counts only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from os import PathLike
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

import states
from services import audit
from services.access import Principal
from services.care_record import derive
from services.care_record.journeys import Derived, derive_journeys, import_principal
from services.care_record.lock import import_lock
from services.care_record.models import (
    CARE_ADOPTION_DECISIONS,
    CARE_ADOPTION_MATCHES,
    CARE_CHILDREN,
    CARE_EPISODES,
    CARE_IMPORTS,
    CARE_PREVIOUS_PERMANENCE,
    CARE_REVIEWS,
    CARE_UASC,
)
from services.care_record.reader import ReaderError, SeveralAuthorities, open_return
from services.care_record.records import Allocation, ChildRecord, Source
from services.care_record.rejections import Rejection
from services.care_record.rules import Accepted
from services.care_record.tables import TableKind
from services.children import move_open_deadlines
from services.clock import now_utc
from services.db import insert_id, write_connection
from services.deadlines import mark_before_service
from services.journey_batch import NewJourneys
from services.journeys import JourneyService
from services.models import CHILDREN as C
from services.models import TEAMS as T
from services.models import USERS as U
from states.roles import SOCIAL_WORKER
from workflow.calendar import today_london
from workflow.definition import Policy
from workflow.errors import EngineError

log = structlog.get_logger("permanence.care_record")

UNALLOCATED_TEAM = ""
"""The team of a child the allocation does not place in a team: no team's users see the child;
the managers who see every child do, and allocate them (issue 13 item 4)."""

SERVICE_LEGAL_STATUS: Mapping[str, str] = {
    "C1": "interim_care_order",
    "C2": "care_order",
    "D1": "placement_order",  # a freeing order, placement orders' predecessor
    "E1": "placement_order",
    "V2": "section_20",
    "V3": "section_20",
    "V4": "section_20",
    "L1": "police_protection",
    "L2": "emergency_protection_order",
    "L3": "other",
    "J1": "remand",
    "J2": "other",
    "J3": "other",
}
"""The return's legal status (LS) in the service's own words (``schemas.LegalStatus``)."""

# Children per transaction: big enough that commits do not dominate, small enough that a
# national import holds little in memory and the SQLite writer lock is released often.
BATCH = 200

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,49}")  # as schemas.ChildCreate
_NAME_MAX = 100

JOURNEYS_NOTE = "journeys derived from the record through the engine, back-dated"


class ImportRefused(EngineError):
    """The files cannot be imported as a return (which file and why, or which authorities)."""

    status_code = 422
    code = "import_refused"


class _RolledBack(Exception):
    """Raised at the end of a dry run so its one transaction is rolled back."""


# --- what a fact table holds -------------------------------------------------------------------


Values = dict[str, Any]


@dataclass(frozen=True)
class _Facts:
    """One fact table: how a record's facts become rows, and how rows are matched."""

    name: str
    table: Table
    kind: TableKind
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # The fact's last day, for "does it reach into the new extract's period"; None: always.
    last_day: Callable[[Any], date | None]
    items: Callable[[ChildRecord], list[tuple[Values, Source]]]


def _episodes(record: ChildRecord) -> list[tuple[Values, Source]]:
    return [
        (
            {
                "start": e.start,
                "end": e.end,
                "reason_new": e.reason_new,
                "legal_status": e.legal_status,
                "category_of_need": e.category_of_need,
                "placement": e.placement,
                "provider": e.provider,
                "reason_ceased": e.reason_ceased,
                "reason_place_change": e.reason_place_change,
                "home_postcode": e.home_postcode,
                "placement_postcode": e.placement_postcode,
                "urn": e.urn,
            },
            e.source,
        )
        for e in record.episodes
    ]


def _reviews(record: ChildRecord) -> list[tuple[Values, Source]]:
    return [
        ({"held_on": r.held_on, "participation": r.participation}, r.source) for r in record.reviews
    ]


def _decisions(record: ChildRecord) -> list[tuple[Values, Source]]:
    return [
        (
            {
                "decided_on": d.decided_on,
                "ceased_on": d.ceased_on,
                "reason_ceased": d.reason_ceased,
            },
            d.source,
        )
        for d in record.adoption_decisions
    ]


def _matches(record: ChildRecord) -> list[tuple[Values, Source]]:
    return [
        (
            {
                "decided_on": m.decided_on,
                "matched_on": m.matched_on,
                "foster_carers": m.foster_carers,
                "number_of_adopters": m.number_of_adopters,
                "adopters_sex": m.adopters_sex,
                "adopters_legal_status": m.adopters_legal_status,
            },
            m.source,
        )
        for m in record.adoption_matches
    ]


def _uasc(record: ChildRecord) -> list[tuple[Values, Source]]:
    u = record.uasc
    return [] if u is None else [({"ceased_on": u.ceased_on}, u.source)]


def _previous(record: ChildRecord) -> list[tuple[Values, Source]]:
    p = record.previous_permanence
    if p is None:
        return []
    on = p.ordered_on
    return [
        (
            {
                "kind": p.kind,
                "local_authority": p.local_authority,
                "ordered_year": on.year if on else None,
                "ordered_month": on.month if on else None,
                "ordered_day": on.day if on else None,
            },
            p.source,
        )
    ]


FACTS: tuple[_Facts, ...] = (
    _Facts(
        "episodes",
        CARE_EPISODES,
        TableKind.EPISODES,
        (
            "start",
            "end",
            "reason_new",
            "legal_status",
            "category_of_need",
            "placement",
            "provider",
            "reason_ceased",
            "reason_place_change",
            "home_postcode",
            "placement_postcode",
            "urn",
        ),
        ("start",),
        lambda r: r.end,  # an open episode reaches into any period
        _episodes,
    ),
    _Facts(
        "reviews",
        CARE_REVIEWS,
        TableKind.REVIEWS,
        ("held_on", "participation"),
        ("held_on",),
        lambda r: r.held_on,
        _reviews,
    ),
    _Facts(
        "adoption_decisions",
        CARE_ADOPTION_DECISIONS,
        TableKind.PLACED_FOR_ADOPTION,
        ("decided_on", "ceased_on", "reason_ceased"),
        ("decided_on",),
        lambda r: r.ceased_on,
        _decisions,
    ),
    _Facts(
        "adoption_matches",
        CARE_ADOPTION_MATCHES,
        TableKind.AD1,
        (
            "decided_on",
            "matched_on",
            "foster_carers",
            "number_of_adopters",
            "adopters_sex",
            "adopters_legal_status",
        ),
        ("decided_on",),
        lambda r: r.matched_on,
        _matches,
    ),
    _Facts("uasc", CARE_UASC, TableKind.UASC, ("ceased_on",), (), lambda r: None, _uasc),
    _Facts(
        "previous_permanence",
        CARE_PREVIOUS_PERMANENCE,
        TableKind.PREVIOUS_PERMANENCE,
        ("kind", "local_authority", "ordered_year", "ordered_month", "ordered_day"),
        (),
        lambda r: None,
        _previous,
    ),
)

_HEADER_COLUMNS = ("sex", "ethnicity", "upn", "date_of_birth", "mother", "mothers_child_born_on")


def _header(record: ChildRecord) -> Values:
    return {
        "sex": record.sex,
        "ethnicity": record.ethnicity,
        "upn": record.upn,
        "date_of_birth": record.date_of_birth,
        "mother": record.mother,
        "mothers_child_born_on": record.mothers_child_born_on,
    }


def fingerprint(record: ChildRecord) -> str:
    """SHA-256 of the record's facts as stored (header and every fact table), without where
    they came from and without the allocation (which the child's own row holds): equal
    fingerprints mean there is nothing to write."""
    body: dict[str, Any] = {"header": _header(record)}
    for facts in FACTS:
        body[facts.name] = sorted(
            ([values[c] for c in facts.columns] for values, _ in facts.items(record)),
            key=lambda v: json.dumps(v, default=str),
        )
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _period_start(record: ChildRecord) -> date | None:
    """The earliest date of the record's dated facts: the period the new extract covers."""
    days = [e.start for e in record.episodes]
    days += [r.held_on for r in record.reviews]
    days += [d.decided_on for d in record.adoption_decisions]
    days += [m.decided_on for m in record.adoption_matches]
    return min(days) if days else None


# --- the report --------------------------------------------------------------------------------


@dataclass
class FactCounts:
    """Facts of one table added, changed and withdrawn."""

    added: int = 0
    changed: int = 0
    withdrawn: int = 0

    def __add__(self, other: FactCounts) -> FactCounts:
        return FactCounts(
            self.added + other.added,
            self.changed + other.changed,
            self.withdrawn + other.withdrawn,
        )

    @property
    def any(self) -> bool:
        """Whether anything changed."""
        return bool(self.added or self.changed or self.withdrawn)


_FACT_TITLES = {
    "episodes": "episodes",
    "reviews": "reviews",
    "adoption_decisions": "should-be-placed-for-adoption decisions",
    "adoption_matches": "adoption matches",
    "uasc": "UASC records",
    "previous_permanence": "previous permanence",
}
FACT_TITLES: Mapping[str, str] = _FACT_TITLES
"""Each fact table as the report names it."""


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do). Safe to print: no personal data."""

    as_of: date
    la: str | None
    dry_run: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    import_id: int | None = None
    children_created: int = 0
    children_updated: int = 0
    children_unchanged: int = 0
    children_rejected: int = 0
    facts: dict[str, FactCounts] = field(
        default_factory=lambda: {f.name: FactCounts() for f in FACTS}
    )
    rows_other_authorities: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    journeys_started: int = 0
    events_recorded: int = 0
    note: str = JOURNEYS_NOTE

    @property
    def changed(self) -> bool:
        """Whether the import writes anything (a dry run: would write)."""
        return bool(
            self.children_created
            or self.children_updated
            or any(c.any for c in self.facts.values())
        )

    def counts(self) -> dict[str, Any]:
        """The counts, as the ``care_import`` row and the audit entry keep them."""
        return {
            "children": {
                "created": self.children_created,
                "updated": self.children_updated,
                "unchanged": self.children_unchanged,
                "rejected": self.children_rejected,
            },
            **{name: vars(c).copy() for name, c in self.facts.items()},
            "rejected_rows": len(self.rejections),
            "rows_other_authorities": self.rows_other_authorities,
            "journeys_started": self.journeys_started,
            "events_recorded": self.events_recorded,
        }

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "as_of": self.as_of.isoformat(),
            "la": self.la,
            "dry_run": self.dry_run,
            "import_id": self.import_id,
            "changed": self.changed,
            "summary": self.summary(),
            "files": self.files,
            **self.counts(),
            "note": self.note,
            "rejections": [r.as_dict() for r in self.rejections],
        }

    def summary(self) -> str:
        """One sentence: what was written, or that nothing changed."""
        if not self.changed:
            return (
                f"Nothing changed: nothing was written ({self.children_unchanged} children as "
                f"stored, {self.children_rejected} rejected)."
            )
        if self.dry_run:
            return "Dry run: nothing was written; importing these files would make these changes."
        return f"Imported (import {self.import_id})."

    def as_text(self) -> str:
        """The report as an operator reads it."""
        lines = [
            f"SSDA903 import as of {self.as_of.isoformat()}" + (f", {self.la}" if self.la else "")
        ]
        lines.append(self.summary())
        lines.append("files:")
        for f in self.files:
            lines.append(f"  {f['file']}: {f['table']}, {f['rows']} rows, sha256 {f['sha256']}")
        lines.append(
            f"children: {self.children_created} created, {self.children_updated} updated, "
            f"{self.children_unchanged} unchanged, {self.children_rejected} rejected"
        )
        for name, c in self.facts.items():
            lines.append(
                f"{_FACT_TITLES[name]}: {c.added} added, {c.changed} changed, "
                f"{c.withdrawn} withdrawn"
            )
        if self.rows_other_authorities:
            lines.append(f"rows of other authorities skipped: {self.rows_other_authorities}")
        lines.append(
            f"journeys started: {self.journeys_started}, events recorded: "
            f"{self.events_recorded} ({self.note})"
        )
        lines.append(f"rejected rows: {len(self.rejections)}")
        lines.extend(f"  {r}" for r in self.rejections)
        return "\n".join(lines)


# --- the import --------------------------------------------------------------------------------


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Run:
    """One import's state while it runs."""

    report: ImportReport
    actor: int | None
    kinds: frozenset[TableKind]
    names: Mapping[str, str]
    teams: frozenset[str]
    started_at: Any
    journeys: JourneyService | None = None
    fast_journeys: bool = True
    import_id: int | None = None
    principal: Principal | None = None

    def import_principal(self, conn: Connection) -> Principal:
        """The import's system user, found or created once per run (outside any child's
        savepoint, so a child that fails cannot take it with it)."""
        if self.principal is None:
            self.principal = import_principal(conn)
        return self.principal

    def name(self, path: str) -> str:
        return self.names.get(path, path)

    def reject(self, rejection: Rejection) -> None:
        self.report.rejections.append(replace(rejection, file=self.name(rejection.file)))

    def ensure_import(self, conn: Connection) -> int:
        """The ``care_import`` row, written when the first child needs one."""
        if self.import_id is None:
            self.import_id = insert_id(
                conn.execute(
                    insert(CARE_IMPORTS).values(
                        actor_id=self.actor,
                        started_at=self.started_at,
                        la=self.report.la,
                        files=[
                            {"file": f["file"], "sha256": f["sha256"]} for f in self.report.files
                        ],
                        counts={},
                    )
                )
            )
        return self.import_id


def import_return(
    engine: Engine,
    paths: Iterable[str | PathLike[str]],
    *,
    la: str | None = None,
    actor: int | None = None,
    dry_run: bool = False,
    as_of: date | None = None,
    names: Mapping[str, str] | None = None,
    journeys: JourneyService | None = None,
    fast_journeys: bool = True,
) -> ImportReport:
    """Import the return in ``paths`` (see the module's docstring) and report what changed.

    ``actor`` is the importing user's id (None from the command line); ``as_of`` the day the
    return is judged on (default today in London); ``names`` how each path is named in the
    report and the stored sources (an upload's own file name instead of its temporary path).
    Raises :class:`ImportRefused` when the files cannot be read as a return, naming the
    authorities when a file holds several and ``la`` is None; :class:`lock.ImportBusy`
    (409) when another import or dry run is running (``lock.py``). ``fast_journeys=False``
    derives a new child's journeys one by one through the journey service, as an existing
    child's are, instead of in memory and written together (``services.journey_batch``):
    the same rows, slower; the reference the fast path is tested and measured against.
    """
    with import_lock(engine):
        report = _import_locked(
            engine,
            paths,
            la=la,
            actor=actor,
            dry_run=dry_run,
            as_of=as_of,
            names=names,
            journeys=journeys,
            fast_journeys=fast_journeys,
        )
        if report.import_id is not None:
            _refresh_cohorts(engine)
    return report


def _refresh_cohorts(engine: Engine) -> None:
    """The cohorts' members the panel tracker reads, refreshed after the import's commit
    (still under the import's lock, so the next import waits for them). A failure leaves
    the import done and the previous snapshot in place, refreshed by the next day's job."""
    # Imported here: services.cohorts reads the care record through this package.
    from services.clock import today
    from services.cohort_snapshot import refresh_cohort_snapshot

    try:
        # As of today, the tracker's day (a return judged on an earlier day included).
        refresh_cohort_snapshot(engine, today())
    except Exception:
        log.exception("cohort_snapshot_failed")


def _import_locked(
    engine: Engine,
    paths: Iterable[str | PathLike[str]],
    *,
    la: str | None,
    actor: int | None,
    dry_run: bool,
    as_of: date | None,
    names: Mapping[str, str] | None,
    journeys: JourneyService | None,
    fast_journeys: bool,
) -> ImportReport:
    day = as_of if as_of is not None else today_london()
    given = [str(p) for p in paths]
    shown = dict(names or {})

    def named(message: str) -> str:
        # Longest first, so a path that begins another is not replaced inside it.
        for path in sorted(shown, key=len, reverse=True):
            message = message.replace(path, shown[path])
        return message

    try:
        care_return = open_return(given, la=la)
    except SeveralAuthorities as exc:
        raise ImportRefused(named(str(exc)), authorities=list(exc.authorities)) from None
    except ReaderError as exc:
        raise ImportRefused(named(str(exc))) from None
    report = ImportReport(as_of=day, la=la, dry_run=dry_run)
    for f in care_return.files:
        report.files.append(
            {
                "file": shown.get(f.path, f.path),
                "table": f.table.value,
                "rows": f.data_rows,
                "sha256": _sha256(f.path),
            }
        )
        report.rows_other_authorities += f.rows_other_authorities
    with write_connection(engine) as conn:
        teams = frozenset(conn.execute(select(T.c.name)).scalars())
    run = _Run(
        report=report,
        actor=actor,
        kinds=frozenset(f.table for f in care_return.files if f.used),
        names=shown,
        teams=teams,
        started_at=now_utc(),
        journeys=journeys
        if journeys is not None
        else JourneyService(engine, states.build_registry(), Policy()),
        fast_journeys=fast_journeys,
    )
    for rejection in care_return.unattached:
        run.reject(rejection)
    outcomes = care_return.records(as_of=day)
    statistics = _Statistics()
    if dry_run:
        try:
            with write_connection(engine) as conn:
                for batch in _chunks(outcomes, BATCH):
                    _apply_batch(conn, run, batch, day)
                    statistics.after_batch(conn, report)
                if run.import_id is not None:
                    _finish(conn, run)
                statistics.after_batch(conn, report, last=True)
                raise _RolledBack
        except _RolledBack:
            pass
        report.import_id = None
    else:
        for batch in _chunks(outcomes, BATCH):
            with write_connection(engine) as conn:
                _apply_batch(conn, run, batch, day)
                statistics.after_batch(conn, report)
        if run.import_id is not None:
            with write_connection(engine) as conn:
                _finish(conn, run)
                statistics.after_batch(conn, report, last=True)
        report.import_id = run.import_id
    log.info(
        "care_import_finished",
        kind="dry_run" if dry_run else "import",
        count=report.children_created + report.children_updated,
        failed=report.children_rejected,
    )
    return report


# The tables an import grows, whose planner statistics it refreshes (PostgreSQL).
_ANALYSED = (
    "child",
    "journey",
    "journey_event",
    "deadline",
    "care_child",
    "care_episode",
    "care_review",
)


@dataclass
class _Statistics:
    """Refreshes PostgreSQL's planner statistics while an import grows the tables from small.

    The journey statements are server-side prepared (``services.journey_store``), and a
    prepared statement's generic plan is built once per connection and kept until the
    statistics of its tables change. On a database loaded from empty (an authority's first
    import), that plan is made for tables of a few rows and can reach a journey's deadlines
    by an index that does not name the journey (``status = 'open'``), so each event then
    scans every open deadline written so far: a cost per child that grew with the import
    (issue 13: 0.9 ms an event in the first 200 children, 5-8 ms by 2,000, on PostgreSQL
    without autovacuum). ``ANALYZE`` after the first batch, each time the children written
    have doubled since, and at the end (about 10 times in a national import of 84,000) gives
    the plans the tables' real shape. Only while the import at least doubles the children the
    database held: a 1% changed extract leaves the tables' shape as it was. It runs in the
    batch's transaction, so a dry run's statistics roll back with it.
    """

    held: int | None = None
    analysed_at: int = 0

    def _due(self, conn: Connection, written: int, *, last: bool) -> bool:
        if conn.dialect.name != "postgresql" or written <= self.analysed_at:
            return False
        if self.held is None:
            # Children held before this import wrote any (those written so far excluded).
            total = int(conn.execute(select(func.count()).select_from(C)).scalar_one())
            self.held = total - written
        if written < self.held:
            return False
        return last or self.analysed_at == 0 or written >= 2 * self.analysed_at

    def after_batch(self, conn: Connection, report: ImportReport, *, last: bool = False) -> None:
        """Analyse the grown tables when due (``last``: the import's final transaction)."""
        written = report.children_created + report.children_updated
        if self._due(conn, written, last=last):
            conn.execute(text("ANALYZE " + ", ".join(_ANALYSED)))
            self.analysed_at = written


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _finish(conn: Connection, run: _Run) -> None:
    counts = run.report.counts()
    conn.execute(
        update(CARE_IMPORTS)
        .where(CARE_IMPORTS.c.id == run.import_id)
        .values(finished_at=now_utc(), counts=counts)
    )
    audit.record(
        conn,
        actor_id=run.actor,
        action="care_record_imported",
        entity="care_import",
        entity_id=run.import_id,
        details={
            "la": run.report.la,
            "as_of": run.report.as_of.isoformat(),
            "files": [{"file": f["file"], "sha256": f["sha256"]} for f in run.report.files],
            "counts": counts,
        },
    )


@dataclass
class _Stored:
    """A stored child as the batch lookup finds it."""

    child_pk: int
    care_id: int | None
    fingerprint: str | None
    header: Values
    child: Values


_CHILD_COLUMNS = (
    "reference",
    "given_name",
    "family_name",
    "date_of_birth",
    "looked_after_since",
    "legal_status",
    "team",
    "allocated_social_worker_id",
)


def _lookup(conn: Connection, records: Sequence[ChildRecord]) -> dict[str, _Stored]:
    """Stored children by return child id: those with a record, then children typed in by
    hand whose reference is the one this record would take (their record is attached)."""
    H = CARE_CHILDREN
    found: dict[str, _Stored] = {}
    ids = [r.child_id for r in records]
    rows = conn.execute(
        select(H, *(C.c[c] for c in _CHILD_COLUMNS))
        .join(C, C.c.id == H.c.child_pk)
        .where(H.c.return_child_id.in_(ids))
    )
    for row in rows:
        m = row._mapping
        found[row.return_child_id] = _Stored(
            child_pk=row.child_pk,
            care_id=row.id,
            fingerprint=row.fingerprint,
            header={c: m[H.c[c]] for c in _HEADER_COLUMNS},
            child={c: m[C.c[c]] for c in _CHILD_COLUMNS},
        )
    wanted = {_reference(r): r.child_id for r in records if r.child_id not in found}
    if wanted:
        rows = conn.execute(
            select(C.c.id, *(C.c[c] for c in _CHILD_COLUMNS))
            .outerjoin(H, H.c.child_pk == C.c.id)
            .where(C.c.reference.in_(list(wanted)), H.c.id.is_(None))
        )
        for row in rows:
            m = row._mapping
            found[wanted[row.reference]] = _Stored(
                child_pk=row.id,
                care_id=None,
                fingerprint=None,
                header={},
                child={c: m[C.c[c]] for c in _CHILD_COLUMNS},
            )
    return found


def _reference(record: ChildRecord) -> str:
    return record.allocation.reference if record.allocation else record.child_id


def _social_workers(
    conn: Connection, records: Sequence[ChildRecord]
) -> dict[str, tuple[int, str | None, bool]]:
    """Username -> (id, team, is an active social worker), for the batch's allocations."""
    names = {r.allocation.social_worker for r in records if r.allocation} - {None, ""}
    if not names:
        return {}
    rows = conn.execute(
        select(U.c.id, U.c.username, U.c.team, U.c.roles, U.c.active).where(
            U.c.username.in_(sorted(n for n in names if n))
        )
    )
    return {
        r.username: (int(r.id), r.team, bool(r.active) and SOCIAL_WORKER in (r.roles or []))
        for r in rows
    }


def _allocation_rejection(
    allocation: Allocation, column: str, value: str, reason: str, child: str
) -> Rejection:
    return Rejection.of(
        file=allocation.source.file,
        row=allocation.source.row,
        column=column,
        raw_value=value,
        reason=reason,
        child_id=child,
    )


def _desired_child(
    run: _Run,
    record: ChildRecord,
    workers: Mapping[str, tuple[int, str | None, bool]],
    day: date,
) -> tuple[Values, list[Rejection]]:
    """The child's own row as the record says it should be, or why the record cannot say."""
    period = derive.current_period_of_care(record, day)
    status = derive.current_legal_status(record, day)
    desired: Values = {
        "date_of_birth": record.date_of_birth,
        "legal_status": None if status is None else SERVICE_LEGAL_STATUS.get(status, "other"),
        "looked_after_since": None if period is None else period.start,
    }
    problems: list[Rejection] = []
    allocation = record.allocation
    if allocation is None:
        if not _REFERENCE.fullmatch(record.child_id):
            problems.append(
                Rejection.of(
                    file=record.header_source.file,
                    row=record.header_source.row,
                    column="CHILD",
                    raw_value=record.child_id,
                    reason="the child id cannot be a case reference (letters, digits, / _ -; "
                    "at most 50): give an allocation file with a REFERENCE",
                    child_id=record.child_id,
                )
            )
        return desired, problems
    child = record.child_id
    if not _REFERENCE.fullmatch(allocation.reference):
        problems.append(
            _allocation_rejection(
                allocation,
                "REFERENCE",
                allocation.reference,
                "not a case reference (letters, digits, / _ -; at most 50)",
                child,
            )
        )
    for column, value in (
        ("GIVEN_NAME", allocation.given_name),
        ("FAMILY_NAME", allocation.family_name),
    ):
        if value and len(value) > _NAME_MAX:
            problems.append(
                _allocation_rejection(
                    allocation, column, value, f"longer than {_NAME_MAX} characters", child
                )
            )
    team = allocation.team or UNALLOCATED_TEAM
    if team and team not in run.teams:
        problems.append(
            _allocation_rejection(
                allocation,
                "TEAM",
                team,
                f"no such team; a system administrator adds it with: permanence team add {team}",
                child,
            )
        )
    worker_id: int | None = None
    username = allocation.social_worker
    if username:
        worker = workers.get(username)
        if worker is None or not worker[2]:
            problems.append(
                _allocation_rejection(
                    allocation,
                    "SOCIAL_WORKER",
                    username,
                    "not the username of an active social worker",
                    child,
                )
            )
        elif worker[1] != team:
            problems.append(
                _allocation_rejection(
                    allocation,
                    "SOCIAL_WORKER",
                    username,
                    "the social worker is not in the child's team",
                    child,
                )
            )
        else:
            worker_id = worker[0]
    desired.update(
        reference=allocation.reference,
        given_name=allocation.given_name or "",
        family_name=allocation.family_name or "",
        team=team,
        allocated_social_worker_id=worker_id,
    )
    return desired, problems


def _stored_facts(conn: Connection, child_pks: Sequence[int]) -> dict[str, dict[int, list[Any]]]:
    """The batch's non-withdrawn fact rows, per table and child."""
    out: dict[str, dict[int, list[Any]]] = {}
    for facts in FACTS:
        per_child: dict[int, list[Any]] = defaultdict(list)
        if child_pks:
            rows = conn.execute(
                select(facts.table)
                .where(
                    facts.table.c.child_pk.in_(child_pks),
                    facts.table.c.withdrawn_by.is_(None),
                )
                .order_by(facts.table.c.id)
            )
            for row in rows:
                per_child[row.child_pk].append(row)
        out[facts.name] = per_child
    return out


@dataclass
class _Plan:
    """What to write for one child's facts."""

    inserts: dict[str, list[Values]] = field(default_factory=dict)
    updates: dict[str, list[tuple[int, Values]]] = field(default_factory=dict)
    withdraw: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, FactCounts] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return any(c.any for c in self.counts.values())


def _source_values(run: _Run, source: Source) -> Values:
    return {"source_file": run.name(source.file), "source_row": source.row}


def _plan_facts(
    run: _Run,
    record: ChildRecord,
    stored: Mapping[str, list[Any]] | None,
) -> _Plan:
    """New, changed and withdrawn facts of one child (all new when ``stored`` is None)."""
    plan = _Plan()
    start = _period_start(record)
    for facts in FACTS:
        counts = FactCounts()
        inserts: list[Values] = []
        updates: list[tuple[int, Values]] = []
        rows = list(stored.get(facts.name, ())) if stored is not None else []
        by_key: dict[tuple[Any, ...], Any] = {}
        extra: list[Any] = []
        for row in rows:
            k = tuple(getattr(row, c) for c in facts.key)
            if k in by_key:
                extra.append(row)  # a duplicate cannot be matched: the newer extract decides
            else:
                by_key[k] = row
        for values, source in facts.items(record):
            row = by_key.pop(tuple(values[c] for c in facts.key), None)
            if row is None:
                inserts.append({**values, **_source_values(run, source)})
                counts.added += 1
            elif any(getattr(row, c) != values[c] for c in facts.columns):
                updates.append((row.id, {**values, **_source_values(run, source)}))
                counts.changed += 1
        withdraw: list[int] = []
        if facts.kind in run.kinds:
            for row in [*by_key.values(), *extra]:
                last = facts.last_day(row)
                if last is None or (start is not None and last >= start):
                    withdraw.append(row.id)
        counts.withdrawn = len(withdraw)
        plan.inserts[facts.name] = inserts
        plan.updates[facts.name] = updates
        plan.withdraw[facts.name] = withdraw
        plan.counts[facts.name] = counts
    return plan


def _apply_batch(conn: Connection, run: _Run, outcomes: Sequence[Any], day: date) -> None:
    report = run.report
    accepted: list[ChildRecord] = []
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            accepted.append(outcome.record)
        else:
            report.children_rejected += 1
            for rejection in outcome.rejections:
                run.reject(rejection)
    if not accepted:
        return
    stored = _lookup(conn, accepted)
    workers = _social_workers(conn, accepted)
    # Children whose record may have changed: their stored facts are read in one go.
    prints = {r.child_id: fingerprint(r) for r in accepted}
    suspects = [
        stored[r.child_id].child_pk
        for r in accepted
        if r.child_id in stored and stored[r.child_id].fingerprint != prints[r.child_id]
    ]
    facts = _stored_facts(conn, suspects)
    for record in accepted:
        desired, problems = _desired_child(run, record, workers, day)
        if problems:
            report.children_rejected += 1
            for problem in problems:
                run.reject(problem)
            continue
        found = stored.get(record.child_id)
        if found is None:
            _write_child(
                conn,
                run,
                record,
                desired,
                prints[record.child_id],
                None,
                _plan_facts(run, record, None),
                day,
            )
            continue
        child_changes = {k: v for k, v in desired.items() if found.child.get(k) != v}
        header_changed = found.care_id is None or any(
            found.header.get(c) != v for c, v in _header(record).items()
        )
        if found.fingerprint == prints[record.child_id]:
            plan = _Plan()
        else:
            plan = _plan_facts(
                run,
                record,
                {name: per[found.child_pk] for name, per in facts.items()}
                if found.care_id is not None
                else None,
            )
        if not (child_changes or header_changed or plan.any):
            report.children_unchanged += 1
            continue
        _write_child(conn, run, record, child_changes, prints[record.child_id], found, plan, day)


def _write_child(
    conn: Connection,
    run: _Run,
    record: ChildRecord,
    child_values: Values,
    print_: str,
    found: _Stored | None,
    plan: _Plan,
    day: date,
) -> None:
    """One child's writes in a savepoint: all of them, or (on a database error) none."""
    import_id = run.ensure_import(conn)
    principal = run.import_principal(conn)
    stamp = now_utc()
    derived = Derived()
    try:
        with conn.begin_nested():
            if found is None:
                values: Values = {
                    "reference": _reference(record),
                    "given_name": "",
                    "family_name": "",
                    "team": UNALLOCATED_TEAM,
                    "allocated_social_worker_id": None,
                    **child_values,
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                child_pk = insert_id(conn.execute(insert(C).values(**values)))
            else:
                child_pk = found.child_pk
                if child_values:
                    conn.execute(
                        update(C)
                        .where(C.c.id == child_pk)
                        .values(**child_values, version=C.c.version + 1, updated_at=stamp)
                    )
                    if "allocated_social_worker_id" in child_values:
                        move_open_deadlines(
                            conn, child_pk, child_values["allocated_social_worker_id"]
                        )
            header = {
                **_header(record),
                "header_file": run.name(record.header_source.file),
                "header_row": record.header_source.row,
                "fingerprint": print_,
                "import_id": import_id,
                "updated_at": stamp,
            }
            if found is None or found.care_id is None:
                conn.execute(
                    insert(CARE_CHILDREN).values(
                        child_pk=child_pk, return_child_id=record.child_id, **header
                    )
                )
            else:
                conn.execute(
                    update(CARE_CHILDREN)
                    .where(CARE_CHILDREN.c.id == found.care_id)
                    .values(**header)
                )
            for facts in FACTS:
                rows = plan.inserts.get(facts.name)
                if rows:
                    conn.execute(
                        insert(facts.table),
                        [{**r, "child_pk": child_pk, "import_id": import_id} for r in rows],
                    )
                for row_id, values in plan.updates.get(facts.name, ()):
                    conn.execute(
                        update(facts.table)
                        .where(facts.table.c.id == row_id)
                        .values(**values, import_id=import_id)
                    )
                withdrawn = plan.withdraw.get(facts.name)
                if withdrawn:
                    conn.execute(
                        update(facts.table)
                        .where(facts.table.c.id.in_(withdrawn))
                        .values(withdrawn_by=import_id)
                    )
            if run.journeys is not None:
                # A child created here has no journeys yet: its journeys are planned in
                # memory and written together, already marked (services.journey_batch).
                new = (
                    NewJourneys(
                        run.journeys,
                        principal,
                        child_id=child_pk,
                        team=values["team"],
                        looked_after_since=values["looked_after_since"],
                        legal_status=values["legal_status"],
                        social_worker_id=values["allocated_social_worker_id"],
                    )
                    if found is None and run.fast_journeys
                    else None
                )
                derived = derive_journeys(
                    conn,
                    run.journeys,
                    principal,
                    child_pk=child_pk,
                    record=record,
                    import_id=import_id,
                    name=run.name,
                    day=day,
                    new=new,
                )
                if derived.events and new is None:
                    # Back-dated deadlines wait for the social worker (services.deadlines).
                    mark_before_service(conn, child_pk, since=stamp, day=day)
    except EngineError as exc:
        # The engine refused a step the record implies: the child's rows go with it, so the
        # record and its journeys never part; the refusal's kind is the reason.
        run.report.children_rejected += 1
        run.reject(
            Rejection.of(
                file=record.header_source.file,
                row=record.header_source.row,
                column="CHILD",
                raw_value=record.child_id,
                reason=f"its journeys could not be derived ({exc.code}); none of the child's "
                "rows were written",
                child_id=record.child_id,
            )
        )
        return
    except (SQLAlchemyError, conn.dialect.loaded_dbapi.Error) as exc:
        # The driver's own error too: a new child's journeys are written on the driver's
        # cursor (services.journey_batch), which SQLAlchemy does not wrap. The savepoint has
        # dropped the child's rows either way. The driver's message can quote the row's
        # values; only the error's kind is shown.
        run.report.children_rejected += 1
        run.reject(
            Rejection.of(
                file=record.header_source.file,
                row=record.header_source.row,
                column="CHILD",
                raw_value=record.child_id,
                reason=f"could not be stored ({type(exc).__name__}); none of the child's rows "
                "were written",
                child_id=record.child_id,
            )
        )
        return
    if found is None:
        run.report.children_created += 1
    else:
        run.report.children_updated += 1
    run.report.journeys_started += derived.started
    run.report.events_recorded += derived.events
    for name, counts in plan.counts.items():
        run.report.facts[name] = run.report.facts[name] + counts
