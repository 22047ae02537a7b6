"""Journeys from the care record (issue 13 item 5): a small return with a known answer for
every derived journey state, through the engine, back-dated, with the import as the actor;
nothing twice on a re-import, a journey moved by a person never rewound; dry runs count and
write nothing; the fake return still imports and starts journeys."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

import states
from services.access import Principal
from services.care_record import lists
from services.care_record.importer import import_return
from services.care_record.journeys import IMPORT_USERNAME, NOT_IN_RETURN
from services.care_record.models import CARE_CHILDREN
from services.db import read_connection
from services.journeys import JourneyService
from services.models import JOURNEY_EVENTS, JOURNEYS, USERS
from services.users import create_user
from tests.services.care_record.support import (
    AD1,
    AS_OF,
    PLACED_FOR_ADOPTION,
    REVIEWS,
    SmallReturn,
    episode,
    fake_data_folder,
    header,
)
from workflow.definition import Policy


def small_return(folder: Path) -> SmallReturn:
    """Six children, each with one known answer.

    * ``PP0`` in care since 1 June 2026, no review yet: ``awaiting_first_review``;
    * ``PP1`` one review: ``awaiting_second_review``; ``PP2`` two reviews: ``plan_required``;
    * ``PWP`` placed with parents (P1) since 1 September 2026: ``placed_with_parents``;
    * ``SBP`` a should-be-placed-for-adoption decision: adoption at ``sbpfa_decided``;
    * ``PO`` a placement order (E1): ``placement_order_granted``;
    * ``ADP`` placed for adoption (A4) under E1: ``placed``;
    * ``OUT`` left care in 2025: no journey at all.
    """
    r = SmallReturn(folder)
    r.headers(
        *(header(c, SEX="M") for c in ("PP0", "PP1", "PP2", "PWP", "SBP", "PO", "ADP", "OUT"))
    )
    r.episodes(
        episode("PP0", "01/06/2026"),
        episode("PP1", "01/03/2026"),
        episode("PP2", "01/01/2026"),
        episode("PWP", "01/01/2026", "01/09/2026", REC="X1"),
        episode("PWP", "01/09/2026", RNE="P", PLACE="P1"),
        episode("SBP", "01/01/2026"),
        episode("PO", "01/01/2026", "01/07/2026", REC="X1"),
        episode("PO", "01/07/2026", RNE="L", LS="E1"),
        episode("ADP", "01/01/2025", "01/06/2025", REC="X1"),
        episode("ADP", "01/06/2025", "01/10/2025", RNE="L", LS="E1", REC="X1"),
        episode("ADP", "01/10/2025", RNE="P", LS="E1", PLACE="A4"),
        episode("OUT", "01/01/2024", "01/01/2025", REC="E4A"),
    )
    r.add(
        "reviews",
        REVIEWS,
        {"CHILD": "PP1", "DOB": "01/06/2012", "REVIEW": "20/03/2026", "REVIEW_CODE": "PN1"},
        {"CHILD": "PP2", "DOB": "01/06/2012", "REVIEW": "20/01/2026", "REVIEW_CODE": "PN1"},
        {"CHILD": "PP2", "DOB": "01/06/2012", "REVIEW": "15/04/2026", "REVIEW_CODE": "PN1"},
    )
    r.add(
        "placed_for_adoption",
        PLACED_FOR_ADOPTION,
        {"CHILD": "SBP", "DOB": "01/06/2012", "DATE_PLACED": "10/05/2026"},
    )
    return r


def journeys_by_child(engine: Engine) -> dict[str, dict[str, str]]:
    """Each child's journeys (by the return's child id): type -> state."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(CARE_CHILDREN.c.return_child_id, JOURNEYS.c.type, JOURNEYS.c.state).join(
                JOURNEYS, JOURNEYS.c.child_id == CARE_CHILDREN.c.child_pk
            )
        ).all()
    out: dict[str, dict[str, str]] = {}
    for child, kind, state in rows:
        out.setdefault(child, {})[kind] = state
    return out


def event_count(engine: Engine) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(JOURNEY_EVENTS)).scalar_one())


EXPECTED = {
    "PP0": {"permanence_planning": "awaiting_first_review"},
    "PP1": {"permanence_planning": "awaiting_second_review"},
    "PP2": {"permanence_planning": "plan_required"},
    "PWP": {"permanence_planning": "awaiting_first_review", "placed_with_parents": "placed"},
    "SBP": {"permanence_planning": "awaiting_first_review", "adoption": "sbpfa_decided"},
    "PO": {"permanence_planning": "awaiting_first_review", "adoption": "placement_order_granted"},
    "ADP": {"permanence_planning": "awaiting_first_review", "adoption": "placed"},
}


class TestDerivedJourneys:
    def test_every_derived_journey_is_at_the_state_the_record_shows(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        report = import_return(engine, small_return(tmp_path).write(), as_of=AS_OF)
        assert report.rejections == []
        assert journeys_by_child(engine) == EXPECTED
        assert report.journeys_started == 11
        # starts 11; reviews 1 + 2; SBP 3 steps; PO 4; ADP 7 (E1 and A4 with no AD1).
        assert report.events_recorded == 11 + 3 + 3 + 4 + 7
        assert report.events_recorded == event_count(engine)

    def test_events_are_back_dated_by_the_import_with_file_and_row(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        report = import_return(engine, small_return(tmp_path).write(), as_of=AS_OF)
        with read_connection(engine) as conn:
            importer = conn.execute(
                select(USERS.c.id, USERS.c.active).where(USERS.c.username == IMPORT_USERNAME)
            ).one()
            rows = conn.execute(
                select(
                    JOURNEY_EVENTS.c.event,
                    JOURNEY_EVENTS.c.occurred_on,
                    JOURNEY_EVENTS.c.actor_id,
                    JOURNEY_EVENTS.c.data,
                )
                .join(JOURNEYS, JOURNEYS.c.id == JOURNEY_EVENTS.c.journey_id)
                .join(CARE_CHILDREN, CARE_CHILDREN.c.child_pk == JOURNEYS.c.child_id)
                .where(CARE_CHILDREN.c.return_child_id == "PP2")
                .order_by(JOURNEY_EVENTS.c.id)
            ).all()
        assert importer.active is False  # nobody signs in as the import
        assert [(r.event, r.occurred_on) for r in rows] == [
            ("start", date(2026, 1, 1)),
            ("hold_review", date(2026, 1, 20)),
            ("hold_review", date(2026, 4, 15)),
        ]
        assert {r.actor_id for r in rows} == {importer.id}
        for r in rows:
            assert r.data["import_id"] == report.import_id
            assert r.data["source_file"].endswith(".csv")
            assert isinstance(r.data["source_row"], int)
        assert rows[1].data["source_file"].endswith("reviews.csv")
        assert rows[1].data["source_row"] == 3  # PP2's first review is the file's row 3

    def test_adoption_steps_the_return_cannot_fill_say_so(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        import_return(engine, small_return(tmp_path).write(), as_of=AS_OF)
        with read_connection(engine) as conn:
            data = dict(
                conn.execute(
                    select(JOURNEY_EVENTS.c.event, JOURNEY_EVENTS.c.data).where(
                        JOURNEY_EVENTS.c.event.in_(["link_raa", "propose_match"])
                    )
                ).all()
            )
        assert data["link_raa"]["raa"] == NOT_IN_RETURN
        assert data["propose_match"]["adopters_reference"] == NOT_IN_RETURN

    def test_a_dry_run_counts_the_journeys_and_writes_nothing(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        dry = import_return(engine, small_return(tmp_path).write(), as_of=AS_OF, dry_run=True)
        assert (dry.journeys_started, dry.events_recorded) == (11, 28)
        assert event_count(engine) == 0
        assert journeys_by_child(engine) == {}

    def test_a_reimport_records_no_event(self, engine: Engine, tmp_path: Path) -> None:
        files = small_return(tmp_path).write()
        import_return(engine, files, as_of=AS_OF)
        before = event_count(engine)
        again = import_return(engine, files, as_of=AS_OF)
        assert (again.journeys_started, again.events_recorded) == (0, 0)
        assert event_count(engine) == before

    def test_a_later_extract_advances_only_what_is_new(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        r = small_return(tmp_path / "one")
        import_return(engine, r.write(), as_of=AS_OF)
        before = event_count(engine)
        r.folder = tmp_path / "two"
        r.add(
            "reviews",
            REVIEWS,
            {"CHILD": "PP1", "DOB": "01/06/2012", "REVIEW": "10/06/2026", "REVIEW_CODE": "PN1"},
        )
        later = import_return(engine, r.write(), as_of=AS_OF)
        assert (later.journeys_started, later.events_recorded) == (0, 1)
        assert event_count(engine) == before + 1
        assert journeys_by_child(engine)["PP1"]["permanence_planning"] == "plan_required"

    def test_a_journey_moved_by_a_person_is_not_rewound_or_advanced(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        r = small_return(tmp_path / "one")
        import_return(engine, r.write(), as_of=AS_OF)
        user = create_user(
            engine, username="sm.x", password="pw-long-enough-1", roles=["service_manager"]
        )
        principal = Principal(user, "sm.x", frozenset({"service_manager"}), None)
        service = JourneyService(engine, states.build_registry(), Policy())
        with read_connection(engine) as conn:
            jid, version = conn.execute(
                select(JOURNEYS.c.id, JOURNEYS.c.version)
                .join(CARE_CHILDREN, CARE_CHILDREN.c.child_pk == JOURNEYS.c.child_id)
                .where(CARE_CHILDREN.c.return_child_id == "PP1")
            ).one()
        moved: Any = service.fire(
            jid,
            event="hold_review",
            expected_version=version,
            occurred_on=date(2026, 9, 1),
            data=None,
            principal=principal,
        )
        assert moved.state == "plan_required"
        before = event_count(engine)
        r.folder = tmp_path / "two"
        r.add(
            "reviews",
            REVIEWS,
            {"CHILD": "PP1", "DOB": "01/06/2012", "REVIEW": "10/06/2026", "REVIEW_CODE": "PN1"},
        )
        later = import_return(engine, r.write(), as_of=AS_OF)
        assert later.events_recorded == 0
        assert event_count(engine) == before
        assert journeys_by_child(engine)["PP1"]["permanence_planning"] == "plan_required"

    def test_the_fake_return_imports_and_starts_journeys(self, engine: Engine) -> None:
        files = sorted(str(p) for p in fake_data_folder().glob("*.csv"))
        report = import_return(engine, files, as_of=AS_OF)
        assert report.journeys_started > 0
        assert report.events_recorded >= report.journeys_started
        assert report.events_recorded == event_count(engine)
        again = import_return(engine, files, as_of=AS_OF)
        assert again.events_recorded == 0


def adopted_return(folder: Path, *, adopted: bool = True) -> SmallReturn:
    """``ADO`` placed for adoption (A4, under a placement order) from 1 October 2025 and,
    with ``adopted``, adopted on 1 September 2026 (reason ceased E11); ``OLD`` adopted in
    June 2024, more than a year before the import's day."""
    last = ("01/09/2026", "E11") if adopted else ("", "")
    return (
        SmallReturn(folder)
        .headers(header("ADO", SEX="F"), header("OLD", SEX="M"))
        .episodes(
            episode("ADO", "01/01/2025", "01/06/2025"),
            episode("ADO", "01/06/2025", "01/10/2025", RNE="L", LS="E1"),
            episode("ADO", "01/10/2025", last[0], RNE="P", LS="E1", PLACE="A4", REC=last[1]),
            episode("OLD", "01/01/2023", "01/06/2023"),
            episode("OLD", "01/06/2023", "01/06/2024", RNE="P", LS="E1", PLACE="A4", REC="E12"),
        )
        .add(
            "placed_for_adoption",
            PLACED_FOR_ADOPTION,
            {"CHILD": "ADO", "DOB": "01/06/2012", "DATE_PLACED": "01/03/2025"},
        )
        .add("ad1", AD1, {"CHILD": "ADO", "DATE_INT": "01/08/2025", "DATE_MATCH": "01/09/2025"})
    )


def adoption_events(engine: Engine, child: str) -> list[tuple[str, date, str]]:
    """The child's adoption journey's events: (event, date, who)."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(JOURNEY_EVENTS.c.event, JOURNEY_EVENTS.c.occurred_on, USERS.c.username)
            .join(JOURNEYS, JOURNEYS.c.id == JOURNEY_EVENTS.c.journey_id)
            .join(CARE_CHILDREN, CARE_CHILDREN.c.child_pk == JOURNEYS.c.child_id)
            .join(USERS, USERS.c.id == JOURNEY_EVENTS.c.actor_id)
            .where(CARE_CHILDREN.c.return_child_id == child, JOURNEYS.c.type == "adoption")
            .order_by(JOURNEY_EVENTS.c.id)
        ).all()
    return [(r.event, r.occurred_on, r.username) for r in rows]


def lodge_application(engine: Engine, child: str, on: date) -> Any:
    """A social worker records the adoption application on the child's adoption journey."""
    user = create_user(
        engine, username=f"sm.{child}", password="pw-long-enough-1", roles=["service_manager"]
    )
    principal = Principal(user, f"sm.{child}", frozenset({"service_manager"}), None)
    service = JourneyService(engine, states.build_registry(), Policy())
    with read_connection(engine) as conn:
        jid, version = conn.execute(
            select(JOURNEYS.c.id, JOURNEYS.c.version)
            .join(CARE_CHILDREN, CARE_CHILDREN.c.child_pk == JOURNEYS.c.child_id)
            .where(CARE_CHILDREN.c.return_child_id == child, JOURNEYS.c.type == "adoption")
        ).one()
    return service.fire(
        jid,
        event="lodge_application",
        expected_version=version,
        occurred_on=on,
        data=None,
        principal=principal,
    )


class TestAdoptedChild:
    def test_the_journey_goes_as_far_as_the_return_dates_and_stops_before_the_application(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        report = import_return(engine, adopted_return(tmp_path).write(), as_of=AS_OF)
        assert report.rejections == []
        # No application's date in the return: the ten-week guard is never given one.
        assert journeys_by_child(engine) == {"ADO": {"adoption": "placed"}}
        events = adoption_events(engine, "ADO")
        assert [e[0] for e in events] == [
            "start",
            "link_raa",
            "complete_cpr",
            "decide_sbpfa",
            "grant_placement_order",
            "propose_match",
            "approve_match",
            "move_in",
        ]
        assert events[0][1] == date(2025, 1, 1)  # the period of care's start
        assert events[4][1] == date(2025, 6, 1)  # the placement order
        assert events[6][1] == date(2025, 9, 1)  # matched
        assert events[7][1] == date(2025, 10, 1)  # moved in: the A4 placement's start
        assert {e[2] for e in events} == {IMPORT_USERNAME}
        again = import_return(engine, adopted_return(tmp_path / "again").write(), as_of=AS_OF)
        assert (again.journeys_started, again.events_recorded) == (0, 0)

    def test_an_application_recorded_while_placed_then_the_order_on_the_record_is_adopted(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        placed = adopted_return(tmp_path / "one", adopted=False)
        import_return(engine, placed.write(), as_of=date(2026, 8, 1))
        lodged = lodge_application(engine, "ADO", date(2026, 1, 15))
        assert lodged.state == "application_lodged"
        later = import_return(engine, adopted_return(tmp_path / "two").write(), as_of=AS_OF)
        # The order, and the planning journey's end (the import alone moved that one).
        assert (later.journeys_started, later.events_recorded) == (0, 2)
        assert journeys_by_child(engine)["ADO"] == {
            "permanence_planning": "ceased",
            "adoption": "adopted",
        }
        assert adoption_events(engine, "ADO")[-2:] == [
            ("lodge_application", date(2026, 1, 15), "sm.ADO"),
            ("grant_adoption_order", date(2026, 9, 1), IMPORT_USERNAME),
        ]
        again = import_return(engine, adopted_return(tmp_path / "three").write(), as_of=AS_OF)
        assert again.events_recorded == 0

    def test_an_application_dated_after_the_order_is_left_to_a_person(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        placed = adopted_return(tmp_path / "one", adopted=False)
        import_return(engine, placed.write(), as_of=date(2026, 8, 1))
        lodge_application(engine, "ADO", date(2026, 10, 1))  # after the order's date
        later = import_return(engine, adopted_return(tmp_path / "two").write(), as_of=AS_OF)
        assert later.events_recorded == 1  # planning ceases; the order is not recorded
        assert journeys_by_child(engine)["ADO"]["adoption"] == "application_lodged"

    def test_a_later_extract_that_shows_the_adoption_moves_nothing_back(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        placed = adopted_return(tmp_path / "one", adopted=False)
        import_return(engine, placed.write(), as_of=date(2026, 8, 1))
        assert journeys_by_child(engine)["ADO"] == {
            "permanence_planning": "awaiting_first_review",
            "adoption": "placed",
        }
        later = import_return(engine, adopted_return(tmp_path / "two").write(), as_of=AS_OF)
        assert later.rejections == []
        # The period of care ended: planning ceases (adopted); adoption waits at placed.
        assert journeys_by_child(engine)["ADO"] == {
            "permanence_planning": "ceased",
            "adoption": "placed",
        }
        assert [e[0] for e in adoption_events(engine, "ADO")][-1] == "move_in"

    def test_the_adopted_child_waits_on_the_to_confirm_list_with_the_fact(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        import_return(engine, adopted_return(tmp_path).write(), as_of=AS_OF)
        user = create_user(
            engine, username="sm.list", password="pw-long-enough-1", roles=["service_manager"]
        )
        manager = Principal(user, "sm.list", frozenset({"service_manager"}), None)
        rows = [
            r
            for r in lists.to_confirm(engine, manager, as_of=AS_OF).rows
            if r.reason == lists.ADOPTED_WITHOUT_APPLICATION
        ]
        with read_connection(engine) as conn:
            journey = conn.execute(
                select(JOURNEYS.c.id).where(JOURNEYS.c.type == "adoption")
            ).scalar_one()
        # OLD's adoption is more than a year past: no journey, not on the list.
        assert [(r.since, r.journey_id, r.dismissable) for r in rows] == [
            (date(2026, 9, 1), journey, True)
        ]
        assert rows[0].fact == (
            "The care record ends the period of care on 1 September 2026: Adopted: "
            "application unopposed. The return holds no adoption application date, so the "
            "adoption journey stands at \u201cLiving with the adoptive family\u201d: record "
            "the application and the adoption order."
        )
        lodge_application(engine, "ADO", date(2026, 1, 15))
        still = lists.to_confirm(engine, manager, as_of=AS_OF).rows
        [waiting] = [r for r in still if r.reason == lists.ADOPTED_WITHOUT_APPLICATION]
        assert waiting.fact.endswith(
            "stands at \u201cAdoption order applied for\u201d: record the adoption order."
        )
        service = JourneyService(engine, states.build_registry(), Policy())
        with read_connection(engine) as conn:
            version = conn.execute(
                select(JOURNEYS.c.version).where(JOURNEYS.c.id == journey)
            ).scalar_one()
        service.fire(
            journey,
            event="grant_adoption_order",
            expected_version=version,
            occurred_on=date(2026, 9, 1),
            data=None,
            principal=manager,
        )
        after = lists.to_confirm(engine, manager, as_of=AS_OF).rows
        assert lists.ADOPTED_WITHOUT_APPLICATION not in {r.reason for r in after}
