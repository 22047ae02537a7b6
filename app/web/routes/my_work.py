"""My work: the caseload of a social worker, a team or the whole service, overdue first,
with the user's unread notifications."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import Services
from app.api.params import MAX_PAGE, whole_number
from app.web.child_view import london_time
from app.web.deps import PageSession, require_page_roles
from app.web.notices import page_link
from app.web.templating import render
from notifications.meetings import pack_meetings
from notifications.service import grouped_inbox
from services import audit
from services.access import CHILD_EDIT_ROLES
from services.care_record import lists as care_lists
from services.caseload import (
    Filters,
    deadlines_to_confirm,
    load_caseload,
    team_social_workers,
    teams_with_children,
)
from services.clock import today
from services.rag import DUE_SOON_WORKING_DAYS
from services.teams import list_teams
from states import deadline_kinds
from states.deadline_kinds import PANEL_PACK
from states.roles import READ_ONLY, SERVICE_MANAGER, SOCIAL_WORKER, TEAM_MANAGER

router = APIRouter(include_in_schema=False)

MY_WORK_ROLES = (SOCIAL_WORKER, TEAM_MANAGER, READ_ONLY, SERVICE_MANAGER)
NOTICES_SHOWN = 5


def _page_number(raw: str | None) -> int:
    return whole_number(raw or "", 1, MAX_PAGE) or 1


@router.get("/my-work")
def my_work(
    request: Request,
    services: Services,
    session: PageSession,
    team: str | None = None,
    worker: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """The caseload in scope: a social worker's own children by default, a team manager's
    (or read-only user's) team, a service manager's every team; filters narrow it."""
    require_page_roles(session, *MY_WORK_ROLES)
    principal = session.principal
    authority_wide = principal.visible_teams() is None
    # A social worker starts on their own caseload; managers on everyone's.
    manager = not principal.roles.isdisjoint({TEAM_MANAGER, SERVICE_MANAGER})
    if worker is None:
        worker = "me" if SOCIAL_WORKER in principal.roles and not manager else "all"
    teams: list[str] = teams_with_children(services.engine, principal) if authority_wide else []
    chosen_team = team if authority_wide and team in teams else None
    if not authority_wide:
        chosen_team = principal.team
    filters = Filters(team=chosen_team if authority_wide else None)
    if worker == "me":
        filters = Filters(team=filters.team, worker_id=principal.user_id)
    elif worker == "unallocated":
        filters = Filters(team=filters.team, unallocated=True)
    elif (worker_id := whole_number(worker)) is not None:
        filters = Filters(team=filters.team, worker_id=worker_id)
    else:
        worker = "all"
    workers = team_social_workers(services.engine, chosen_team) if chosen_team else []
    # One audit row for the page (``read.caseload``): the caseload and the unread notices.
    with audit.one_read(services.engine, principal, "caseload"):
        caseload = load_caseload(
            services.engine,
            services.registry,
            principal,
            filters,
            today=today(),
            page=_page_number(page),
        )
        # Deadlines from before the service, of the same children (issue 13).
        before_service = deadlines_to_confirm(services.engine, principal, filters)
        notices = grouped_inbox(
            services.engine,
            principal,
            services.settings.base_url,
            unread_only=True,
            limit=NOTICES_SHOWN,
        )
    # A panel pack is named by its meeting, not its referral (one read for the page).
    packs = pack_meetings(
        services.engine,
        (
            r.next_deadline.deadline_id
            for r in caseload.rows
            if r.next_deadline
            and r.next_deadline.kind == PANEL_PACK.key
            and r.next_deadline.deadline_id is not None
        ),
    )
    deadline_labels = {i: deadline_kinds.named(PANEL_PACK.key, words) for i, words in packs.items()}
    for notice in notices:
        notice["href"] = page_link(notice["link"], services.settings.base_url)
        notice["created_at"] = london_time(notice["created_at"])

    def page_href(number: int) -> str:
        query: dict[str, Any] = {"worker": worker}
        if chosen_team and authority_wide:
            query["team"] = chosen_team
        query["page"] = number
        return f"/my-work?{urlencode(query)}"

    worker_options: list[tuple[str, str]] = []
    if chosen_team:
        worker_options.append(("all", "Everyone in the team"))
    elif SOCIAL_WORKER in principal.roles or not authority_wide:
        worker_options.append(("all", "Every child you can see"))
    if SOCIAL_WORKER in principal.roles:
        worker_options.append(("me", "My caseload"))
    worker_options += [(str(w.id), w.name) for w in workers if w.id != principal.user_id]
    if chosen_team:
        worker_options.append(("unallocated", "No social worker allocated"))

    # The care record's work lists, for the people who act on them (issue 13 item 5).
    record_lists = None
    if not principal.roles.isdisjoint({SOCIAL_WORKER, TEAM_MANAGER}):
        record_lists = {
            "to_confirm": care_lists.to_confirm_count(services.engine, principal),
            "disagreements": care_lists.disagreement_count(services.engine, principal),
        }

    titles = {t.name: t.title for t in list_teams(services.engine)}
    if worker == "me":
        heading = "My caseload"
    elif chosen_team:
        heading = f"Team {titles.get(chosen_team, chosen_team)}: caseload"
    else:
        heading = "Caseload: every team"
    return render(
        request,
        "casework/my_work.html",
        {
            "heading": heading,
            "caseload": caseload,
            "notices": notices,
            "team_options": [(t, titles.get(t, t)) for t in teams],
            "worker_options": worker_options,
            "team": chosen_team,
            "authority_wide": authority_wide,
            "worker": worker,
            "due_soon_days": DUE_SOON_WORKING_DAYS,
            "page_href": page_href,
            "today": today(),
            "record_lists": record_lists,
            "before_service": before_service,
            "may_confirm": not principal.roles.isdisjoint(CHILD_EDIT_ROLES),
            "deadline_labels": deadline_labels,
        },
    )
