"""Helpers for the panel tests: users, journeys in the states a referral needs, packs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from panels.funding import QUESTION_KEYS
from services.clock import today
from tests.conftest import Api, UserFactory

ALL_YES = "yes"


def funding_form(annual_cost: float = 5000, quotes: int = 3, **extra: Any) -> dict[str, Any]:
    """A complete Additional Funding Request."""
    return {
        "answers": {k: f"answer to {k}" for k in QUESTION_KEYS if k != "education"},
        "annual_cost": annual_cost,
        "duration_months": 24,
        "quotes": [{"provider": f"Provider {n}", "amount": annual_cost} for n in range(quotes)],
        "signed_by_social_worker": True,
        "signed_by_team_manager": True,
        **extra,
    }


@dataclass
class People:
    """The cast of a panel cycle."""

    admin: Api
    chair: Api
    adm: Api
    sw: Api
    tm: Api
    director: Api


def people(make_user: UserFactory) -> People:
    """Panel administrator, chair (also a service manager, as the ToRs' chairs are), ADM,
    a social worker and team manager in team north, and a service director."""
    return People(
        admin=make_user("panel.admin", "panel_admin"),
        chair=make_user("panel.chair", "panel_chair", "service_manager"),
        adm=make_user("the.adm", "adm"),
        sw=make_user("sw.north", "social_worker", team="north"),
        tm=make_user("tm.north", "team_manager", team="north"),
        director=make_user("director", "service_director"),
    )


def iso(d: date) -> str:
    """ISO date."""
    return d.isoformat()


class Journeys:
    """Children with journeys in the states the decision types need (all back-dated)."""

    def __init__(self, sw: Api) -> None:
        self.sw = sw
        self.n = 0
        self.start = today() - timedelta(days=400)

    def child(self, **overrides: Any) -> dict[str, Any]:
        """A new child of team north, looked after for over a year."""
        self.n += 1
        body = {
            "looked_after_since": iso(self.start),
            "team": "north",
            "allocated_social_worker_id": self.sw.user_id,
            **overrides,
        }
        return self.sw.create_child(f"P-{self.n:04d}", **body)

    def sgo_awaiting_panel(self, funding: float = 5000, quotes: int = 3) -> dict[str, Any]:
        """An SGO journey with a support plan submitted to panel."""
        c = self.child()
        j = self.sw.start(c["id"], "sgo", iso(self.start))
        d = iso(self.start + timedelta(days=5))
        j = self.sw.fire(j, "start_assessment", d)
        j = self.sw.fire(
            j,
            "draft_support_plan",
            d,
            {"additional_funding": funding, "quotes_received": quotes, "means_tested_amount": 100},
        )
        return self.sw.fire(j, "submit_to_panel", d)

    def ltf(
        self, state: str, kind: str = "mainstream", panel_date: date | None = None
    ) -> dict[str, Any]:
        """A long-term fostering journey at the matching meeting, or with its pack submitted."""
        c = self.child()
        j = self.sw.start(c["id"], "long_term_fostering", iso(self.start), {"placement_kind": kind})
        j = self.sw.fire(j, "hold_matching_meeting", iso(self.start + timedelta(days=3)))
        if state == "pack_submitted":
            assert panel_date is not None
            from states.checklists import BY_PLACEMENT_KIND

            answers = {k: "yes" for k in BY_PLACEMENT_KIND[kind].item_keys}
            j = self.sw.fire(
                j,
                "submit_pack",
                iso(panel_date - timedelta(days=20)),
                {"panel_date": iso(panel_date), "checklist": answers},
            )
        return j

    def pwp(self) -> dict[str, Any]:
        """Placed with parents (more than 12 months ago)."""
        c = self.child(legal_status="care_order")
        return self.sw.start(c["id"], "placed_with_parents", iso(self.start))

    def permanence_second_review(self) -> dict[str, Any]:
        """Permanence planning after the first review, awaiting the second."""
        recent = today() - timedelta(days=60)
        c = self.child(looked_after_since=iso(recent))
        j = self.sw.start(c["id"], "permanence_planning", iso(recent))
        return self.sw.fire(j, "hold_review", iso(recent + timedelta(days=10)))

    def adoption(self) -> dict[str, Any]:
        """A child with an adoption plan (on the adoption tracker)."""
        c = self.child(legal_status="placement_order")
        return self.sw.start(c["id"], "adoption", iso(self.start))


def answers_for(config_checklist: Any, value: str = ALL_YES) -> dict[str, str]:
    """Every item of a checklist answered ``value``."""
    return {i.key: value for i in config_checklist.items}


def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response, asserting its status."""
    assert response.status_code == status, response.text
    return response.json()


# The Leicestershire preset (the default PERMANENCE_PANEL): long-term fostering, checklist A.
LTF_MAINSTREAM = "ltf_mainstream"


@dataclass
class Ready:
    """A held meeting (in the past) with referrals whose packs were in on time."""

    meeting: dict[str, Any]
    referrals: list[dict[str, Any]]
    factory: Journeys


def plan_meetings(cast: People) -> list[dict[str, Any]]:
    """The administrator plans meetings from 120 days ago (some already held)."""
    start = today() - timedelta(days=120)
    return list(ok(cast.admin.post("/panel/meetings/generate", {"start": iso(start)})))


def held_meeting_with_referrals(cast: People, n: int = 2) -> Ready:
    """Plan meetings from 120 days ago and refer ``n`` long-term fostering journeys to the
    last meeting already held, each pack complete and a day early."""
    from panels.config import load_panel

    checklist = load_panel("leicestershire").checklist("A")
    assert checklist is not None
    planner = plan_meetings(cast)
    meeting = [m for m in planner if date.fromisoformat(m["meeting_date"]) < today()][-1]
    pack_due = date.fromisoformat(meeting["pack_due_on"])
    factory = Journeys(cast.sw)
    refs = []
    for _ in range(n):
        j = factory.ltf("matching_meeting_held")
        ref = ok(
            cast.sw.post(
                "/panel/referrals",
                {
                    "journey_id": j["id"],
                    "decision_type": LTF_MAINSTREAM,
                    "meeting_id": meeting["id"],
                    "referred_on": iso(pack_due - timedelta(days=7)),
                },
            ),
            201,
        )
        ok(
            cast.sw.post(
                f"/panel/referrals/{ref['id']}/pack",
                {
                    "checklist": answers_for(checklist),
                    "submitted_on": iso(pack_due - timedelta(days=1)),
                },
            )
        )
        refs.append(ref)
    return Ready(meeting, refs, factory)


def quorum_present(config: Any, *, already: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Attendance entries marking present every seat the preset's quorum names (none when
    it has no quorum), except ``already`` (seats the caller records itself)."""
    quorum = config.quorum
    if quorum is None:
        return []
    return [
        {"member_key": key, "status": "present", "person": f"Member {key}"}
        for key in quorum.seats
        if key not in already
    ]
