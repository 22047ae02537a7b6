"""The permanence panel's pages: forward planner, meetings (agenda, attendance, decisions,
actions, minutes), referrals and packs, and the tracker. One router, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes import (
    panel_cohorts,
    panel_decisions,
    panel_escalate,
    panel_invitation,
    panel_meeting,
    panel_minutes,
    panel_planner,
    panel_ratify,
    panel_referrals,
    panel_reports,
    panel_seats,
    panel_tracker,
)

router = APIRouter(include_in_schema=False)
for _area in (
    panel_planner,
    panel_meeting,
    panel_invitation,
    panel_decisions,
    panel_ratify,
    panel_escalate,
    panel_minutes,
    panel_referrals,
    panel_reports,
    panel_tracker,
    panel_cohorts,
    panel_seats,
):
    router.include_router(_area.router)
