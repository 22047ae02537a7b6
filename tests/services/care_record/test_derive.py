"""Facts derived from a care record as of a date, each on a small record with a known answer."""

from __future__ import annotations

from datetime import date

import pytest

from services.care_record import derive
from services.care_record.records import ChildRecord, Episode, Source


def d(text: str) -> date:
    return date.fromisoformat(text)


def ep(
    start: str,
    end: str | None = None,
    *,
    rne: str = "P",
    ls: str = "C2",
    place: str = "U4",
    postcode: str = "AB1 2CD",
    urn: str | None = None,
) -> Episode:
    return Episode(
        start=d(start),
        end=None if end is None else d(end),
        reason_new=rne,
        legal_status=ls,
        placement=place,
        category_of_need="N1",
        provider="PR1",
        reason_ceased=None if end is None else "X1",
        reason_place_change=None,
        urn=urn,
        home_postcode="ZZ1 1ZZ",
        placement_postcode=postcode,
        source=Source(file="episodes.csv", row=2),
    )


def record(*episodes: Episode) -> ChildRecord:
    return ChildRecord(
        child_id="1",
        sex="M",
        ethnicity="WBRI",
        date_of_birth=d("2012-06-01"),
        upn=None,
        mother=None,
        mothers_child_born_on=None,
        episodes=tuple(episodes),
        reviews=(),
        adoption_decisions=(),
        adoption_matches=(),
        uasc=None,
        previous_permanence=None,
        allocation=None,
        header_source=Source(file="header.csv", row=2),
    )


ORDER_THEN_ADOPTION = record(
    ep("2023-01-01", "2023-06-01", rne="S", ls="C1", place="U6"),
    ep("2023-06-01", rne="B", ls="E1", place="A5", postcode="CD3 4EF"),
)


class TestCurrentLegalStatusAndPlacement:
    def test_from_the_episode_open_on_the_day(self) -> None:
        assert derive.current_legal_status(ORDER_THEN_ADOPTION, d("2023-05-31")) == "C1"
        assert derive.current_placement(ORDER_THEN_ADOPTION, d("2023-05-31")) == "U6"

    def test_an_episodes_end_day_belongs_to_the_next_episode(self) -> None:
        assert derive.current_legal_status(ORDER_THEN_ADOPTION, d("2023-06-01")) == "E1"
        assert derive.current_placement(ORDER_THEN_ADOPTION, d("2026-01-01")) == "A5"

    def test_none_before_care_or_after_it(self) -> None:
        left = record(ep("2023-01-01", "2023-06-01", rne="S"))
        assert derive.current_legal_status(left, d("2022-12-31")) is None
        assert derive.current_placement(left, d("2023-06-01")) is None
        assert derive.open_episode(left, d("2023-05-31")) == left.episodes[0]


class TestLookedAfter:
    def test_looked_after_while_an_episode_is_open(self) -> None:
        left = record(ep("2023-01-01", "2023-06-01", rne="S"))
        assert derive.is_looked_after(left, d("2023-01-01"))
        assert derive.is_looked_after(left, d("2023-05-31"))
        assert not derive.is_looked_after(left, d("2023-06-01"))
        assert not derive.is_looked_after(left, d("2022-12-31"))

    def test_short_breaks_count_only_when_asked(self) -> None:
        breaks = record(ep("2023-01-01", "2023-01-08", rne="S", ls="V3", place="R1"))
        assert not derive.is_looked_after(breaks, d("2023-01-03"))
        assert derive.is_looked_after(breaks, d("2023-01-03"), include_short_breaks=True)


TWO_PERIODS = record(
    ep("2020-01-01", "2020-06-01", rne="S"),
    ep("2020-06-01", "2020-09-01", rne="P", place="U6"),
    ep("2021-01-01", "2021-04-01", rne="S", ls="V2"),
    ep("2021-04-01", rne="L", ls="C2"),
)


class TestPeriodsOfCare:
    def test_an_rne_s_episode_starts_a_new_period(self) -> None:
        periods = derive.periods_of_care(TWO_PERIODS)
        assert [(p.start, p.end, len(p.episodes)) for p in periods] == [
            (d("2020-01-01"), d("2020-09-01"), 2),
            (d("2021-01-01"), None, 2),
        ]

    def test_a_gap_starts_a_new_period_whatever_the_rne(self) -> None:
        gap = record(ep("2020-01-01", "2020-02-01", rne="S"), ep("2020-03-01", rne="P"))
        assert [p.start for p in derive.periods_of_care(gap)] == [d("2020-01-01"), d("2020-03-01")]

    def test_s_back_to_back_still_starts_a_new_period(self) -> None:
        again = record(ep("2020-01-01", "2020-02-01", rne="S"), ep("2020-02-01", rne="S"))
        assert len(derive.periods_of_care(again)) == 2

    def test_the_current_period_and_its_length(self) -> None:
        period = derive.current_period_of_care(TWO_PERIODS, d("2021-03-01"))
        assert period is not None
        assert (period.start, period.end, len(period.episodes)) == (d("2021-01-01"), None, 1)
        assert derive.days_in_current_period(TWO_PERIODS, d("2021-03-01")) == 59
        assert derive.days_in_current_period(TWO_PERIODS, d("2021-01-01")) == 0

    def test_no_current_period_between_periods(self) -> None:
        assert derive.current_period_of_care(TWO_PERIODS, d("2020-10-01")) is None
        assert derive.days_in_current_period(TWO_PERIODS, d("2020-09-01")) is None

    def test_a_period_that_ended_later_is_open_as_of_an_earlier_day(self) -> None:
        period = derive.current_period_of_care(TWO_PERIODS, d("2020-03-01"))
        assert period is not None and period.end is None and len(period.episodes) == 1


class TestPlacements:
    def test_a_change_of_legal_status_only_keeps_the_placement(self) -> None:
        same = record(
            ep("2022-01-01", "2022-03-01", rne="S", ls="C1"), ep("2022-03-01", rne="L", ls="C2")
        )
        (only,) = derive.placements(same)
        assert (only.start, only.end, len(only.episodes)) == (d("2022-01-01"), None, 2)

    @pytest.mark.parametrize("rne", ["P", "B", "T", "U"])
    def test_each_other_reason_for_a_new_episode_starts_a_placement(self, rne: str) -> None:
        moved = record(ep("2022-01-01", "2022-03-01", rne="S"), ep("2022-03-01", rne=rne))
        assert len(derive.placements(moved)) == 2

    def test_a_temporary_placement_and_the_return_from_it(self) -> None:
        away = record(
            ep("2022-01-01", "2022-03-01", rne="S"),
            ep("2022-03-01", "2022-03-10", place="T2", postcode="XX1 1XX"),
            ep("2022-03-10", rne="P"),
        )
        found = [(p.start, p.end, p.temporary) for p in derive.placements(away)]
        assert found == [
            (d("2022-01-01"), None, False),
            (d("2022-03-01"), d("2022-03-10"), True),
        ]

    def test_moving_somewhere_else_after_a_temporary_placement_is_a_new_placement(self) -> None:
        away = record(
            ep("2022-01-01", "2022-03-01", rne="S"),
            ep("2022-03-01", "2022-03-10", place="T1"),
            ep("2022-03-10", rne="P", postcode="NEW 1PC"),
        )
        assert [p.temporary for p in derive.placements(away)] == [False, True, False]

    def test_short_breaks_are_not_placements(self) -> None:
        breaks = record(ep("2022-01-01", "2022-01-05", rne="S", ls="V4", place="R1"))
        assert derive.placements_in_last_12_months(breaks, d("2022-01-03")) == 0


FOUR_MOVES = record(
    ep("2022-01-01", "2023-04-01", rne="S", place="U6"),
    ep("2023-04-01", "2023-09-01", rne="P", place="K2", postcode="K2 1AA"),
    ep("2023-09-01", "2023-10-01", rne="L", ls="E1", place="K2", postcode="K2 1AA"),
    ep("2023-10-01", "2023-10-05", place="T4", postcode="T4 1AA"),
    ep("2023-10-05", "2024-01-01", rne="P", place="K2", postcode="K2 1AA"),
    ep("2024-01-01", rne="T", place="U4", postcode="U4 1AA"),
)


class TestPlacementsInTheLast12Months:
    def test_the_dfe_measure_over_a_collection_year(self) -> None:
        # Year 1 April 2023 to 31 March 2024: left U6 on 1 April, so K2 (an L episode and a
        # temporary absence inside it) and U4: 2 placements.
        assert derive.placements_in_last_12_months(FOUR_MOVES, d("2024-03-31")) == 2
        assert not derive.three_or_more_placements(FOUR_MOVES, d("2024-03-31"))

    def test_the_placement_held_on_the_windows_first_day_counts(self) -> None:
        # 31 March 2023 to 30 March 2024: the child was still in U6 on 31 March 2023.
        assert derive.placements_in_last_12_months(FOUR_MOVES, d("2024-03-30")) == 3
        assert derive.three_or_more_placements(FOUR_MOVES, d("2024-03-30"))

    def test_moves_after_the_day_are_not_counted(self) -> None:
        assert derive.placements_in_last_12_months(FOUR_MOVES, d("2023-08-31")) == 2
        assert derive.placements_in_last_12_months(FOUR_MOVES, d("2022-06-01")) == 1

    def test_a_return_home_and_back_into_care_counts_the_new_placement(self) -> None:
        back = record(
            ep("2023-05-01", "2023-07-01", rne="S", place="U4"),
            ep("2023-09-01", "2023-10-01", rne="S", place="U4"),
            ep("2023-10-01", rne="P", place="U5", postcode="U5 1AA"),
        )
        assert derive.placements_in_last_12_months(back, d("2024-03-31")) == 3

    def test_not_looked_after_in_the_window(self) -> None:
        left = record(ep("2020-01-01", "2021-01-01", rne="S"))
        assert derive.placements_in_last_12_months(left, d("2024-03-31")) == 0


class TestMonthsInTheCurrentPlacement:
    def test_whole_calendar_months(self) -> None:
        assert derive.whole_months(d("2023-01-31"), d("2023-02-28")) == 1
        assert derive.whole_months(d("2023-01-15"), d("2023-02-14")) == 0
        assert derive.whole_months(d("2023-01-15"), d("2024-01-15")) == 12
        assert derive.whole_months(d("2023-03-10"), d("2023-03-01")) == 0

    def test_from_the_start_of_the_placement_not_of_the_last_episode(self) -> None:
        assert derive.current_placement_start(FOUR_MOVES, d("2023-12-31")) == d("2023-04-01")
        assert derive.months_in_current_placement(FOUR_MOVES, d("2023-12-31")) == 8
        assert derive.months_in_current_placement(FOUR_MOVES, d("2024-03-31")) == 2

    def test_during_a_temporary_placement_the_child_is_still_counted_in_the_last_one(
        self,
    ) -> None:
        assert derive.current_placement_start(FOUR_MOVES, d("2023-10-03")) == d("2023-04-01")
        assert derive.months_in_current_placement(FOUR_MOVES, d("2023-10-03")) == 6

    def test_a_temporary_placement_that_opens_a_period_is_its_own_start(self) -> None:
        first = record(ep("2023-01-10", rne="S", place="T0"))
        assert derive.current_placement_start(first, d("2023-03-11")) == d("2023-01-10")
        assert derive.months_in_current_placement(first, d("2023-03-11")) == 2

    def test_none_when_not_looked_after(self) -> None:
        left = record(ep("2020-01-01", "2021-01-01", rne="S"))
        assert derive.months_in_current_placement(left, d("2021-01-01")) is None
        assert derive.months_in_current_placement(left, d("2019-12-31")) is None
