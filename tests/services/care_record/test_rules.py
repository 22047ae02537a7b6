"""The rules a child's rows must pass, each with a small return whose answer is known."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from services.care_record.reader import open_return
from services.care_record.rejections import NOT_SHOWN, WITHHELD, Rejection, safe_value
from services.care_record.rules import (
    Accepted,
    Rejected,
    parse_date,
    parse_partial_date,
    years_between,
)
from states.ssda903 import CollectionYear
from tests.services.care_record.support import (
    AD1,
    ALLOCATION,
    PLACED_FOR_ADOPTION,
    PREVIOUS_PERMANENCE,
    REVIEWS,
    UASC,
    SmallReturn,
    accepted,
    episode,
    fake_data_folder,
    header,
    rejected,
)


def problems(outcome: Rejected) -> list[tuple[str, int, str, str]]:
    """(file name, row, column, reason) of each rejection."""
    return [(Path(r.file).name, r.row, r.column, r.reason) for r in outcome.rejections]


class TestDates:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("05/03/2019", date(2019, 3, 5)),
            ("5/3/2019", date(2019, 3, 5)),
            ("2019-03-05", date(2019, 3, 5)),
            ("2019-03-05T00:00:00", date(2019, 3, 5)),
            ("2019-03-05 00:00:00", date(2019, 3, 5)),
            ("29/02/2020", date(2020, 2, 29)),
        ],
    )
    def test_dd_mm_yyyy_and_iso(self, text: str, expected: date) -> None:
        assert parse_date(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "31/02/2019",
            "29/02/2019",
            "05/03/19",
            "2019/03/05",
            "05-03-2019",
            "March 2019",
            "\u0660\u0665/\u0660\u0663/\u0662\u0660\u0661\u0669",
        ],
    )
    def test_what_is_not_a_date(self, text: str) -> None:
        assert parse_date(text) is None

    def test_partial_dates_of_a_previous_order(self) -> None:
        assert parse_partial_date("ZZ/05/2020") == parse_partial_date("zz/05/2020")
        partial = parse_partial_date("ZZ/05/2020")
        assert partial is not None and (partial.year, partial.month, partial.day) == (2020, 5, None)
        whole = parse_partial_date("01/05/2020")
        assert whole is not None and whole.as_date() == date(2020, 5, 1)
        assert parse_partial_date("ZZ/ZZ/ZZZZ") is not None
        for bad in ("ZZ/13/2020", "31/02/2020", "Z/05/2020", "05/2020"):
            assert parse_partial_date(bad) is None, bad


class TestCollectionYearOfARow:
    def test_an_episode_belongs_to_every_year_it_spans(self) -> None:
        assert years_between(date(2022, 5, 1), date(2024, 4, 1)) == (
            CollectionYear(2022),
            CollectionYear(2023),
            CollectionYear(2024),
        )

    def test_years_outside_those_held_are_clamped(self) -> None:
        assert years_between(date(2014, 1, 1), date(2016, 1, 1)) == (CollectionYear(2017),)

    def test_k3_before_2024_25_is_unknown_for_that_year(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"), header("2", SEX="M"))
        small.episodes(
            episode("1", "01/05/2023", "01/02/2024", PLACE="K3"),
            episode("2", "01/05/2024", "01/02/2025", PLACE="K3"),
        )
        outcomes = small.outcomes()
        assert problems(rejected(outcomes["1"])) == [
            ("episodes.csv", 2, "PLACE", "unknown PLACE code for 2023/24 (valid from 2024/25)")
        ]
        accepted(outcomes["2"])

    def test_an_episode_still_open_spans_to_as_of(self, tmp_path: Path) -> None:
        # H5 was valid when this placement began; the return coded it then. Z11 arrived in
        # 2025/26, which the open episode reaches, so both are accepted as of 2026.
        small = SmallReturn(tmp_path).headers(header("1"), header("2"))
        small.episodes(
            episode("1", "01/05/2022", PLACE="H5"), episode("2", "01/05/2022", PLACE="Z11")
        )
        outcomes = small.outcomes(as_of=date(2026, 1, 1))
        accepted(outcomes["1"])
        accepted(outcomes["2"])
        earlier = small.outcomes(as_of=date(2024, 1, 1))
        assert problems(rejected(earlier["2"])) == [
            (
                "episodes.csv",
                3,
                "PLACE",
                "unknown PLACE code for 2022/23 to 2023/24 (valid from 2025/26)",
            )
        ]

    def test_the_reason_an_episode_ceased_belongs_to_the_year_it_ceased(
        self, tmp_path: Path
    ) -> None:
        small = SmallReturn(tmp_path).headers(header("1"), header("2"), header("3"))
        small.episodes(
            episode("1", "01/05/2017", "01/03/2018", REC="E45"),
            episode("2", "01/05/2017", "01/05/2018", REC="E45"),
            episode("3", "01/05/2017", "01/05/2018", REC="E43"),
        )
        outcomes = small.outcomes()
        assert problems(rejected(outcomes["1"])) == [
            ("episodes.csv", 2, "REC", "unknown REC code for 2017/18 (valid from 2018/19)")
        ]
        accepted(outcomes["2"])
        assert problems(rejected(outcomes["3"])) == [
            ("episodes.csv", 4, "REC", "unknown REC code for 2018/19 (valid in 2017/18 only)")
        ]

    def test_p2_must_have_ended_by_28_october_2023(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"), header("2"), header("3"))
        small.episodes(
            episode("1", "01/05/2023", "28/10/2023", PLACE="P2"),
            episode("2", "01/05/2023", "29/10/2023", PLACE="P2"),
            episode("3", "01/05/2021", PLACE="P2"),
        )
        outcomes = small.outcomes()
        accepted(outcomes["1"])
        for child, row in (("2", 3), ("3", 4)):
            assert problems(rejected(outcomes[child])) == [
                ("episodes.csv", row, "PLACE", "not valid for a placement open after 28/10/2023")
            ]

    def test_the_header_belongs_to_the_years_of_the_childs_rows(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(
            header("old", SEX="1"), header("new", SEX="1"), header("both", SEX="M")
        )
        small.episodes(
            episode("old", "01/05/2019", "01/05/2020"),
            episode("new", "01/05/2025"),
            episode("both", "01/05/2022"),
        )
        outcomes = small.outcomes()
        accepted(outcomes["old"])
        accepted(outcomes["both"])  # 2022/23 to 2026/27 takes in 2024/25's M
        assert problems(rejected(outcomes["new"])) == [
            (
                "header.csv",
                3,
                "SEX",
                "unknown SEX code for 2025/26 to 2026/27 (valid 2017/18 to 2023/24)",
            )
        ]

    def test_a_child_with_no_dated_row_may_use_any_years_codes(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(
            header("1", SEX="1"), header("2", SEX="M"), header("3", SEX="X")
        )
        outcomes = small.outcomes()
        accepted(outcomes["1"])
        accepted(outcomes["2"])
        assert problems(rejected(outcomes["3"])) == [
            ("header.csv", 4, "SEX", "unknown SEX code for any year")
        ]

    def test_a_review_belongs_to_the_year_it_was_held(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.add(
            "reviews",
            REVIEWS,
            {"CHILD": "1", "REVIEW": "01/05/2020", "REVIEW_CODE": "PN1"},
            {"CHILD": "1", "REVIEW": "01/06/2020", "REVIEW_CODE": "PN9"},
        )
        assert problems(rejected(small.outcomes()["1"])) == [
            ("reviews.csv", 3, "REVIEW_CODE", "unknown REVIEW_CODE code for 2020/21")
        ]


class TestRowRules:
    def test_an_episode_ending_before_it_starts(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(episode("1", "05/03/2020", "04/03/2020"))
        assert problems(rejected(small.outcomes()["1"])) == [
            ("episodes.csv", 2, "DEC", "ends before it starts (DECOM 05/03/2020)")
        ]

    def test_a_decision_reversed_before_it_was_made(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.add(
            "placed",
            PLACED_FOR_ADOPTION,
            {
                "CHILD": "1",
                "DATE_PLACED": "01/06/2020",
                "DATE_PLACED_CEASED": "01/05/2020",
                "REASON_PLACED_CEASED": "RD1",
            },
        )
        assert problems(rejected(small.outcomes()["1"])) == [
            (
                "placed.csv",
                2,
                "DATE_PLACED_CEASED",
                "ends before it starts (DATE_PLACED 01/06/2020)",
            )
        ]

    def test_a_match_before_the_decision(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.add(
            "ad1",
            AD1,
            {
                "CHILD": "1",
                "DATE_INT": "01/06/2020",
                "DATE_MATCH": "01/05/2020",
                "SEX_ADOPTR": "MF",
            },
        )
        assert problems(rejected(small.outcomes()["1"])) == [
            (
                "ad1.csv",
                2,
                "DATE_MATCH",
                "matched before the decision to place for adoption (DATE_INT 01/06/2020)",
            )
        ]

    def test_a_date_of_birth_after_an_episodes_start(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1", DOB="10/05/2020"))
        small.episodes(
            episode("1", "09/05/2020", "10/05/2020"), episode("1", "10/05/2020", RNE="P")
        )
        outcome = rejected(small.outcomes()["1"])
        assert problems(outcome) == [
            ("episodes.csv", 2, "DECOM", "starts before the child's date of birth")
        ]
        assert outcome.rejections[0].value == "09/05/2020"  # the start date, not the birth date
        assert "10/05/2020" not in str(outcome.rejections[0])

    def test_dates_that_are_not_dates(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1", DOB="31/02/2012"), header("2"))
        small.episodes(episode("2", "2020-13-01"), episode("2", ""))
        outcomes = small.outcomes()
        one = rejected(outcomes["1"])
        assert problems(one) == [("header.csv", 2, "DOB", "not a date")]
        assert one.rejections[0].value == WITHHELD
        assert "31/02/2012" not in str(one.rejections[0])
        assert problems(rejected(outcomes["2"])) == [
            ("episodes.csv", 2, "DECOM", "not a date"),
            ("episodes.csv", 3, "DECOM", "missing start date"),
        ]
        assert rejected(outcomes["2"]).rejections[0].value == "2020-13-01"

    def test_required_codes(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1", ETHNIC=""))
        small.episodes(episode("1", "01/05/2020", LS="", PLACE="Q9"))
        assert problems(rejected(small.outcomes()["1"])) == [
            ("episodes.csv", 2, "LS", "missing LS code"),
            ("episodes.csv", 2, "PLACE", "unknown PLACE code for 2020/21 to 2026/27"),
            ("header.csv", 2, "ETHNIC", "missing ETHNIC code"),
        ]

    def test_no_header_row(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).episodes(episode("1", "01/05/2020"))
        small.add("allocation", ALLOCATION, {"CHILD": "2", "REFERENCE": "R-2"})
        outcomes = small.outcomes()
        for child, file in (("1", "episodes.csv"), ("2", "allocation.csv")):
            assert problems(rejected(outcomes[child])) == [
                (file, 2, "CHILD", "no header row for this child in the files given")
            ]

    def test_two_headers_disagreeing_on_the_date_of_birth(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(
            header("1", DOB="01/06/2012"), header("1", DOB="02/06/2012")
        )
        outcome = rejected(small.outcomes()["1"])
        assert problems(outcome) == [
            (
                "header.csv",
                3,
                "DOB",
                f"date of birth differs from the one at {tmp_path / 'header.csv'} row 2",
            )
        ]
        assert outcome.rejections[0].value == WITHHELD

    def test_a_upn_placeholder_outside_the_list(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1", UPN="UN4"), header("2", UPN="UN7"))
        outcomes = small.outcomes()
        assert accepted(outcomes["1"]).record.upn == "UN4"
        outcome = rejected(outcomes["2"])
        assert problems(outcome) == [
            ("header.csv", 3, "UPN", "unknown code for a UPN not known (UN1 to UN5)")
        ]
        assert outcome.rejections[0].value == WITHHELD

    def test_a_previous_order_date_with_unknown_parts(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"), header("2"))
        small.add(
            "prev",
            PREVIOUS_PERMANENCE,
            {"CHILD": "1", "PREV_PERM": "P2", "LA_PERM": "340", "DATE_PERM": "ZZ/05/2016"},
            {"CHILD": "2", "PREV_PERM": "P2", "LA_PERM": "340", "DATE_PERM": "ZZ/13/2016"},
        )
        outcomes = small.outcomes()
        previous = accepted(outcomes["1"]).record.previous_permanence
        assert previous is not None and previous.ordered_on is not None
        assert (previous.kind, previous.ordered_on.month, previous.ordered_on.year) == (
            "P2",
            5,
            2016,
        )
        assert problems(rejected(outcomes["2"])) == [("prev.csv", 3, "DATE_PERM", "not a date")]


class TestOverlaps:
    def test_an_episode_starting_before_the_last_one_ends(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(
            episode("1", "01/05/2020", "01/07/2020"), episode("1", "30/06/2020", RNE="P")
        )
        assert problems(rejected(small.outcomes()["1"])) == [
            (
                "episodes.csv",
                3,
                "DECOM",
                f"overlaps the episode at {tmp_path / 'episodes.csv'} row 2, which ends 01/07/2020",
            )
        ]

    def test_an_episode_after_one_still_open(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(episode("1", "01/08/2020", RNE="P"), episode("1", "01/05/2020"))
        assert problems(rejected(small.outcomes()["1"])) == [
            (
                "episodes.csv",
                2,
                "DECOM",
                f"overlaps the episode at {tmp_path / 'episodes.csv'} row 3, which is still open",
            )
        ]

    def test_two_episodes_starting_the_same_day_in_one_file(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(
            episode("1", "01/05/2020", "01/06/2020"), episode("1", "01/05/2020", "01/07/2020")
        )
        assert problems(rejected(small.outcomes()["1"])) == [
            (
                "episodes.csv",
                3,
                "DECOM",
                f"overlaps the episode at {tmp_path / 'episodes.csv'} row 2, "
                "which starts the same day",
            )
        ]

    def test_an_episode_refused_for_its_code_still_takes_up_its_days(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(
            episode("1", "01/05/2020", "01/07/2020", PLACE="Q9"),
            episode("1", "01/06/2020", RNE="P"),
        )
        assert [p[2] for p in problems(rejected(small.outcomes()["1"]))] == ["PLACE", "DECOM"]

    def test_back_to_back_episodes_do_not_overlap(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(
            episode("1", "01/05/2020", "01/07/2020"), episode("1", "01/07/2020", RNE="L", LS="E1")
        )
        assert len(accepted(small.outcomes()["1"]).record.episodes) == 2

    def test_the_same_episode_in_two_years_files_is_one_episode(self, tmp_path: Path) -> None:
        # Given newest first on purpose: the closed copy still wins over the open one.
        new = SmallReturn(tmp_path / "2024").headers(header("1"))
        new.episodes(episode("1", "01/05/2023", "01/06/2024"), episode("1", "01/06/2024", RNE="P"))
        old = (
            SmallReturn(tmp_path / "2023").headers(header("1")).episodes(episode("1", "01/05/2023"))
        )
        (outcome,) = list(open_return([*new.write(), *old.write()]).records(as_of=date(2025, 1, 1)))
        episodes = accepted(outcome).record.episodes
        assert [(e.start, e.end) for e in episodes] == [
            (date(2023, 5, 1), date(2024, 6, 1)),
            (date(2024, 6, 1), None),
        ]


class TestAllOrNothing:
    def test_one_bad_row_withholds_every_row_of_that_child_only(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"), header("2"))
        small.episodes(episode("1", "01/05/2020"), episode("2", "01/05/2020"))
        small.add(
            "reviews",
            REVIEWS,
            {"CHILD": "1", "REVIEW": "20/05/2020", "REVIEW_CODE": "PN1"},
            {"CHILD": "1", "REVIEW": "20/08/2020", "REVIEW_CODE": "PNX"},
            {"CHILD": "2", "REVIEW": "20/05/2020", "REVIEW_CODE": "PN1"},
        )
        outcomes = small.outcomes()
        one = rejected(outcomes["1"])
        assert (one.rows, len(one.rejections)) == (4, 1)
        two = accepted(outcomes["2"]).record
        assert [(r.held_on, r.participation) for r in two.reviews] == [(date(2020, 5, 20), "PN1")]

    def test_a_clean_record_holds_every_table(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(
            header("1", SEX="2", MOTHER="1", MC_DOB="01/01/2024", UPN="UN2")
        )
        small.episodes(
            episode("1", "2020-05-01", "01/05/2021", LS="C1", PLACE="U6", REC="X1"),
            episode("1", "01/05/2021", RNE="L", LS="E1", PLACE="U6"),
        )
        small.add("reviews", REVIEWS, {"CHILD": "1", "REVIEW": "20/05/2020", "REVIEW_CODE": "PN1"})
        small.add(
            "placed",
            PLACED_FOR_ADOPTION,
            {"CHILD": "1", "DATE_PLACED": "01/03/2021"},
            {
                "CHILD": "1",
                "DATE_PLACED": "01/03/2021",
                "DATE_PLACED_CEASED": "01/03/2022",
                "REASON_PLACED_CEASED": "RD3",
            },
        )
        small.add(
            "ad1",
            AD1,
            {"CHILD": "1", "DATE_INT": "01/03/2021", "DATE_MATCH": "01/09/2021", "NB_ADOPTR": "2"},
        )
        small.add("uasc", UASC, {"CHILD": "1", "DUC": "01/01/2030"})
        small.add("prev", PREVIOUS_PERMANENCE, {"CHILD": "1", "PREV_PERM": "Z1"})
        small.add(
            "allocation",
            ALLOCATION,
            {
                "CHILD": "1",
                "REFERENCE": "R-1",
                "GIVEN_NAME": "Sam",
                "TEAM": "North",
                "SOCIAL_WORKER": "jsmith",
            },
        )
        record = accepted(small.outcomes()["1"]).record
        assert (record.sex, record.mother, record.upn) == ("2", "1", "UN2")
        assert record.date_of_birth == date(2012, 6, 1)
        assert record.mothers_child_born_on == date(2024, 1, 1)
        assert [(e.legal_status, e.reason_new) for e in record.episodes] == [
            ("C1", "S"),
            ("E1", "L"),
        ]
        assert record.episodes[0].source.row == 2
        assert [
            (d.decided_on, d.ceased_on, d.reason_ceased) for d in record.adoption_decisions
        ] == [(date(2021, 3, 1), date(2022, 3, 1), "RD3")]
        assert [(m.matched_on, m.number_of_adopters) for m in record.adoption_matches] == [
            (date(2021, 9, 1), "2")
        ]
        assert record.uasc is not None and record.uasc.ceased_on == date(2030, 1, 1)
        assert record.previous_permanence is not None and record.previous_permanence.kind == "Z1"
        assert record.allocation is not None
        assert (
            record.allocation.reference,
            record.allocation.team,
            record.allocation.social_worker,
        ) == (
            "R-1",
            "North",
            "jsmith",
        )

    def test_the_records_repr_holds_no_personal_data(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1", DOB="17/06/2012", UPN="A123456789012"))
        small.episodes(episode("1", "01/05/2020", HOME_POST="ZZ9 9ZZ", PL_POST="YY8 8YY"))
        small.add(
            "allocation",
            ALLOCATION,
            {"CHILD": "1", "REFERENCE": "R-1", "GIVEN_NAME": "Samira", "FAMILY_NAME": "Okafor"},
        )
        text = repr(accepted(small.outcomes()["1"]).record)
        for secret in ("2012", "A123456789012", "ZZ9 9ZZ", "YY8 8YY", "Samira", "Okafor"):
            assert secret not in text, secret
        assert "child_id='1'" in text


class TestPersonalDataInRejections:
    def test_personal_columns_are_withheld(self) -> None:
        for column in ("DOB", "MC_DOB", "UPN", "HOME_POST", "PL_POST", "GIVEN_NAME", "FAMILY_NAME"):
            assert safe_value(column, "anything") == WITHHELD

    @pytest.mark.parametrize(
        "value", ["EG19 7TT", "EG197TT", "D051910639385", "Jane Smith", "a" * 13]
    )
    def test_values_that_could_be_personal_are_not_shown_in_any_column(self, value: str) -> None:
        assert safe_value("PLACE", value) == NOT_SHOWN

    @pytest.mark.parametrize("value", ["Q9", "E4A", "CUSTOD", "31/02/2019", "2019-02-31", ""])
    def test_codes_and_dates_are_shown(self, value: str) -> None:
        assert safe_value("PLACE", value) == value

    def test_a_postcode_in_a_shifted_column_is_not_printed(self, tmp_path: Path) -> None:
        small = SmallReturn(tmp_path).headers(header("1"))
        small.episodes(episode("1", "01/05/2020", PLACE="EG19 7TT"))
        (rejection,) = rejected(small.outcomes()["1"]).rejections
        assert str(rejection) == (
            f"{tmp_path / 'episodes.csv'} row 2, PLACE {NOT_SHOWN}: "
            "unknown PLACE code for 2020/21 to 2026/27 (child 1)"
        )

    def test_a_rejection_as_json(self) -> None:
        rejection = Rejection.of(
            file="e.csv",
            row=3,
            column="DOB",
            raw_value="1/1/2010",
            reason="not a date",
            child_id="7",
        )
        assert rejection.as_dict() == {
            "file": "e.csv",
            "row": 3,
            "column": "DOB",
            "value": WITHHELD,
            "reason": "not a date",
            "child_id": "7",
        }


def _day(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


class TestSharedSyntheticReturn:
    """The shared return's random codes, against an independent reading with the csv module."""

    AS_OF = date(2026, 12, 2)

    def _read(self, name: str) -> list[dict[str, str]]:
        with (fake_data_folder() / name).open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))

    def _expected(self) -> tuple[Counter[str], set[str]]:
        """Rejections by kind and the children rejected, computed straight from the files."""
        kinds: Counter[str] = Counter()
        children: set[str] = set()
        new_codes_from = _day("01/04/2018")  # E45-E48 and CUSTOD: from 2018/19
        by_child: dict[str, list[tuple[date, date | None]]] = {}
        for row in self._read("episodes.csv"):
            child, end = row["CHILD"], _day(row["DEC"]) if row["DEC"] else None
            by_child.setdefault(child, []).append((_day(row["DECOM"]), end))
            if end is not None and end < new_codes_from:
                if row["REC"] in {"E45", "E46", "E47", "E48"}:
                    kinds["REC"] += 1
                    children.add(child)
                if row["REASON_PLACE_CHANGE"] == "CUSTOD":
                    kinds["CUSTOD"] += 1
                    children.add(child)
            if row["PLACE"] == "P2" and (end is None or end > _day("28/10/2023")):
                kinds["P2"] += 1
                children.add(child)
        for child, spells in by_child.items():
            spells.sort(key=lambda s: s[0])
            for (_, first_end), (second_start, _) in pairwise(spells):
                if first_end is None or second_start < first_end:
                    kinds["overlap"] += 1
                    children.add(child)
        for row in self._read("placed_for_adoption.csv"):
            if row["REASON_PLACED_CEASED"] not in {"", "RD1", "RD2", "RD3", "RD4"}:
                kinds["RD"] += 1
                children.add(row["CHILD"])
        for row in self._read("header.csv"):
            if row["MOTHER"] not in {"", "0", "1"}:
                kinds["MOTHER"] += 1
                children.add(row["CHILD"])
        return kinds, children

    def test_exact_rejections(self) -> None:
        expected_kinds, expected_children = self._expected()
        # Checked by hand once too: the files' dates run to March 2018, so every E45-E48 and
        # CUSTOD on an episode ended by then predates those codes.
        assert expected_kinds == Counter(REC=157, CUSTOD=162, overlap=72, P2=48, RD=29, MOTHER=1)

        care_return = open_return(sorted(fake_data_folder().glob("*.csv")))
        got: Counter[str] = Counter()
        rejected_children: set[str] = set()
        accepted_count = 0
        for outcome in care_return.records(as_of=self.AS_OF):
            if isinstance(outcome, Accepted):
                accepted_count += 1
                continue
            rejected_children.add(outcome.child_id)
            for r in outcome.rejections:
                kind = {
                    ("REC", "unknown"): "REC",
                    ("REASON_PLACE_CHANGE", "unknown"): "CUSTOD",
                    ("DECOM", "overlaps"): "overlap",
                    ("PLACE", "not"): "P2",
                    ("REASON_PLACED_CEASED", "unknown"): "RD",
                    ("MOTHER", "unknown"): "MOTHER",
                }[(r.column, r.reason.split()[0])]
                got[kind] += 1
        assert got == expected_kinds
        assert rejected_children == expected_children
        assert len(rejected_children) == 417
        assert accepted_count == 2675 - 417
        assert care_return.unattached == ()
