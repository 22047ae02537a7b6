"""The pages' routers, one module per area. Conventions: app/web/README.md (read it first)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes import (
    account,
    admin_imports,
    admin_teams,
    allocation,
    care_lists,
    child_edit,
    children,
    deadline_confirm,
    director,
    director_breaches,
    director_selection,
    journey_events,
    my_work,
    notifications_page,
    panel_pages,
)

ROUTERS: list[APIRouter] = [
    my_work.router,
    allocation.router,
    care_lists.router,
    children.router,
    child_edit.router,
    deadline_confirm.router,
    journey_events.router,
    notifications_page.router,
    account.router,
    director.router,
    director_breaches.router,
    director_selection.router,
    panel_pages.router,
    admin_imports.router,
    admin_teams.router,
]
