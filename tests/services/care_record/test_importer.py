"""The SSDA903 importer on a real database: counts, nothing twice, updates and withdrawals,
nothing half-written, dry runs, regional files, and no personal data in its report or logs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from services.care_record.importer import (
    UNALLOCATED_TEAM,
    ImportRefused,
    ImportReport,
    import_return,
)
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
from services.care_record.reader import open_return
from services.care_record.rules import Accepted, Rejected
from services.care_record.stored import load_records
from services.db import read_connection
from services.models import AUDIT_LOG, CHILDREN
from services.users import create_user
from tests.log_support import root_log_output
from tests.services.care_record.support import (
    ALLOCATION,
    AS_OF,
    HEADER,
    REVIEWS,
    SmallReturn,
    episode,
    fake_data_folder,
    header,
    write_csv,
)

TABLES = (
    CHILDREN,
    CARE_CHILDREN,
    CARE_EPISODES,
    CARE_REVIEWS,
    CARE_ADOPTION_DECISIONS,
    CARE_ADOPTION_MATCHES,
    CARE_UASC,
    CARE_PREVIOUS_PERMANENCE,
    CARE_IMPORTS,
    AUDIT_LOG,
)


def hdr(child: str) -> dict[str, str]:
    """A header row valid from 2024/25 (sex as M / F / U)."""
    return header(child, SEX="M")


def fake_files() -> list[Path]:
    return sorted(fake_data_folder().glob("*.csv"))


def row_counts(engine: Engine) -> dict[str, int]:
    with read_connection(engine) as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in TABLES
        }


def facts(report: ImportReport, name: str) -> tuple[int, int, int]:
    c = report.facts[name]
    return c.added, c.changed, c.withdrawn


class TestFakeReturn:
    def test_first_import_stores_every_accepted_child_and_its_facts(self, engine: Engine) -> None:
        files = fake_files()
        outcomes = list(open_return(files).records(as_of=AS_OF))
        accepted = [o.record for o in outcomes if isinstance(o, Accepted)]
        rejected = [o for o in outcomes if isinstance(o, Rejected)]
        assert accepted and rejected  # the fake data has both

        report = import_return(engine, files, as_of=AS_OF)

        assert report.children_created == len(accepted)
        assert report.children_rejected == len(rejected)
        assert report.children_updated == report.children_unchanged == 0
        assert len(report.rejections) == sum(len(r.rejections) for r in rejected)
        episodes = sum(len(r.episodes) for r in accepted)
        reviews = sum(len(r.reviews) for r in accepted)
        assert facts(report, "episodes") == (episodes, 0, 0)
        assert facts(report, "reviews") == (reviews, 0, 0)
        counts = row_counts(engine)
        assert counts["child"] == counts["care_child"] == len(accepted)
        assert counts["care_episode"] == episodes
        assert counts["care_review"] == reviews
        assert counts["care_uasc"] == sum(1 for r in accepted if r.uasc is not None)
        assert counts["care_import"] == 1
        with read_connection(engine) as conn:
            run = conn.execute(select(CARE_IMPORTS)).one()
            audits = conn.execute(
                select(AUDIT_LOG).where(AUDIT_LOG.c.action == "care_record_imported")
            ).all()
            stored = dict(load_records(conn))
        assert run.id == report.import_id
        assert run.finished_at is not None
        assert run.counts["children"]["created"] == len(accepted)
        assert [f["sha256"] for f in run.files] == [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in files
        ]
        assert len(audits) == 1 and audits[0].entity_id == run.id
        assert audits[0].details["counts"]["episodes"]["added"] == episodes
        # What is stored reads back as exactly the record the rules accepted.
        by_id = {r.child_id: r for r in accepted}
        for record in stored.values():
            want = by_id[record.child_id]
            assert record.episodes == want.episodes
            assert record.reviews == want.reviews
            assert record.date_of_birth == want.date_of_birth

    def test_reimporting_the_same_files_writes_nothing_and_says_so(self, engine: Engine) -> None:
        files = fake_files()
        first = import_return(engine, files, as_of=AS_OF)
        before = row_counts(engine)

        again = import_return(engine, files, as_of=AS_OF)

        assert row_counts(engine) == before
        assert not again.changed
        assert again.import_id is None
        assert again.children_unchanged == first.children_created
        assert again.children_created == again.children_updated == 0
        assert all(c.added == c.changed == c.withdrawn == 0 for c in again.facts.values())
        assert "Nothing changed" in again.as_text()
        assert again.as_dict()["changed"] is False

    def test_a_dry_run_reports_the_same_and_writes_nothing(self, engine: Engine) -> None:
        files = fake_files()
        before = row_counts(engine)

        dry = import_return(engine, files, as_of=AS_OF, dry_run=True)

        assert row_counts(engine) == before
        assert dry.dry_run and dry.import_id is None
        real = import_return(engine, files, as_of=AS_OF)
        assert dry.counts() == real.counts()
        assert [r.as_dict() for r in dry.rejections] == [r.as_dict() for r in real.rejections]


def _three_episodes(tmp_path: Path, name: str) -> SmallReturn:
    return (
        SmallReturn(tmp_path / name)
        .headers(hdr("A1"), hdr("B1"))
        .episodes(
            episode("A1", "10/04/2024", "01/09/2024"),
            episode("A1", "01/09/2024", "01/02/2025", RNE="P"),
            episode("A1", "01/02/2025", RNE="P", PLACE="U1"),
            # B1: an old period of care, then the current one.
            episode("B1", "01/05/2019", "01/05/2020", REC="E4A"),
            episode("B1", "01/06/2024"),
        )
        .add("reviews", REVIEWS, {"CHILD": "A1", "REVIEW": "01/10/2024", "REVIEW_CODE": "PN1"})
    )


class TestLaterExtract:
    def test_a_changed_extract_updates_one_episode_and_withdraws_a_dropped_one(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        first = import_return(engine, _three_episodes(tmp_path, "y1").write(), as_of=AS_OF)
        assert first.children_created == 2
        assert facts(first, "episodes") == (5, 0, 0)
        # The newer extract covers 2024 on: A1's second episode now ends later and its third
        # is gone; B1's old 2019 episode is outside the period the extract covers.
        later = (
            SmallReturn(tmp_path / "y2")
            .headers(hdr("A1"), hdr("B1"))
            .episodes(
                episode("A1", "10/04/2024", "01/09/2024"),
                episode("A1", "01/09/2024", RNE="P"),
                episode("B1", "01/06/2024"),
            )
            .add("reviews", REVIEWS, {"CHILD": "A1", "REVIEW": "01/10/2024", "REVIEW_CODE": "PN1"})
        )

        second = import_return(engine, later.write(), as_of=AS_OF)

        assert (second.children_created, second.children_updated) == (0, 1)
        assert second.children_unchanged == 1
        assert facts(second, "episodes") == (0, 1, 1)
        assert facts(second, "reviews") == (0, 0, 0)
        with read_connection(engine) as conn:
            rows = conn.execute(
                select(CARE_EPISODES, CARE_CHILDREN.c.return_child_id)
                .join(CARE_CHILDREN, CARE_CHILDREN.c.child_pk == CARE_EPISODES.c.child_pk)
                .order_by(CARE_EPISODES.c.id)
            ).all()
            stored = {r.child_id: r for _, r in load_records(conn)}
        a1 = [r for r in rows if r.return_child_id == "A1"]
        assert len(a1) == 3  # kept, never deleted
        assert [r.withdrawn_by for r in a1] == [None, None, second.import_id]
        assert a1[1].end is None and a1[1].import_id == second.import_id
        assert a1[2].start == date(2025, 2, 1)
        assert [e.start for e in stored["A1"].episodes] == [date(2024, 4, 10), date(2024, 9, 1)]
        assert [e.start for e in stored["B1"].episodes] == [date(2019, 5, 1), date(2024, 6, 1)]
        with read_connection(engine) as conn:
            legal = conn.execute(
                select(CHILDREN.c.legal_status, CHILDREN.c.looked_after_since).where(
                    CHILDREN.c.reference == "A1"
                )
            ).one()
        assert legal.legal_status == "care_order"
        assert legal.looked_after_since == date(2024, 4, 10)

        third = import_return(engine, later.write(), as_of=AS_OF)
        assert not third.changed and third.children_unchanged == 2

    def test_a_table_left_out_of_the_files_withdraws_none_of_its_facts(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        import_return(engine, _three_episodes(tmp_path, "all").write(), as_of=AS_OF)
        only = _three_episodes(tmp_path, "some")
        del only.tables["reviews"]

        report = import_return(engine, only.write(), as_of=AS_OF)

        assert not report.changed
        assert row_counts(engine)["care_review"] == 1


class TestRefusals:
    def test_a_rejected_child_writes_none_of_its_rows_while_others_import(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        files = (
            SmallReturn(tmp_path)
            .headers(hdr("GOOD"), hdr("BAD"))
            .episodes(
                episode("GOOD", "01/06/2024"),
                episode("BAD", "01/05/2024", "01/06/2024", RNE="S"),
                episode("BAD", "01/06/2024", "01/03/2024", RNE="P"),  # ends before it starts
            )
            .add("reviews", REVIEWS, {"CHILD": "BAD", "REVIEW": "01/05/2024", "REVIEW_CODE": "PN1"})
            .write()
        )

        report = import_return(engine, files, as_of=AS_OF)

        assert (report.children_created, report.children_rejected) == (1, 1)
        reasons = [(r.child_id, r.column, r.row) for r in report.rejections]
        assert ("BAD", "DEC", 4) in reasons
        bad = next(r for r in report.rejections if r.column == "DEC")
        assert bad.file.endswith("episodes.csv") and bad.value == "01/03/2024"
        assert "before" in bad.reason
        with read_connection(engine) as conn:
            references = conn.execute(select(CHILDREN.c.reference)).scalars().all()
            ids = conn.execute(select(CARE_CHILDREN.c.return_child_id)).scalars().all()
        assert references == ["GOOD"] and ids == ["GOOD"]
        assert row_counts(engine)["care_episode"] == 1
        assert row_counts(engine)["care_review"] == 0
        assert "BAD" in report.as_text()

    def test_several_authorities_are_refused_without_la_naming_them(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        columns = ("LA", *HEADER)
        path = write_csv(
            tmp_path / "regional.csv",
            columns,
            [{**hdr("A1"), "LA": "Sefton"}, {**hdr("B1"), "LA": "Wirral"}],
        )
        with pytest.raises(ImportRefused) as refused:
            import_return(engine, [path], as_of=AS_OF)
        assert "Sefton" in refused.value.message and "Wirral" in refused.value.message
        assert refused.value.details["authorities"] == ["Sefton", "Wirral"]
        assert row_counts(engine)["child"] == 0

        report = import_return(engine, [path], la="Wirral", as_of=AS_OF)
        assert report.children_created == 1 and report.rows_other_authorities == 1


class TestAllocation:
    def test_the_allocation_names_the_child_and_places_them_in_a_team(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        worker = create_user(
            engine, username="sw.north", password="x" * 12, roles=["social_worker"], team="north"
        )
        files = (
            SmallReturn(tmp_path)
            .headers(hdr("A1"), hdr("B1"), hdr("C1"))
            .episodes(
                episode("A1", "01/06/2024", LS="C1"),
                episode("B1", "01/06/2024", LS="V2"),
                episode("C1", "01/06/2024"),
            )
            .add(
                "allocation",
                ALLOCATION,
                {
                    "CHILD": "A1",
                    "REFERENCE": "LA-100",
                    "GIVEN_NAME": "Sam",
                    "FAMILY_NAME": "Example",
                    "TEAM": "north",
                    "SOCIAL_WORKER": "sw.north",
                },
                {"CHILD": "C1", "REFERENCE": "LA-300", "TEAM": "nowhere"},
            )
            .write()
        )

        report = import_return(engine, files, as_of=AS_OF)

        assert (report.children_created, report.children_rejected) == (2, 1)
        team = next(r for r in report.rejections if r.child_id == "C1")
        assert team.column == "TEAM" and "permanence team add nowhere" in team.reason
        with read_connection(engine) as conn:
            rows = {r.reference: r for r in conn.execute(select(CHILDREN))}
        assert set(rows) == {"LA-100", "B1"}
        a1 = rows["LA-100"]
        assert (a1.given_name, a1.family_name, a1.team) == ("Sam", "Example", "north")
        assert a1.allocated_social_worker_id == worker
        assert a1.legal_status == "interim_care_order"
        b1 = rows["B1"]
        assert (b1.team, b1.allocated_social_worker_id) == (UNALLOCATED_TEAM, None)
        assert b1.legal_status == "section_20" and b1.date_of_birth == date(2012, 6, 1)

    def test_a_child_typed_in_by_hand_gets_the_record_of_the_same_reference(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        from services.clock import now_utc
        from services.db import write_connection

        stamp = now_utc()
        with write_connection(engine) as conn:
            conn.execute(
                CHILDREN.insert().values(
                    reference="A1",
                    given_name="Typed",
                    family_name="In",
                    date_of_birth=date(2012, 6, 1),
                    legal_status="section_20",
                    team="north",
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        files = (
            SmallReturn(tmp_path).headers(hdr("A1")).episodes(episode("A1", "01/06/2024", LS="C1"))
        )

        report = import_return(engine, files.write(), as_of=AS_OF)

        assert (report.children_created, report.children_updated) == (0, 1)
        with read_connection(engine) as conn:
            child = conn.execute(select(CHILDREN)).one()
        assert (child.given_name, child.team) == ("Typed", "north")
        assert child.legal_status == "interim_care_order"  # the record wins over the hand-set
        assert child.version == 2


# --- item 10: no UPN, postcode or date of birth in a log line or the report -------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the root logger writes, formatted as the service formats it."""
    from services.logging import configure

    configure("INFO", "json")
    with root_log_output() as buffer:
        yield buffer


def _column_values(folder: Path, columns: set[str]) -> tuple[set[str], set[str]]:
    """Values of ``columns`` in every file, and the values of every other column."""
    personal: set[str] = set()
    other: set[str] = set()
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column, value in row.items():
                    value = (value or "").strip()
                    if value:
                        (personal if column in columns else other).add(value)
    return personal, other


def personal_values() -> set[str]:
    """The fake return's UPNs, postcodes and dates of birth (dd/mm/yyyy and ISO), except the
    values that also stand in a column that is not personal: a date of birth can equal another
    row's episode or review date, which the report may rightly quote. (UN1 to UN5, the codes
    for a UPN not known, are codes a reason may name, hence at least six characters.)"""
    personal, other = _column_values(
        fake_data_folder(), {"UPN", "HOME_POST", "PL_POST", "DOB", "MC_DOB"}
    )
    watched = {v for v in personal - other if len(v) >= 6}
    iso = {
        date(int(v[6:]), int(v[3:5]), int(v[:2])).isoformat()
        for v in watched
        if len(v) == 10 and v[2] == "/"
    }
    return watched | iso


def test_no_upn_postcode_or_date_of_birth_reaches_the_logs_or_the_report(
    engine: Engine, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = personal_values()
    assert len(watched) > 1000  # the fake return's UPNs, postcodes and most dates of birth
    first = import_return(engine, fake_files(), as_of=AS_OF, dry_run=True)
    second = import_return(engine, fake_files(), as_of=AS_OF)
    third = import_return(engine, fake_files(), as_of=AS_OF)
    assert second.rejections  # the report has rows to show
    captured = capsys.readouterr()
    said = "\n".join(
        [
            log_output.getvalue(),
            captured.out,
            captured.err,
            *(r.as_text() for r in (first, second, third)),
            *(json.dumps(r.as_dict()) for r in (first, second, third)),
        ]
    )
    assert "care_import_finished" in said  # the log line was captured
    leaked = sorted(v for v in watched if v in said)
    assert leaked == []


def test_rejections_of_personal_values_do_not_repeat_them(
    engine: Engine, tmp_path: Path, log_output: io.StringIO
) -> None:
    upn, postcode, born = "Q987654321098", "ZX9 8YW", "17/11/2021"
    files = (
        SmallReturn(tmp_path)
        .headers(
            hdr("A1") | {"DOB": "31/02/2011", "UPN": upn},  # not a date
            hdr("B1") | {"DOB": born},  # born after the episode began
            hdr("C1"),
        )
        .episodes(
            episode("A1", "01/06/2024"),
            episode("B1", "01/06/2020", HOME_POST=postcode),
            # Columns shifted by one: a postcode and a UPN under codes' titles.
            episode("C1", "01/06/2024", PLACE=postcode, CIN=upn),
        )
        .write()
    )

    report = import_return(engine, files, as_of=AS_OF)

    assert report.children_rejected == 3
    columns = {(r.child_id, r.column) for r in report.rejections}
    assert {("A1", "DOB"), ("C1", "PLACE"), ("C1", "CIN")} <= columns
    assert any(r.child_id == "B1" for r in report.rejections)
    said = report.as_text() + json.dumps(report.as_dict()) + log_output.getvalue()
    for value in (upn, postcode, born, "31/02/2011", "2021-11-17"):
        assert value not in said


def test_a_child_that_fails_to_store_is_rolled_back_alone(engine: Engine, tmp_path: Path) -> None:
    import_return(
        engine,
        SmallReturn(tmp_path / "one")
        .headers(hdr("A1"))
        .episodes(episode("A1", "01/06/2024"))
        .write(),
        as_of=AS_OF,
    )
    before = row_counts(engine)
    # Z9's case reference is already A1's: its child row cannot be written, so none of its
    # rows may be; B2 in the same batch imports.
    files = (
        SmallReturn(tmp_path / "two")
        .headers(hdr("Z9"), hdr("B2"))
        .episodes(episode("Z9", "01/06/2024"), episode("B2", "01/06/2024"))
        .add("allocation", ALLOCATION, {"CHILD": "Z9", "REFERENCE": "A1"})
        .write()
    )

    report = import_return(engine, files, as_of=AS_OF)

    assert (report.children_created, report.children_rejected) == (1, 1)
    failed = next(r for r in report.rejections if r.child_id == "Z9")
    assert "could not be stored" in failed.reason
    after = row_counts(engine)
    assert after["child"] == before["child"] + 1
    assert after["care_child"] == before["care_child"] + 1
    assert after["care_episode"] == before["care_episode"] + 1
    with read_connection(engine) as conn:
        ids = set(conn.execute(select(CARE_CHILDREN.c.return_child_id)).scalars())
    assert ids == {"A1", "B2"}


def test_an_import_from_empty_refreshes_the_planner_statistics_on_postgresql(
    engine: Engine, tmp_path: Path
) -> None:
    """Issue 13: the journey statements are prepared, and their generic plan made for empty
    tables scanned every open deadline per event; the import analyses the tables it grew."""
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    report = import_return(engine, _three_episodes(tmp_path, "y1").write(), as_of=AS_OF)
    assert report.children_created == 2 and report.journeys_started >= 2
    with read_connection(engine) as conn:
        for table in ("child", "journey", "deadline", "care_episode"):
            rows = conn.execute(select(func.count()).select_from(text(table))).scalar_one()
            estimate = conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
            ).scalar_one()
            assert rows > 0 and estimate == rows, table
