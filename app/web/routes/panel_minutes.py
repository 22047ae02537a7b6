"""A meeting's minutes: draft, approve, reopen for a correction, circulate the tracker, and
the printable page, PDF and Word document (downloaded with the browser session; the API's
copies need a bearer token)."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.params import PathId
from app.web.deps import CheckedForm, PageSession
from app.web.forms import text
from app.web.routes.panel_common import Panel, require_rule
from app.web.routes.panel_meeting import meeting_button
from panels import exports
from panels.permissions import (
    APPROVE_MINUTES,
    CIRCULATE_TRACKER,
    CORRECT_MINUTES,
    DRAFT_MINUTES,
    READ_MINUTES,
)

router = APIRouter(include_in_schema=False)

_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def printable_policy(html: str) -> str:
    """A content security policy for the printable minutes: no scripts, nothing loaded, and
    only the page's own inline style sheet (allowed by its hash, not 'unsafe-inline')."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _STYLE.findall(html)
    ]
    styles = " ".join(hashes) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {styles}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


@router.post("/panel/meetings/{meeting_id}/minutes")
def draft(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Draft (or redraft) the minutes from what was recorded."""
    del form  # checked for its token only
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=DRAFT_MINUTES,
        call=lambda: panel.draft_minutes(meeting_id, session.principal),
        field_id="minutes",
        done="minutes_drafted",
    )


@router.post("/panel/meetings/{meeting_id}/minutes/approve")
def approve(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Approve the minutes: each child's entry to their record, the tracker circulated."""
    del form  # checked for its token only
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=APPROVE_MINUTES,
        call=lambda: panel.approve_minutes(meeting_id, session.principal),
        field_id="minutes",
        done="minutes_approved",
    )


@router.post("/panel/meetings/{meeting_id}/minutes/reopen")
def reopen(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Reopen approved minutes for a correction, with the reason; approving them again
    writes the next version of each child's record entry."""
    reason = text(form, "reason")
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=CORRECT_MINUTES,
        call=lambda: panel.reopen_minutes(meeting_id, session.principal, reason),
        field_id="reopen-reason",
        done="minutes_reopened",
    )


@router.post("/panel/meetings/{meeting_id}/tracker/circulate")
def circulate(
    request: Request, meeting_id: PathId, session: PageSession, form: CheckedForm, panel: Panel
) -> Response:
    """Circulate the tracker again to the team managers and social workers concerned."""
    del form  # checked for its token only
    return meeting_button(
        request,
        panel,
        session,
        meeting_id,
        rule=CIRCULATE_TRACKER,
        call=lambda: panel.circulate_tracker(meeting_id, session.principal),
        field_id="minutes",
        done="circulated",
    )


@router.get("/panel/meetings/{meeting_id}/minutes.html")
def minutes_html(meeting_id: PathId, session: PageSession, panel: Panel) -> Response:
    """The minutes as a printable page (the Panel Decisions template)."""
    require_rule(session, READ_MINUTES)
    html = exports.minutes_html(panel.minutes(meeting_id, session.principal, export="html"))
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": printable_policy(html)},
    )


@router.get("/panel/meetings/{meeting_id}/minutes.pdf")
def minutes_pdf(meeting_id: PathId, session: PageSession, panel: Panel) -> Response:
    """The minutes as a PDF download."""
    require_rule(session, READ_MINUTES)
    pdf = exports.minutes_pdf(panel.minutes(meeting_id, session.principal, export="pdf"))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="minutes-{meeting_id}.pdf"'},
    )


@router.get("/panel/meetings/{meeting_id}/minutes.docx")
def minutes_docx(meeting_id: PathId, session: PageSession, panel: Panel) -> Response:
    """The minutes as a Word document."""
    require_rule(session, READ_MINUTES)
    docx = exports.minutes_docx(panel.minutes(meeting_id, session.principal, export="docx"))
    return Response(
        docx,
        media_type=exports.DOCX,
        headers={"Content-Disposition": f'attachment; filename="minutes-{meeting_id}.docx"'},
    )
