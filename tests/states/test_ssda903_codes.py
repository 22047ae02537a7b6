"""The SSDA903 code lists: year by year validity, labels, and the cohorts' named groups."""

from __future__ import annotations

from datetime import date

import pytest

from states import ssda903
from states.ssda903 import CURRENT_YEAR, FIRST_YEAR, CollectionYear, codes, is_valid, label


def y(text: str) -> CollectionYear:
    return CollectionYear.parse(text)


# The validator's placement lists (data-to-insight/csc-validator-be-903, rule 146 of each rule
# set), typed out here as an independent reading. Its 2024/25 list spells K3 "k3", a typo
# that would refuse every K3 placement; the DfE's code is K3.
_COMMON = {"A3", "A4", "A5", "A6", "K1", "K2", "P1", "P3", "R1", "R2", "R3", "R5", "S1"}
_COMMON |= {"T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6"}
VALIDATOR_PLACE_2022_23 = _COMMON | {"H5", "P2", "Z1"}
VALIDATOR_PLACE_2025_26 = _COMMON | {"K3", "Z11", "Z12", "Z13", "Z14"}


class TestCollectionYear:
    def test_a_year_runs_from_1_april_to_31_march(self) -> None:
        assert CollectionYear.of(date(2024, 3, 31)) == CollectionYear(2023)
        assert CollectionYear.of(date(2024, 4, 1)) == CollectionYear(2024)
        assert CollectionYear(2023).first_day == date(2023, 4, 1)
        assert CollectionYear(2023).last_day == date(2024, 3, 31)

    def test_written_and_parsed_as_the_dfe_writes_it(self) -> None:
        assert str(CollectionYear(2023)) == "2023/24"
        assert str(CollectionYear(2099)) == "2099/00"
        assert y("2023/24") == y("2023-24") == y("2023 to 2024") == CollectionYear(2023)

    @pytest.mark.parametrize("text", ["2023/25", "2023", "23/24", "2023/2025", "next year"])
    def test_refuses_what_is_not_a_collection_year(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a collection year"):
            CollectionYear.parse(text)

    def test_the_years_held_run_from_2017_18_to_the_current_specification(self) -> None:
        years = ssda903.supported_years()
        assert years[0] == FIRST_YEAR == y("2017/18")
        assert years[-1] == CURRENT_YEAR == y("2026/27")
        assert len(years) == 10

    def test_years_outside_those_held_are_judged_by_the_nearest(self) -> None:
        assert ssda903.clamp(y("2012/13")) == FIRST_YEAR
        assert ssda903.clamp(y("2031/32")) == CURRENT_YEAR
        assert ssda903.clamp(y("2020/21")) == y("2020/21")


class TestPlacementCodesByYear:
    def test_2022_23_list_is_the_validators(self) -> None:
        assert codes("PLACE", y("2022/23")) == VALIDATOR_PLACE_2022_23

    def test_2023_24_keeps_every_code_and_adds_none(self) -> None:
        # 2023/24 regulated supported accommodation from 28 October 2023 but changed no code:
        # P2 stops on that day (VALID_UNTIL) and H5 needs a URN, K1/K2/R5 are unchanged.
        assert codes("PLACE", y("2023/24")) == VALIDATOR_PLACE_2022_23
        assert ssda903.VALID_UNTIL[("PLACE", "P2")] == date(2023, 10, 28)

    def test_2024_25_adds_k3_as_h5s_successor(self) -> None:
        assert codes("PLACE", y("2024/25")) == VALIDATOR_PLACE_2022_23 - {"P2"} | {"K3"}
        assert not is_valid("PLACE", "K3", y("2023/24"))
        assert is_valid("PLACE", "K3", y("2024/25"))
        assert is_valid("PLACE", "H5", y("2024/25"))

    def test_2025_26_drops_h5_p2_z1_and_splits_z1_in_four(self) -> None:
        assert codes("PLACE", y("2025/26")) == VALIDATOR_PLACE_2025_26
        for gone in ("H5", "P2", "Z1"):
            assert not is_valid("PLACE", gone, y("2025/26")), gone
        for new in ("Z11", "Z12", "Z13", "Z14"):
            assert is_valid("PLACE", new, y("2025/26")), new
            assert not is_valid("PLACE", new, y("2024/25")), new

    def test_current_specification_is_2025_26s_list(self) -> None:
        assert codes("PLACE", CURRENT_YEAR) == VALIDATOR_PLACE_2025_26

    def test_codes_are_case_sensitive(self) -> None:
        assert not is_valid("PLACE", "k3", y("2025/26"))
        assert not is_valid("LS", "c1", y("2020/21"))


class TestOtherFieldsByYear:
    def test_special_guardianship_reasons_split_in_2018_19(self) -> None:
        assert is_valid("REC", "E43", y("2017/18"))
        assert not is_valid("REC", "E43", y("2018/19"))
        assert not is_valid("REC", "E45", y("2017/18"))
        assert all(is_valid("REC", c, y("2018/19")) for c in ("E45", "E46", "E47", "E48"))

    def test_custody_arrangement_arrives_in_2018_19(self) -> None:
        assert not is_valid("REASON_PLACE_CHANGE", "CUSTOD", y("2017/18"))
        assert is_valid("REASON_PLACE_CHANGE", "CUSTOD", y("2018/19"))

    def test_sex_moves_from_1_2_to_m_f_u_in_2024_25(self) -> None:
        assert codes("SEX", y("2023/24")) == {"1", "2"}
        assert codes("SEX", y("2024/25")) == {"M", "F", "U"}
        assert label("SEX", "1") == label("SEX", "M") == "Male"

    def test_unchanged_lists(self) -> None:
        every_year = ssda903.supported_years()
        expected = {
            "LS": {"C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3"},
            "RNE": {"S", "L", "P", "T", "B", "U"},
            "CIN": {f"N{i}" for i in range(1, 9)},
            "REVIEW_CODE": {f"PN{i}" for i in range(8)},
            "PLACE_PROVIDER": {f"PR{i}" for i in range(6)},
            "REASON_PLACED_CEASED": {"RD1", "RD2", "RD3", "RD4"},
            "PREV_PERM": {"P1", "P2", "P3", "P4", "Z1"},
            "LS_ADOPTR": {"L0", "L11", "L12", "L2", "L3", "L4"},
            "SEX_ADOPTR": {"M1", "F1", "MM", "FF", "MF"},
        }
        for field, wanted in expected.items():
            for year in every_year:
                assert codes(field, year) == wanted, (field, str(year))
        assert len(codes("ETHNIC", CURRENT_YEAR)) == 20

    def test_valid_years_of_a_code(self) -> None:
        assert ssda903.valid_years("PLACE", "K3") == (y("2024/25"), y("2025/26"), y("2026/27"))
        assert ssda903.valid_years("REC", "E43") == (y("2017/18"),)
        assert ssda903.valid_years("PLACE", "Q9") == ()

    def test_an_unknown_field_is_an_error_not_a_false(self) -> None:
        with pytest.raises(ssda903.UnknownCode):
            is_valid("PLACEMENT", "K3", CURRENT_YEAR)


class TestLabels:
    def test_words_for_codes(self) -> None:
        assert label("LS", "C1") == "Interim care order"
        assert label("LS", "E1") == "Placement order granted"
        assert label("PLACE", "P1") == "Placed with parents or others with parental responsibility"
        assert label("RNE", "S") == "Started to be looked after"

    def test_every_code_has_words_not_the_code(self) -> None:
        for field in ssda903.fields():
            for entry in ssda903.iter_codes(field):
                assert entry.label.strip(), (field, entry.code)
                assert entry.label != entry.code, (field, entry.code)
                assert label(field, entry.code) == entry.label

    def test_a_label_is_there_for_codes_of_past_years_too(self) -> None:
        assert label("PLACE", "H5").startswith("Semi-independent living")
        assert label("REC", "E43") == "Special guardianship order made to former foster carers"

    def test_unknown_code_raises_rather_than_showing_the_code(self) -> None:
        with pytest.raises(ssda903.UnknownCode, match="'Q9' is not an SSDA903 PLACE code"):
            label("PLACE", "Q9")


class TestGroups:
    def test_every_group_names_codes_of_its_field(self) -> None:
        for name, (field, members) in ssda903.GROUPS.items():
            known = {c.code for c in ssda903.iter_codes(field)}
            assert members, name
            assert members <= known, (name, members - known)

    def test_the_cohorts_groups(self) -> None:
        expected = {
            "section_20": {"V2"},
            "short_breaks": {"V3", "V4"},
            "interim_care_order": {"C1"},
            "placement_order": {"E1"},
            "placed_with_parents": {"P1"},
            "semi_independent": {"H5", "K3"},
            "connected_foster": {"U1", "U2", "U3"},
            "long_term_foster": {"U1", "U4"},
            "placed_for_adoption": {"A3", "A4", "A5", "A6"},
            "temporary": {"T0", "T1", "T2", "T3", "T4"},
            "new_placement": {"S", "P", "B", "T", "U"},
        }
        for name, members in expected.items():
            assert ssda903.GROUPS[name][1] == members, name
        assert not ssda903.SECTION_20 & ssda903.SHORT_BREAKS

    def test_semi_independent_covers_every_year(self) -> None:
        # The cohort must find the placement whichever year's code the return used.
        for year in ssda903.supported_years():
            assert ssda903.SEMI_INDEPENDENT & codes("PLACE", year), str(year)
