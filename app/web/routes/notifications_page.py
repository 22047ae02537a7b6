"""Notifications: the signed-in user's own inbox (reminders, escalations, panel notices),
newest first, each marked read with a button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import Services
from app.api.params import MAX_PAGE, Page, PathId, whole_number
from app.web.child_view import london_time
from app.web.deps import CheckedForm, PageSession
from app.web.notices import page_link
from app.web.templating import render
from notifications.service import grouped_inbox, mark_line_read

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/notifications")
def notifications(
    request: Request,
    services: Services,
    session: PageSession,
    page: Page = 1,
    done: str | None = None,
) -> HTMLResponse:
    """The user's notifications, newest first, one line per deadline with its latest step
    (everyone has an inbox of their own)."""
    page = min(max(page, 1), 100_000)
    # One more than a page, to know whether there is a next one.
    rows = grouped_inbox(
        services.engine,
        session.principal,
        services.settings.base_url,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for row in rows:
        row["href"] = page_link(row["link"], services.settings.base_url)
        row["created_at"] = london_time(row["created_at"])
        if row["read_at"] is not None:
            row["read_at"] = london_time(row["read_at"])
    return render(
        request,
        "casework/notifications.html",
        {
            "notices": rows,
            "page": page,
            "more": more,
            "page_href": lambda number: f"/notifications?page={number}",
            "done": done == "read",
            "unread": sum(1 for r in rows if r["unread"]),
        },
    )


@router.post("/notifications/{notice_id}/read")
def read_notification(
    notice_id: PathId, services: Services, session: PageSession, form: CheckedForm
) -> Response:
    """Mark a line of the user's notifications read, with the earlier notices of the same
    deadline (someone else's answers 404)."""
    mark_line_read(services.engine, notice_id, session.principal)
    # Back to the page of the list the button was on.
    raw = form.get("page")
    page = (whole_number(raw, 1, MAX_PAGE) if isinstance(raw, str) else None) or 1
    return RedirectResponse(
        f"/notifications?page={page}&done=read#notice-{notice_id}", status_code=303
    )
