"""The director's figures as a snapshot (services.drift_snapshot): the scheduler's sweep job
refreshes it, it matches the figures computed from the data after transitions and a sweep
(for the whole authority and for one team's manager), and the page shows it with its time.
The scheduler's refresh counts the open escalations too; the page's list of them stays live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from notifications.dispatcher import DispatchConfig
from notifications.escalation_groups import group_escalations
from notifications.policy import LADDER, Policies
from notifications.scheduler import ReminderJobs
from notifications.service import (
    EscalationKeys,
    acknowledge,
    list_escalations,
    open_escalation_keys,
)
from notifications.sweep import Channels, sweep
from services.access import Principal
from services.clock import today
from services.drift import drift_figures
from services.drift_snapshot import current_figures, refresh_drift_snapshot, snapshot_figures
from services.users import load_principal
from tests.reminder_support import reminder_jobs
from tests.web.test_web_director import (
    Drift,
    WebAs,
    _ack_ids,
    _ago,
    _group_of,
    _journey,
    _section,
    _summary,
    drift,
)

__all__ = ["drift"]  # the fixture, used by name


def _keys(engine: Engine, principal: Principal, **kw: object) -> tuple[EscalationKeys, ...]:
    """The open escalations' page counted now, and from today's snapshot."""
    live = open_escalation_keys(engine, principal, **kw)  # type: ignore[arg-type]
    kept = open_escalation_keys(engine, principal, as_of=today(), **kw)  # type: ignore[arg-type]
    return live, kept


def test_snapshot_matches_the_recomputation_after_transitions_and_a_sweep(
    drift: Drift, engine: Engine, policies: Policies
) -> None:
    director = load_principal(engine, drift.staff.sd.user_id)
    manager = load_principal(engine, drift.staff.tm.user_id)
    assert director is not None and manager is not None
    as_of = today()
    assert snapshot_figures(engine, director, as_of=as_of) is None  # none refreshed yet

    jobs = ReminderJobs(
        engine=engine,
        policies=policies,
        channels=Channels(),
        dispatch_config=DispatchConfig(base_url="http://127.0.0.1:8000"),
        today=today,
    )
    jobs.run_sweep()
    first = snapshot_figures(engine, director, as_of=as_of)
    assert first is not None and first.computed_at is not None
    assert first == drift_figures(engine, director, as_of=as_of)

    # Transitions: the long-overdue review held (a breach met late now), new children with
    # overdue and due-soon deadlines in both teams; then a sweep and the job's refresh.
    staff = drift.staff
    late = drift.late_review
    staff.sw.fire(late, "hold_review", (today() - timedelta(days=1)).isoformat())
    for n in range(3):
        _journey(staff.sw, f"C-08{n:02d}", "permanence_planning", _ago(50 + 10 * n))
        _journey(drift.sw_south, f"C-07{n:02d}", "care_proceedings", _ago(200 + n))
    sweep(engine, policies, as_of)
    stale = snapshot_figures(engine, director, as_of=as_of)
    assert stale is not None and stale == first  # not refreshed by the transitions
    assert stale != drift_figures(engine, director, as_of=as_of)

    jobs.run_sweep()
    for principal in (director, manager):
        now = drift_figures(engine, principal, as_of=as_of)
        kept = snapshot_figures(engine, principal, as_of=as_of)
        assert kept == now, principal.roles
        assert current_figures(engine, principal, as_of=as_of) == now
    assert snapshot_figures(engine, manager, as_of=as_of) != snapshot_figures(
        engine, director, as_of=as_of
    )
    # A snapshot for another day is not today's figures.
    refresh_drift_snapshot(engine, as_of - timedelta(days=1))
    assert snapshot_figures(engine, director, as_of=as_of) is None


def test_the_page_shows_the_snapshot_and_its_time(
    drift: Drift, engine: Engine, web_as: WebAs
) -> None:
    user = web_as(drift.staff.sd)
    assert 'id="figures-as-of"' not in user.get("/director").text  # computed now
    refresh_drift_snapshot(engine, today())
    html = user.get("/director").text
    assert 'id="figures-as-of"' in html
    assert _summary(html)["deadlines missed"] == 3
    assert _summary(html)["overdue deadlines"] == 2


FILTERS: tuple[dict[str, object], ...] = (
    {},
    {"team": "north"},
    {"team": "south"},
    {"journey_type": "care_proceedings"},
    {"journey_type": "adoption"},
    {"level": "service_director"},
    {"level": "team_manager"},
    {"level": "no_such_level"},
    {"per_page": 1},
    {"per_page": 1, "page": 2},
    {"per_page": 1, "page": 9},
)


def test_the_scheduler_counts_the_open_escalations_and_the_page_lists_them_live(
    drift: Drift, engine: Engine, policies: Policies, web_as: WebAs
) -> None:
    director = load_principal(engine, drift.staff.sd.user_id)
    manager = load_principal(engine, drift.staff.tm.user_id)
    assert director is not None and manager is not None
    # A snapshot refreshed without them has no escalation counts: they are counted now.
    refresh_drift_snapshot(engine, today())
    assert open_escalation_keys(engine, director, as_of=today()).counted_at is None

    jobs = reminder_jobs(engine, policies)
    jobs.run_sweep()
    for principal in (director, manager):
        for filters in FILTERS:
            live, kept = _keys(engine, principal, **filters)
            assert live.counted_at is None and kept.counted_at is not None
            assert (kept.total, kept.shown, kept.keys, kept.page, kept.pages) == (
                live.total,
                live.shown,
                live.keys,
                live.page,
                live.pages,
            ), (principal.roles, filters)
    live, kept = _keys(engine, director)
    assert kept.total == 2 and len(kept.keys) == 2
    assert _keys(engine, manager, team="south")[1].shown == 0  # not the manager's team

    user = web_as(drift.staff.sd)
    html = user.get("/director").text
    assert "due-soon and open-escalation counts as of" in html
    assert "(as of the counts above)" in html
    assert _summary(html)["open escalations"] == 2

    # Acknowledged: the list is live at once, the count is the snapshot's until the next.
    (notice_id,) = _ack_ids(_group_of(html, "C-0100"))
    done = user.post(f"/director/escalations/{notice_id}/acknowledge", {"comment": "Booked."})
    assert done.status_code == 303
    after = user.get("/director").text
    escalations = _section(after, "open-escalations", "deadlines")
    assert "C-0100" not in escalations and "C-0200" in escalations
    assert _summary(after)["open escalations"] == 2
    jobs.run_sweep()
    assert _summary(user.get("/director").text)["open escalation"] == 1

    # Escalated after the snapshot: the counts lag, but the walk finds the page after them.
    _journey(drift.staff.sw, "C-0900", "permanence_planning", _ago(90))
    sweep(engine, policies, today())
    live, kept = _keys(engine, director, per_page=1)
    assert (live.total, kept.total) == (2, 1)
    assert kept.pages == 2 and kept.keys == live.keys  # one more than the counts say
    live, kept = _keys(engine, director, per_page=1, page=2)
    assert kept.keys == live.keys and len(kept.keys) == 1


def test_the_level_filter_keeps_the_groups_whose_highest_rung_is_the_level(
    drift: Drift, engine: Engine, policies: Policies
) -> None:
    # The level filter groups the open escalations by their index before any join
    # (notifications.service._top_rung_groups): the same groups, in the same order, as
    # grouping every open escalation in Python and keeping those whose top rung is the
    # level, under every team and journey type filter, for the director and a manager.
    # First reviews missed 1 to 10 days ago: every rung of the ladder reached by some.
    for days in range(26, 46):
        _journey(drift.staff.sw, f"C-06{days}", "permanence_planning", _ago(days))
    _journey(drift.sw_south, "C-1000", "permanence_planning", _ago(33))
    for back in range(14, -1, -1):  # the daily sweeps of the last two weeks: the ladders
        sweep(engine, policies, today() - timedelta(days=back))
    director = load_principal(engine, drift.staff.sd.user_id)
    manager = load_principal(engine, drift.staff.tm.user_id)
    assert director is not None and manager is not None
    every = group_escalations(
        director, list_escalations(engine, director, status="open", as_of=today(), limit=1000)
    )
    assert {g.top_level for g in every} == set(LADDER), "a group at every rung"
    # One group acknowledged (at its lowest rung): the whole group leaves every level.
    answered = next(g for g in every if len(g.rungs) > 1)
    acknowledge(engine, answered.rungs[0].notice_id, director, "Seen to.")
    for principal in (director, manager):
        groups = group_escalations(
            principal,
            list_escalations(engine, principal, status="open", as_of=today(), limit=1000),
        )
        assert (answered.deadline_id, answered.due_on) not in {
            (g.deadline_id, g.due_on) for g in groups
        }
        for level in LADDER:
            for filters in LEVEL_FILTERS:
                expected = sorted(
                    (
                        (g.due_on, g.deadline_id)
                        for g in groups
                        if g.top_level == level
                        and filters.get("team", g.team) == g.team
                        and filters.get("journey_type", g.journey_type) == g.journey_type
                    ),
                )
                team, journey_type = filters.get("team"), filters.get("journey_type")
                found = open_escalation_keys(
                    engine,
                    principal,
                    level=level,
                    per_page=1000,
                    team=team,
                    journey_type=journey_type,
                )
                assert found.keys == [(d, due) for due, d in expected], (level, filters)
                assert found.shown == len(expected)
                one = open_escalation_keys(
                    engine, principal, level=level, per_page=1, team=team, journey_type=journey_type
                )
                assert one.keys == found.keys[:1] and one.pages == max(1, len(expected))


LEVEL_FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"team": "north"},
    {"team": "south"},
    {"journey_type": "permanence_planning"},
    {"journey_type": "care_proceedings"},
    {"team": "north", "journey_type": "permanence_planning"},
)
