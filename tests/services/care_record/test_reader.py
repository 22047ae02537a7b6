"""Reading the return: tables by their columns, several files and years, authorities, grouping."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from services.care_record.reader import ReaderError, SeveralAuthorities, open_return
from services.care_record.tables import TableKind
from tests.services.care_record.support import (
    ALLOCATION,
    AS_OF,
    EPISODES,
    HEADER,
    REVIEWS,
    SmallReturn,
    accepted,
    episode,
    fake_data_folder,
    header,
    write_csv,
)


class TestTablesByColumns:
    def test_a_table_is_known_by_its_columns_whatever_the_file_is_called(
        self, tmp_path: Path
    ) -> None:
        odd = write_csv(tmp_path / "export (3).txt", EPISODES, [episode("1", "01/05/2020")])
        care_return = open_return([odd])
        assert [f.table for f in care_return.files] == [TableKind.EPISODES]

    def test_titles_are_compared_without_case_spaces_or_byte_order_mark(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "h.csv"
        path.write_bytes("\ufeff child , Sex,dob,ETHNIC\r\n7,1,01/06/2012,WBRI\r\n".encode())
        care_return = open_return([path])
        assert care_return.files[0].table is TableKind.HEADER
        (rows,) = list(care_return.children())
        assert rows.child_id == "7"
        assert rows.rows[0].get("DOB") == "01/06/2012"

    def test_extra_columns_are_ignored_and_column_order_does_not_matter(
        self, tmp_path: Path
    ) -> None:
        columns = ("NOTES", "DOB", "ETHNIC", "CHILD", "SEX", "LA_CODE")
        path = write_csv(
            tmp_path / "h.csv",
            columns,
            [
                {
                    "NOTES": "free text",
                    "DOB": "01/06/2012",
                    "ETHNIC": "WBRI",
                    "CHILD": "7",
                    "SEX": "2",
                }
            ],
        )
        (rows,) = list(open_return([path]).children())
        assert dict(rows.rows[0].values) == {
            "CHILD": "7",
            "SEX": "2",
            "DOB": "01/06/2012",
            "ETHNIC": "WBRI",
        }

    def test_a_file_that_is_no_table_is_refused_naming_it(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "budget.csv", ("COST", "CENTRE"), [{"COST": "1"}])
        with pytest.raises(ReaderError, match=r"budget\.csv: its columns match no SSDA903 table"):
            open_return([path])

    def test_the_returns_other_tables_are_recognised_and_skipped(self, tmp_path: Path) -> None:
        oc2 = write_csv(tmp_path / "oc2.csv", ("CHILD", "DOB", "SDQ_SCORE"), [{"CHILD": "7"}])
        care_return = open_return([oc2])
        (source,) = care_return.files
        assert (source.table, source.used, source.data_rows, source.rows_kept) == (
            TableKind.OC2,
            False,
            1,
            0,
        )
        assert care_return.child_count == 0

    def test_uasc_is_not_mistaken_for_a_header_with_uasc_columns(self, tmp_path: Path) -> None:
        both = write_csv(tmp_path / "h.csv", (*HEADER, "DUC"), [header("7")])
        assert open_return([both]).files[0].table is TableKind.HEADER

    def test_a_missing_file_is_an_error_naming_it(self, tmp_path: Path) -> None:
        with pytest.raises(ReaderError, match=r"nowhere\.csv: cannot be opened"):
            open_return([tmp_path / "nowhere.csv"])


class TestRowsAndGrouping:
    def test_rows_are_grouped_by_child_even_when_the_file_is_not_sorted(
        self, tmp_path: Path
    ) -> None:
        path = write_csv(
            tmp_path / "reviews.csv",
            REVIEWS,
            [
                {"CHILD": "A", "REVIEW": "01/05/2020", "REVIEW_CODE": "PN1"},
                {"CHILD": "B", "REVIEW": "02/05/2020", "REVIEW_CODE": "PN1"},
                {"CHILD": "A", "REVIEW": "03/05/2020", "REVIEW_CODE": "PN2"},
                {"CHILD": "A", "REVIEW": "04/05/2020", "REVIEW_CODE": "PN3"},
            ],
        )
        grouped = {
            c.child_id: [(r.row, r.get("REVIEW")) for r in c.rows]
            for c in open_return([path]).children()
        }
        assert grouped == {
            "A": [(2, "01/05/2020"), (4, "03/05/2020"), (5, "04/05/2020")],
            "B": [(3, "02/05/2020")],
        }

    def test_children_come_in_the_order_they_first_appear(self, tmp_path: Path) -> None:
        first = write_csv(tmp_path / "h.csv", HEADER, [header("Z"), header("M")])
        second = write_csv(tmp_path / "e.csv", EPISODES, [episode("A", "01/01/2020")])
        assert open_return([first, second]).child_ids() == ("Z", "M", "A")

    def test_row_numbers_count_spreadsheet_rows_through_quotes_and_blank_lines(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "alloc.csv"
        path.write_text(
            'CHILD,REFERENCE,TEAM\n1,"R-1","North, ""A"" team\nsecond line"\n\n2,R-2,South\n',
            encoding="utf-8",
        )
        rows = {c.child_id: c.rows[0] for c in open_return([path]).children()}
        assert rows["1"].row == 2
        assert rows["1"].get("TEAM") == 'North, "A" team\nsecond line'
        assert rows["2"].row == 4  # the blank line is row 3

    def test_a_childs_rows_print_without_their_values(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "h.csv", HEADER, [header("7", DOB="17/06/2012", UPN="A1234")])
        (rows,) = list(open_return([path]).children())
        assert rows.rows[0].get("DOB") == "17/06/2012"
        assert "17/06/2012" not in repr(rows) and "A1234" not in repr(rows)

    def test_a_file_changed_after_indexing_is_refused(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "h.csv", HEADER, [header("7")])
        care_return = open_return([path])
        write_csv(path, HEADER, [header("8"), header("7")])
        with pytest.raises(ReaderError, match=r"h\.csv: changed since it was indexed"):
            list(care_return.children())

    def test_windows_1252_files_are_read(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path / "alloc.csv",
            ALLOCATION,
            [{"CHILD": "1", "REFERENCE": "R-1", "TEAM": "Équipe Nord"}],
            encoding="cp1252",
        )
        (rows,) = list(open_return([path]).children())
        assert rows.rows[0].get("TEAM") == "Équipe Nord"

    def test_a_row_without_a_child_id_is_reported_and_joins_no_child(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path / "e.csv",
            EPISODES,
            [episode("1", "01/05/2020"), episode("", "01/06/2020"), episode(" ", "01/07/2020")],
        )
        care_return = open_return([path])
        assert care_return.child_ids() == ("1",)
        assert [(r.file, r.row, r.column, r.value, r.reason) for r in care_return.unattached] == [
            (str(path), 3, "CHILD", "", "missing child id"),
            (str(path), 4, "CHILD", "", "missing child id"),
        ]
        assert "no child id" in str(care_return.unattached[0])

    def test_the_same_child_in_several_years_headers_is_one_child(self, tmp_path: Path) -> None:
        old = SmallReturn(tmp_path / "2023").headers(header("7", SEX="1", ETHNIC="WBRI"))
        old.episodes(episode("7", "01/05/2023"))
        new = SmallReturn(tmp_path / "2024").headers(header("7", SEX="M", ETHNIC="WIRI"))
        new.episodes(
            episode("7", "01/05/2023", "01/06/2024"),
            episode("7", "01/06/2024", RNE="P", PLACE="U6"),
        )
        care_return = open_return([*old.write(), *new.write()])
        assert care_return.child_count == 1
        (outcome,) = list(care_return.records(as_of=AS_OF))
        record = accepted(outcome).record
        assert (record.sex, record.ethnicity) == ("M", "WIRI")  # the file given later wins
        assert [(e.start, e.end, e.placement) for e in record.episodes] == [
            (date(2023, 5, 1), date(2024, 6, 1), "U4"),
            (date(2024, 6, 1), None, "U6"),
        ]


class TestAuthorities:
    def _regional(self, tmp_path: Path) -> Path:
        rows = [
            {**header("1"), "LA": "Sefton"},
            {**header("2"), "LA": "Wirral"},
            {**header("3"), "LA": " sefton "},
            {**header("4"), "LA": "Torbay"},
        ]
        return write_csv(tmp_path / "regional.csv", (*HEADER, "LA"), rows)

    def test_a_file_of_several_authorities_is_refused_naming_them(self, tmp_path: Path) -> None:
        with pytest.raises(SeveralAuthorities) as refused:
            open_return([self._regional(tmp_path)])
        assert refused.value.authorities == ("Sefton", "Torbay", "Wirral")
        assert "3 authorities (Sefton, Torbay, Wirral)" in str(refused.value)
        assert "--la" in str(refused.value)
        assert refused.value.by_file == {
            str(tmp_path / "regional.csv"): ("Sefton", "Wirral", "Torbay")
        }

    def test_with_la_only_that_authoritys_rows_are_read(self, tmp_path: Path) -> None:
        care_return = open_return([self._regional(tmp_path)], la="SEFTON")
        assert care_return.child_ids() == ("1", "3")
        (source,) = care_return.files
        assert (source.data_rows, source.rows_kept, source.rows_other_authorities) == (4, 2, 2)

    def test_an_authority_the_files_do_not_hold_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(ReaderError, match="no rows for authority 'Leicestershire'"):
            open_return([self._regional(tmp_path)], la="Leicestershire")

    def test_two_files_of_one_authority_each_still_make_two(self, tmp_path: Path) -> None:
        a = write_csv(tmp_path / "a.csv", (*HEADER, "LA"), [{**header("1"), "LA": "Sefton"}])
        b = write_csv(
            tmp_path / "b.csv", (*EPISODES, "LA"), [{**episode("1", "01/01/2020"), "LA": "Wirral"}]
        )
        with pytest.raises(SeveralAuthorities, match=r"2 authorities \(Sefton, Wirral\)"):
            open_return([a, b])

    def test_one_authority_needs_no_la(self, tmp_path: Path) -> None:
        a = write_csv(tmp_path / "a.csv", (*HEADER, "LA"), [{**header("1"), "LA": "Sefton"}])
        assert open_return([a]).child_ids() == ("1",)

    def test_files_without_an_la_column_are_the_authoritys_own(self, tmp_path: Path) -> None:
        own = write_csv(tmp_path / "h.csv", HEADER, [header("9")])
        care_return = open_return([self._regional(tmp_path), own], la="Sefton")
        assert care_return.child_ids() == ("1", "3", "9")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


class TestSharedSyntheticReturn:
    def test_every_file_is_recognised_and_every_row_read(self) -> None:
        folder = fake_data_folder()
        paths = sorted(folder.glob("*.csv"))
        care_return = open_return(paths)
        by_name = {Path(f.path).name: f for f in care_return.files}
        assert {name: f.table.value for name, f in by_name.items()} == {
            "ad1.csv": "ad1",
            "episodes.csv": "episodes",
            "header.csv": "header",
            "placed_for_adoption.csv": "placed_for_adoption",
            "previous_permanence.csv": "previous_permanence",
            "reviews.csv": "reviews",
            "uasc.csv": "uasc",
        }
        for path in paths:
            assert by_name[path.name].data_rows == len(_csv_rows(path)), path.name
        assert care_return.unattached == ()

        # The children and their rows, against the csv module's own reading of the files.
        expected: Counter[tuple[str, str]] = Counter()
        for path in paths:
            for line in _csv_rows(path):
                expected[(line["CHILD"], by_name[path.name].table.value)] += 1
        got: Counter[tuple[str, str]] = Counter()
        for child in care_return.children():
            for row in child.rows:
                assert row.get("CHILD") == child.child_id
                got[(child.child_id, row.table.value)] += 1
        assert got == expected
        assert care_return.child_count == len({child for child, _ in expected}) == 2675
