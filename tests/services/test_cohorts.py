"""The cohorts from the care record (issue 13 item 6): a small return written here with a known
answer for every cohort, its boundaries, an earlier date, the panel's carer approval, and the
journey-based membership kept for children without a record. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services import cohorts
from services.access import Principal
from services.care_record.importer import import_return
from services.db import read_connection
from services.journeys import AccessDenied, JourneyService
from services.models import AUDIT_LOG, CHILDREN
from services.schemas import ChildCreate
from services.users import create_user
from tests.services.care_record.support import (
    ALLOCATION,
    PLACED_FOR_ADOPTION,
    SmallReturn,
    episode,
    header,
)

AS_OF = date(2026, 12, 2)
EARLIER = date(2026, 6, 1)


def d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def weeks_before(weeks: int) -> str:
    return d(AS_OF - timedelta(weeks=weeks))


def the_return(folder: Path) -> SmallReturn:
    """One or two children per cohort, and one just outside each boundary."""
    children = {
        # Unregulated / semi-independent: K3 (H5's successor) since 1 June 2026.
        "UNREG": [episode("UNREG", "01/06/2026", PLACE="K3", PLACE_PROVIDER="PR4")],
        # Connected person: 17 weeks in (beyond 16), exactly 16 weeks (not beyond), and 20
        # weeks with the carer's approval recorded by the panel (see the test).
        "CONN17": [episode("CONN17", weeks_before(17), PLACE="U3")],
        "CONN16": [episode("CONN16", weeks_before(16), PLACE="U3")],
        "CONNAPP": [episode("CONNAPP", weeks_before(20), PLACE="U3")],
        # Stability: three placements in the 12 months (one started before the window).
        "STAB3": [
            episode("STAB3", "10/11/2025", "01/05/2026", PLACE="U6"),
            episode("STAB3", "01/05/2026", "01/09/2026", RNE="P", PLACE="U6"),
            episode("STAB3", "01/09/2026", RNE="P", PLACE="U6"),
        ],
        # Two placements: the middle episode changes the legal status only (RNE L).
        "STAB2": [
            episode("STAB2", "10/01/2026", "01/05/2026", PLACE="U6"),
            episode("STAB2", "01/05/2026", "01/09/2026", RNE="L", LS="C1", PLACE="U6"),
            episode("STAB2", "01/09/2026", RNE="P", LS="C1", PLACE="U6"),
        ],
        # Section 20 since 1 March 2026; short breaks (V3) are not section 20.
        "S20": [episode("S20", "01/03/2026", LS="V2", PLACE="U6")],
        "V3": [episode("V3", "01/03/2026", LS="V3", PLACE="U6")],
        # Section 20 that ended on 1 October 2026: in the cohort on 1 June, not now.
        "S20LEFT": [episode("S20LEFT", "01/11/2025", "01/10/2026", LS="V2", PLACE="U6", REC="E4A")],
        # Emergency protection order, then an interim care order from 20 January 2026.
        "ICO": [
            episode("ICO", "05/01/2026", "20/01/2026", LS="L2", PLACE="U6"),
            episode("ICO", "20/01/2026", RNE="L", LS="C1", PLACE="U6"),
        ],
        # Placed with parents for 14 months, and for 10.
        "PWP14": [episode("PWP14", "01/10/2025", PLACE="P1", PLACE_PROVIDER="PR0")],
        "PWP10": [episode("PWP10", "01/02/2026", PLACE="P1", PLACE_PROVIDER="PR0")],
        # Looked after 18 months without a long-term placement; and in long-term foster care.
        "LA18": [episode("LA18", "01/06/2025", PLACE="U6")],
        "LTF18": [episode("LTF18", "01/06/2025", PLACE="U4")],
        # A placement order from 1 April 2026.
        "PO": [
            episode("PO", "01/09/2025", "01/04/2026", PLACE="U6"),
            episode("PO", "01/04/2026", RNE="L", LS="E1", PLACE="U6"),
        ],
        # A should-be-placed decision of 10 May 2026 (the decision row, below); and one reversed.
        "SBPFA": [episode("SBPFA", "01/09/2025", PLACE="U6")],
        "SBPFAX": [episode("SBPFAX", "01/09/2025", PLACE="U6")],
        # Long-term stability: aged 12, looked after since January 2023, moved June 2025.
        "LONG": [
            episode("LONG", "01/01/2023", "01/06/2025", PLACE="U6"),
            episode("LONG", "01/06/2025", RNE="P", PLACE="U6"),
        ],
        # The same without the move: more than 2 years in one placement.
        "LONGOK": [episode("LONGOK", "01/01/2023", PLACE="U6")],
    }
    born = {"LONG": "01/01/2014", "LONGOK": "01/01/2014"}
    ret = SmallReturn(folder)
    for child, rows in children.items():
        ret.headers(header(child, SEX="M", DOB=born.get(child, "01/06/2012")))
        ret.episodes(*rows)
    ret.add(
        "placed_for_adoption",
        PLACED_FOR_ADOPTION,
        {"CHILD": "SBPFA", "DATE_PLACED": "10/05/2026"},
        {
            "CHILD": "SBPFAX",
            "DATE_PLACED": "10/05/2026",
            "DATE_PLACED_CEASED": "01/08/2026",
            "REASON_PLACED_CEASED": "RD1",
        },
    )
    ret.add(
        "allocation",
        ALLOCATION,
        *({"CHILD": c, "REFERENCE": c, "TEAM": "north"} for c in children),
    )
    return ret


EXPECTED = {
    "unregulated_placements": {"UNREG"},
    "connected_person_16_weeks": {"CONN17", "CONNAPP"},
    "placement_stability": {"STAB3"},
    "long_term_stability": {"LONG"},
    "section_20": {"S20"},
    "interim_care_orders": {"ICO", "STAB2"},
    "placed_with_parents_12m": {"PWP14"},
    # STAB3 too: looked after since 10 November 2025, more than 12 months.
    "looked_after_12m_no_plan": {
        "PWP14",
        "LA18",
        "PO",
        "SBPFA",
        "SBPFAX",
        "LONG",
        "LONGOK",
        "STAB3",
    },
    "adoption_tracker": {"PO", "SBPFA"},
}


@pytest.fixture
def imported(engine: Engine, tmp_path: Path) -> dict[str, int]:
    report = import_return(engine, the_return(tmp_path / "r").write(), as_of=AS_OF)
    assert report.children_rejected == 0, report.as_text()
    with read_connection(engine) as conn:
        return {
            r.reference: r.id for r in conn.execute(select(CHILDREN.c.reference, CHILDREN.c.id))
        }


def members(engine: Engine, on: date = AS_OF) -> dict[str, dict[str, cohorts.Member]]:
    with read_connection(engine) as conn:
        found = cohorts.compute(conn, on)
        refs = {
            r.id: r.reference for r in conn.execute(select(CHILDREN.c.id, CHILDREN.c.reference))
        }
    return {name: {refs[m.child_id]: m for m in ms} for name, ms in found.items()}


def admin(engine: Engine, role: str = "panel_admin") -> Principal:
    user_id = create_user(engine, username=role, password="pw-123456789", roles=(role,), team=None)
    return Principal(user_id, role, frozenset({role}), None)


class TestFromTheRecord:
    def test_every_cohort_has_its_known_children(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        found = members(engine)
        for name, want in EXPECTED.items():
            assert set(found[name]) == want, name

    def test_since_and_why_say_when_and_in_words(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        found = members(engine)
        unreg = found["unregulated_placements"]["UNREG"]
        assert unreg.since == date(2026, 6, 1)
        assert unreg.why == (
            "Supported accommodation registered with Ofsted since 1 June 2026: "
            "6 months in this placement."
        )
        conn17 = found["connected_person_16_weeks"]["CONN17"]
        assert conn17.since == AS_OF - timedelta(weeks=17)
        assert "17 weeks, beyond the 16 weeks of a temporary approval" in conn17.why
        assert "Foster care with a relative or friend: not long-term" in conn17.why
        assert found["section_20"]["S20"].why == (
            "Accommodated under section 20 since 1 March 2026: 9 months."
        )
        ico = found["interim_care_orders"]["ICO"]
        assert ico.since == date(2026, 1, 20)  # the order's date, not the period's start
        stab = found["placement_stability"]["STAB3"]
        assert stab.why.startswith("3 placements in the 12 months to 2 December 2026")
        assert stab.since == date(2026, 9, 1)
        assert found["placed_with_parents_12m"]["PWP14"].since == date(2025, 10, 1)
        assert found["adoption_tracker"]["PO"].why == "Placement order since 1 April 2026."
        assert found["adoption_tracker"]["SBPFA"].why == (
            "Should be placed for adoption: decided on 10 May 2026."
        )
        assert "Aged 12" in found["long_term_stability"]["LONG"].why

    def test_as_of_an_earlier_date(self, engine: Engine, imported: dict[str, int]) -> None:
        found = members(engine, EARLIER)
        # Placed later than 1 June: not yet in; the section 20 that ended since: still in.
        assert "CONN17" not in found["connected_person_16_weeks"]
        assert set(found["section_20"]) == {"S20", "S20LEFT"}
        assert found["section_20"]["S20LEFT"].since == date(2025, 11, 1)
        # Two placements by 1 June (the third began on 1 September).
        assert "STAB3" not in found["placement_stability"]
        # The decision of 10 May stood on 1 June, the reversed one too (ceased in August).
        assert {"SBPFA", "SBPFAX"} <= set(found["adoption_tracker"])
        assert "UNREG" in found["unregulated_placements"]  # its first day
        assert "PWP14" not in found["placed_with_parents_12m"]  # 8 months then

    def test_a_carer_approval_takes_the_child_off(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        chair = admin(engine, "panel_chair")
        approved_on = AS_OF - timedelta(weeks=3)
        # An approval before the placement began is for another placement: it does not count.
        cohorts.record_carer_approval(
            engine, imported["CONNAPP"], AS_OF - timedelta(weeks=30), chair
        )
        assert "CONNAPP" in members(engine)["connected_person_16_weeks"]
        cohorts.record_carer_approval(engine, imported["CONNAPP"], approved_on, chair)
        assert set(members(engine)["connected_person_16_weeks"]) == {"CONN17"}
        # As of a day before the approval, the child was still in.
        before = members(engine, approved_on - timedelta(days=1))
        assert "CONNAPP" in before["connected_person_16_weeks"]
        with pytest.raises(cohorts.ApprovalExists):
            cohorts.record_carer_approval(engine, imported["CONNAPP"], approved_on, chair)
        with read_connection(engine) as conn:
            actions = conn.execute(
                select(AUDIT_LOG.c.action).where(AUDIT_LOG.c.entity_id == imported["CONNAPP"])
            ).scalars()
            assert "carer_approval.recorded" in list(actions)

    def test_only_the_panel_administrator_or_chair_records_an_approval(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        manager = admin(engine, "service_manager")
        with pytest.raises(AccessDenied):
            cohorts.record_carer_approval(engine, imported["CONN17"], AS_OF, manager)


class TestJourneys:
    def test_a_plan_of_adoption_puts_a_recorded_child_on_the_tracker(
        self,
        engine: Engine,
        imported: dict[str, int],
        journey_service: JourneyService,
    ) -> None:
        user_id = create_user(
            engine, username="sw1", password="pw-123456789", roles=("social_worker",), team="north"
        )
        sw = Principal(user_id, "sw1", frozenset({"social_worker"}), "north")
        # The import started the child's planning journey on 1 June 2025 (issue 13 item 5).
        (view,) = [
            v
            for v in journey_service.list_for_child(imported["LA18"], sw)
            if v.type == "permanence_planning" and v.status == "active"
        ]
        assert view.started_on == date(2025, 6, 1)
        view = journey_service.fire(
            view.id,
            event="hold_review",
            expected_version=view.version,
            occurred_on=date(2025, 6, 20),
            data={},
            principal=sw,
        )
        journey_service.fire(
            view.id,
            event="record_permanence_plan",
            expected_version=view.version,
            occurred_on=date(2025, 9, 1),
            data={"primary_plan": "long_term_fostering", "contingency_plan": "adoption"},
            principal=sw,
        )
        tracker = members(engine)["adoption_tracker"]
        assert tracker["LA18"].why == (
            "Permanence plan: adoption as the contingency plan, recorded on 1 September 2025."
        )
        assert tracker["LA18"].journey_id == view.id

    def test_children_without_a_record_keep_their_journey_membership(
        self,
        engine: Engine,
        journey_service: JourneyService,
        principal_of: Callable[[int], Principal],
    ) -> None:
        from services.children import create_child

        user_id = create_user(
            engine, username="sw1", password="pw-123456789", roles=("social_worker",), team="north"
        )
        sw = principal_of(user_id)
        typed = create_child(
            engine,
            ChildCreate(
                reference="HAND-1",
                given_name="A",
                family_name="B",
                date_of_birth=date(2015, 1, 1),
                looked_after_since=date(2025, 1, 10),
                legal_status="section_20",
            ),
            sw,
        )
        journey_service.start(
            typed, "permanence_planning", started_on=date(2025, 1, 10), data={}, principal=sw
        )
        found = members(engine)
        assert found["section_20"]["HAND-1"].why == (
            "Legal status recorded as section 20; looked after since 10 January 2025."
        )
        assert "HAND-1" in found["looked_after_12m_no_plan"]
        assert "HAND-1" in found["breached_deadlines"]  # its first review is long overdue
        # The record's own cohorts need a record.
        assert "HAND-1" not in found["placement_stability"]


class TestReaders:
    def test_a_social_worker_sees_only_their_teams_children_and_the_read_is_audited(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        south = create_user(
            engine, username="sws", password="pw-123456789", roles=("social_worker",), team="south"
        )
        north = create_user(
            engine, username="swn", password="pw-123456789", roles=("social_worker",), team="north"
        )
        seen_south = cohorts.cohort_children(
            engine,
            "section_20",
            Principal(south, "sws", frozenset({"social_worker"}), "south"),
            as_of=AS_OF,
        )
        assert seen_south.children == []
        seen = cohorts.cohort_children(
            engine,
            "section_20",
            Principal(north, "swn", frozenset({"social_worker"}), "north"),
            as_of=AS_OF,
        )
        assert [c.reference for c in seen.children] == ["S20"]
        with read_connection(engine) as conn:
            row = conn.execute(select(AUDIT_LOG).where(AUDIT_LOG.c.action == "read.cohort")).one()
        assert row.details["cohort"] == "section_20"

    def test_a_sysadmin_sees_no_cohort(self, engine: Engine) -> None:
        user_id = create_user(
            engine, username="sys", password="pw-123456789", roles=("sysadmin",), team=None
        )
        with pytest.raises(AccessDenied):
            cohorts.cohort_children(
                engine, "section_20", Principal(user_id, "sys", frozenset({"sysadmin"}), None)
            )

    def test_a_child_says_which_cohorts_it_is_in(
        self, engine: Engine, imported: dict[str, int]
    ) -> None:
        chair = admin(engine, "panel_chair")
        found = cohorts.child_cohorts(engine, imported["PWP14"], chair, as_of=AS_OF)
        # The import's placed_with_parents journey (issue 13 item 5) brings the journey cohort
        # too; its back-dated review fell due before the service, so it is no breach until
        # someone records what happened (services.deadlines.judged).
        assert [c.name for c, _ in found] == [
            "placed_with_parents_12m",
            "looked_after_12m_no_plan",
            "placed_with_parents",
        ]
