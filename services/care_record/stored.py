"""The stored care record read back as the pure :class:`ChildRecord` of ``records.py``.

Withdrawn facts (``withdrawn_by`` set) are skipped. The allocation is not part of the stored
record (it fills the child's own name, team and social worker), so it is returned as None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select

from services.care_record.models import (
    CARE_ADOPTION_DECISIONS,
    CARE_ADOPTION_MATCHES,
    CARE_CHILDREN,
    CARE_EPISODES,
    CARE_PREVIOUS_PERMANENCE,
    CARE_REVIEWS,
    CARE_UASC,
)
from services.care_record.records import (
    AdoptionDecision,
    AdoptionMatch,
    ChildRecord,
    Episode,
    PartialDate,
    PreviousPermanence,
    Review,
    Source,
    Uasc,
)

# Children read per round trip: bounded memory however many children are stored.
_BATCH = 500


def _source(row: Any) -> Source:
    return Source(file=row.source_file, row=row.source_row)


def _rows(
    conn: Connection, table: Table, child_pks: Sequence[int], order: str
) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    query = (
        select(table)
        .where(table.c.child_pk.in_(child_pks), table.c.withdrawn_by.is_(None))
        .order_by(table.c.child_pk, table.c[order], table.c.id)
    )
    for row in conn.execute(query):
        found[row.child_pk].append(row)
    return found


def _episode(row: Any) -> Episode:
    return Episode(
        start=row.start,
        end=row.end,
        reason_new=row.reason_new,
        legal_status=row.legal_status,
        placement=row.placement,
        category_of_need=row.category_of_need,
        provider=row.provider,
        reason_ceased=row.reason_ceased,
        reason_place_change=row.reason_place_change,
        urn=row.urn,
        home_postcode=row.home_postcode,
        placement_postcode=row.placement_postcode,
        source=_source(row),
    )


def _batch(conn: Connection, headers: Sequence[Any]) -> Iterator[tuple[int, ChildRecord]]:
    pks = [h.child_pk for h in headers]
    episodes = _rows(conn, CARE_EPISODES, pks, "start")
    reviews = _rows(conn, CARE_REVIEWS, pks, "held_on")
    decisions = _rows(conn, CARE_ADOPTION_DECISIONS, pks, "decided_on")
    matches = _rows(conn, CARE_ADOPTION_MATCHES, pks, "decided_on")
    uasc = _rows(conn, CARE_UASC, pks, "id")
    previous = _rows(conn, CARE_PREVIOUS_PERMANENCE, pks, "id")
    for h in headers:
        pk = h.child_pk
        u = uasc.get(pk)
        p = previous.get(pk)
        prev: PreviousPermanence | None = None
        if p:
            r = p[-1]
            ordered = (
                None
                if r.ordered_year is None and r.ordered_month is None and r.ordered_day is None
                else PartialDate(year=r.ordered_year, month=r.ordered_month, day=r.ordered_day)
            )
            prev = PreviousPermanence(
                kind=r.kind,
                local_authority=r.local_authority,
                ordered_on=ordered,
                source=_source(r),
            )
        yield (
            pk,
            ChildRecord(
                child_id=h.return_child_id,
                sex=h.sex,
                ethnicity=h.ethnicity,
                date_of_birth=h.date_of_birth,
                upn=h.upn,
                mother=h.mother,
                mothers_child_born_on=h.mothers_child_born_on,
                episodes=tuple(_episode(e) for e in episodes.get(pk, ())),
                reviews=tuple(
                    Review(held_on=r.held_on, participation=r.participation, source=_source(r))
                    for r in reviews.get(pk, ())
                ),
                adoption_decisions=tuple(
                    AdoptionDecision(
                        decided_on=d.decided_on,
                        ceased_on=d.ceased_on,
                        reason_ceased=d.reason_ceased,
                        source=_source(d),
                    )
                    for d in decisions.get(pk, ())
                ),
                adoption_matches=tuple(
                    AdoptionMatch(
                        decided_on=m.decided_on,
                        matched_on=m.matched_on,
                        foster_carers=m.foster_carers,
                        number_of_adopters=m.number_of_adopters,
                        adopters_sex=m.adopters_sex,
                        adopters_legal_status=m.adopters_legal_status,
                        source=_source(m),
                    )
                    for m in matches.get(pk, ())
                ),
                uasc=Uasc(ceased_on=u[-1].ceased_on, source=_source(u[-1])) if u else None,
                previous_permanence=prev,
                allocation=None,
                header_source=Source(file=h.header_file, row=h.header_row),
            ),
        )


def load_records(
    session: Connection, *, child_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, ChildRecord]]:
    """Each stored child's non-withdrawn record as ``(child primary key, record)``, in child
    primary key order; only the children of ``child_ids`` (primary keys) when given.

    ``session`` is a SQLAlchemy connection (the services work on Core connections); read in
    batches so a national database is never held whole.
    """
    H = CARE_CHILDREN
    wanted = None if child_ids is None else sorted(set(child_ids))
    after = -1
    while True:
        query = select(H).where(H.c.child_pk > after).order_by(H.c.child_pk).limit(_BATCH)
        if wanted is not None:
            chunk = [pk for pk in wanted if pk > after][:_BATCH]
            if not chunk:
                return
            query = select(H).where(H.c.child_pk.in_(chunk)).order_by(H.c.child_pk)
            after = chunk[-1]
        headers = list(session.execute(query))
        if not headers and wanted is None:
            return
        if wanted is None:
            after = headers[-1].child_pk
        yield from _batch(session, headers)
