"""The stored care record reads back as the pure ChildRecord; withdrawn facts are skipped."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, insert

from services.care_record.models import CARE_CHILDREN, CARE_EPISODES, CARE_IMPORTS, CARE_REVIEWS
from services.care_record.stored import load_records
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.models import CHILDREN


def _child(conn: object, reference: str) -> int:
    stamp = now_utc()
    return insert_id(
        conn.execute(  # type: ignore[attr-defined]
            insert(CHILDREN).values(
                reference=reference,
                given_name="",
                family_name="",
                date_of_birth=date(2015, 1, 1),
                team="north",
                created_at=stamp,
                updated_at=stamp,
            )
        )
    )


def test_load_records_round_trip_skips_withdrawn(engine: Engine) -> None:
    src = {"source_file": "episodes.csv", "source_row": 2}
    with write_connection(engine) as conn:
        run = insert_id(
            conn.execute(insert(CARE_IMPORTS).values(started_at=now_utc(), files=[], counts={}))
        )
        pk = _child(conn, "C1")
        _child(conn, "NO-RECORD")
        conn.execute(
            insert(CARE_CHILDREN).values(
                child_pk=pk,
                return_child_id="C1",
                sex="1",
                ethnicity="WBRI",
                date_of_birth=date(2015, 1, 1),
                header_file="header.csv",
                header_row=2,
                fingerprint="x",
                import_id=run,
                updated_at=now_utc(),
            )
        )
        for start, end, withdrawn in (
            (date(2020, 1, 1), date(2021, 1, 1), None),
            (date(2021, 1, 1), None, None),
            (date(2022, 1, 1), None, run),
        ):
            conn.execute(
                insert(CARE_EPISODES).values(
                    child_pk=pk,
                    start=start,
                    end=end,
                    reason_new="S",
                    legal_status="C2",
                    placement="U1",
                    import_id=run,
                    withdrawn_by=withdrawn,
                    **src,
                )
            )
        conn.execute(
            insert(CARE_REVIEWS).values(
                child_pk=pk, held_on=date(2020, 6, 1), participation="PN1", import_id=run, **src
            )
        )
    with read_connection(engine) as conn:
        records = list(load_records(conn))
        only = list(load_records(conn, child_ids=[pk]))
        none = list(load_records(conn, child_ids=[]))
    assert [p for p, _ in records] == [pk]
    record = records[0][1]
    assert record.child_id == "C1"
    assert [e.start for e in record.episodes] == [date(2020, 1, 1), date(2021, 1, 1)]
    assert [r.participation for r in record.reviews] == ["PN1"]
    assert record.header_source.file == "header.csv"
    assert [p for p, _ in only] == [pk]
    assert none == []
