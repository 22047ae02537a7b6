"""The director's figures as a snapshot (services.drift_snapshot): the scheduler's sweep job
refreshes it, it matches the figures computed from the data after transitions and a sweep
(for the whole authority and for one team's manager), and the page shows it with its time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from notifications.dispatcher import DispatchConfig
from notifications.policy import Policies
from notifications.scheduler import ReminderJobs
from notifications.sweep import Channels, sweep
from services.clock import today
from services.drift import drift_figures
from services.drift_snapshot import current_figures, refresh_drift_snapshot, snapshot_figures
from services.users import load_principal
from tests.web.test_web_director import Drift, WebAs, _ago, _journey, _summary, drift

__all__ = ["drift"]  # the fixture, used by name


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
