"""England's working days and the calendar arithmetic deadline rules use.

Every expected date here was counted by hand against the gov.uk bank-holiday lists, so a
change in the calendar (or in the ``holidays`` package's data) shows up as a failure.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest

from workflow import calendar as cal
from workflow.calendar import (
    add_days,
    add_months,
    add_weeks,
    add_working_days,
    is_bank_holiday,
    is_working_day,
    today_london,
    working_days_between,
)


def d(text: str) -> date:
    return date.fromisoformat(text)


# -- the first looked-after review: 20 working days ---------------------------------------------


def test_first_review_over_christmas_2025() -> None:
    # Christmas Day (Thu 25), Boxing Day (Fri 26) and New Year's Day (Thu 1 Jan) are skipped.
    assert add_working_days(d("2025-12-18"), 20) == d("2026-01-20")


def test_first_review_over_christmas_2020_skips_boxing_day_substitute() -> None:
    # Boxing Day 2020 was a Saturday: its substitute, Monday 28 December, is a bank holiday.
    assert is_bank_holiday(d("2020-12-26"))
    assert is_bank_holiday(d("2020-12-28"))
    assert not is_working_day(d("2020-12-28"))
    assert add_working_days(d("2020-12-18"), 20) == d("2021-01-20")
    # Without the substitute day the count would land one working day earlier.
    assert add_working_days(d("2020-12-18"), 19) == d("2021-01-19")


def test_christmas_2021_both_substitutes_skipped() -> None:
    # Christmas (Sat) and Boxing Day (Sun) 2021 moved to Mon 27 and Tue 28 December.
    assert is_bank_holiday(d("2021-12-27"))
    assert is_bank_holiday(d("2021-12-28"))
    assert add_working_days(d("2021-12-24"), 1) == d("2021-12-29")


def test_new_year_substitute_in_2022() -> None:
    # 1 January 2022 was a Saturday; Monday 3 January was the bank holiday.
    assert is_bank_holiday(d("2022-01-03"))
    assert add_working_days(d("2021-12-31"), 1) == d("2022-01-04")


# -- Easter ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("good_friday", "easter_monday"),
    [
        ("2020-04-10", "2020-04-13"),
        ("2025-04-18", "2025-04-21"),
        ("2026-04-03", "2026-04-06"),
    ],
)
def test_good_friday_and_easter_monday_are_holidays(good_friday: str, easter_monday: str) -> None:
    assert is_bank_holiday(d(good_friday))
    assert is_bank_holiday(d(easter_monday))
    assert not is_working_day(d(good_friday))
    assert not is_working_day(d(easter_monday))
    # The Thursday before Good Friday and the Tuesday after Easter Monday are working days.
    thursday = d(good_friday) - timedelta(days=1)
    tuesday = d(easter_monday) + timedelta(days=1)
    assert is_working_day(thursday)
    assert is_working_day(tuesday)
    assert add_working_days(thursday, 1) == tuesday


def test_working_days_across_easter_2025() -> None:
    # Mon 14 April + 5: 15, 16, 17, (18 Good Friday, weekend, 21 Easter Monday), 22, 23.
    assert add_working_days(d("2025-04-14"), 5) == d("2025-04-23")
    assert working_days_between(d("2025-04-14"), d("2025-04-23")) == 5


def test_twenty_working_days_across_easter_2026() -> None:
    # From Wed 25 March 2026: 26, 27, 30, 31, 1, 2 (6); 3 and 6 April skipped; 7-10 (10);
    # 13-17 (15); 20-24 (20).
    assert add_working_days(d("2026-03-25"), 20) == d("2026-04-24")


# -- the May bank holidays ---------------------------------------------------------------------


def test_may_bank_holidays_2025() -> None:
    assert is_bank_holiday(d("2025-05-05"))  # early May
    assert is_bank_holiday(d("2025-05-26"))  # spring
    assert add_working_days(d("2025-05-02"), 1) == d("2025-05-06")
    assert add_working_days(d("2025-05-23"), 1) == d("2025-05-27")
    # Thu 1 May + 20: 2 (1); 5 skipped; 6-9 (5); 12-16 (10); 19-23 (15); 26 skipped; 27-30 (19);
    # 2 June (20).
    assert add_working_days(d("2025-05-01"), 20) == d("2025-06-02")


def test_ve_day_2020_moved_the_early_may_bank_holiday() -> None:
    # In 2020 the early May bank holiday moved from Monday 4 May to Friday 8 May (VE Day).
    assert is_bank_holiday(d("2020-05-08"))
    assert not is_bank_holiday(d("2020-05-04"))
    assert is_working_day(d("2020-05-04"))
    assert add_working_days(d("2020-05-01"), 1) == d("2020-05-04")
    assert add_working_days(d("2020-05-07"), 1) == d("2020-05-11")
    # Spring bank holiday 2020 stayed on Monday 25 May.
    assert is_bank_holiday(d("2020-05-25"))
    # Fri 1 May + 20: 4-7 (4); 8 skipped; 11-15 (9); 18-22 (14); 25 skipped; 26-29 (18);
    # 1, 2 June (20).
    assert add_working_days(d("2020-05-01"), 20) == d("2020-06-02")


def test_platinum_jubilee_2022_moved_the_spring_bank_holiday() -> None:
    assert not is_bank_holiday(d("2022-05-30"))
    assert is_bank_holiday(d("2022-06-02"))
    assert is_bank_holiday(d("2022-06-03"))
    assert add_working_days(d("2022-06-01"), 1) == d("2022-06-06")


# -- August: England only ----------------------------------------------------------------------


def test_august_bank_holiday_is_englands_last_monday() -> None:
    assert is_bank_holiday(d("2025-08-25"))
    assert is_bank_holiday(d("2020-08-31"))
    # Scotland's first-Monday holiday is not England's.
    assert not is_bank_holiday(d("2025-08-04"))
    assert is_working_day(d("2025-08-04"))
    assert add_working_days(d("2025-08-22"), 1) == d("2025-08-26")
    assert add_working_days(d("2025-08-01"), 1) == d("2025-08-04")


def test_scottish_only_days_are_working_days_in_england() -> None:
    assert is_working_day(d("2025-01-02"))  # 2 January (Scotland)
    assert is_working_day(d("2025-12-01"))  # St Andrew's Day substitute (Scotland)
    assert is_working_day(d("2025-03-17"))  # St Patrick's Day (Northern Ireland)


# -- weekends, zero and negative counts --------------------------------------------------------


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(d("2025-11-22"))  # Saturday
    assert not is_working_day(d("2025-11-23"))  # Sunday
    assert is_working_day(d("2025-11-24"))  # Monday
    assert not is_bank_holiday(d("2025-11-22"))


def test_add_working_days_from_a_weekend() -> None:
    assert add_working_days(d("2025-11-22"), 0) == d("2025-11-22")
    assert add_working_days(d("2025-11-22"), 1) == d("2025-11-24")
    assert add_working_days(d("2025-11-21"), 1) == d("2025-11-24")
    assert add_working_days(d("2025-11-24"), 5) == d("2025-12-01")


def test_negative_working_days_count_backwards() -> None:
    assert add_working_days(d("2025-11-24"), -1) == d("2025-11-21")
    assert add_working_days(d("2026-01-02"), -1) == d("2025-12-31")
    # Back over Christmas: 20 working days before 20 January 2026 is 18 December 2025.
    assert add_working_days(d("2026-01-20"), -20) == d("2025-12-18")
    assert add_working_days(d("2021-01-20"), -20) == d("2020-12-18")
    # From Easter Tuesday 2025 back one: Thursday 17 April.
    assert add_working_days(d("2025-04-22"), -1) == d("2025-04-17")


def test_working_days_between() -> None:
    assert working_days_between(d("2025-12-18"), d("2026-01-20")) == 20
    assert working_days_between(d("2026-01-20"), d("2025-12-18")) == -20
    assert working_days_between(d("2025-11-24"), d("2025-11-24")) == 0
    assert working_days_between(d("2025-11-21"), d("2025-11-23")) == 0  # Fri to Sun
    assert working_days_between(d("2020-12-24"), d("2020-12-29")) == 1  # 25, 28 skipped


# -- calendar months, weeks and days -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),  # leap year
        ("2025-03-31", 1, "2025-04-30"),
        ("2025-08-31", 6, "2026-02-28"),
        ("2025-11-30", 3, "2026-02-28"),
        ("2025-12-15", 1, "2026-01-15"),  # across the year end
        ("2025-10-15", 3, "2026-01-15"),
        ("2026-01-15", 3, "2026-04-15"),
        ("2025-01-31", 12, "2026-01-31"),
        ("2025-03-31", -1, "2025-02-28"),
        ("2026-01-15", -1, "2025-12-15"),
        ("2026-01-15", -13, "2024-12-15"),
        ("2025-05-20", 0, "2025-05-20"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


def test_add_weeks_and_days() -> None:
    assert add_weeks(d("2025-09-01"), 26) == d("2026-03-02")
    assert add_days(d("2025-09-01"), 182) == d("2026-03-02")
    assert add_days(d("2025-01-06"), 426) == d("2026-03-08")
    assert add_days(d("2025-03-01"), -1) == d("2025-02-28")


# -- today in London ---------------------------------------------------------------------------


class _FrozenClock:
    """Stands in for ``datetime`` in the calendar module: ``now`` is a fixed instant."""

    instant = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        return cls.instant.astimezone(tz)


def test_today_is_the_london_date_not_the_utc_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cal, "datetime", _FrozenClock)
    # 23:30 UTC on 30 June is 00:30 BST on 1 July.
    monkeypatch.setattr(_FrozenClock, "instant", datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert today_london() == d("2026-07-01")
    # In winter London is on UTC: 23:30 UTC on 30 November is still 30 November.
    monkeypatch.setattr(_FrozenClock, "instant", datetime(2025, 11, 30, 23, 30, tzinfo=UTC))
    assert today_london() == d("2025-11-30")


def test_working_days_between_counts_as_a_day_by_day_walk() -> None:
    """The counted form (issue 12 item 4) agrees with walking the days one by one, over
    ranges of every length and start weekday, bank holidays and year ends included."""

    def walked(start: date, end: date) -> int:
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += is_working_day(current)
        return count

    for start in (d("2019-12-20") + timedelta(days=k) for k in range(0, 900, 13)):
        for length in (*range(0, 16), 27, 58, 200, 365, 800):
            end = start + timedelta(days=length)
            assert working_days_between(start, end) == walked(start, end), (start, end)
            assert working_days_between(end, start) == -walked(start, end)
