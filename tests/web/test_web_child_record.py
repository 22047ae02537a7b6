"""The child's page shows the panel's record (issue 14 item 3): each entry from approved
minutes, with its decision, reasons, actions and next review in words, and its PDF and Word
downloads for those who may see the child; the meeting page reopens approved minutes for a
correction and downloads them as a Word document."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from docx import Document
from pypdf import PdfReader
from sqlalchemy import Engine, select

from panels.exports import words_date
from services.models import AUDIT_LOG as AL
from tests.conftest import Api, UserFactory
from tests.panel_record_support import ACTION, REASONS, approve, decided_meeting
from tests.panel_support import ok, people
from tests.web_support import form_token


def test_child_page_shows_the_panel_record_and_its_downloads(
    make_user: UserFactory, engine: Engine, web_as: Callable[[Api], Any]
) -> None:
    cast = people(make_user)
    meeting, items, due = decided_meeting(cast)
    approve(cast, meeting["id"])
    child_id = items[0]["child_id"]
    (entry,) = ok(cast.sw.get(f"/panel/children/{child_id}/record"))
    held = date.fromisoformat(meeting["meeting_date"])

    sw = web_as(cast.sw)
    page = sw.get(f"/children/{child_id}")
    assert page.status_code == 200
    html = page.text
    section = html[html.index('id="panel-record"') :]
    assert "Panel record" in section
    assert entry["decisions"][0]["outcome_label"].replace("'", "&#39;") in section
    assert REASONS in section and ACTION in section
    assert words_date(due) in section and words_date(held + timedelta(weeks=6)) in section
    assert f'href="#journey-{items[0]["journey_id"]}"' in section
    # One audit row for the page, naming the panel record among its parts.
    with engine.connect() as conn:
        (row,) = conn.execute(select(AL.c.details).where(AL.c.action == "read.child_page")).all()
    assert "panel_record" in row.details["parts"]

    pdf = sw.get(f"/children/{child_id}/panel-record/{entry['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert ACTION in " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    docx = sw.get(f"/children/{child_id}/panel-record/{entry['id']}.docx")
    assert docx.status_code == 200
    assert any(
        REASONS in c.text
        for t in Document(io.BytesIO(docx.content)).tables
        for r in t.rows
        for c in r.cells
    )
    # The entry under another child's address, or another team's social worker: refused.
    other = items[1]["child_id"]
    assert sw.get(f"/children/{other}/panel-record/{entry['id']}.pdf").status_code == 404
    assert sw.get(f"/children/{child_id}/panel-record/{entry['id']}.txt").status_code == 404
    south = web_as(make_user("sw.south", "social_worker", team="south"))
    assert south.get(f"/children/{child_id}/panel-record/{entry['id']}.pdf").status_code == 403


def test_meeting_page_reopens_approved_minutes_and_downloads_them_as_word(
    make_user: UserFactory, web_as: Callable[[Api], Any]
) -> None:
    cast = people(make_user)
    meeting, items, _due = decided_meeting(cast)
    approve(cast, meeting["id"])
    admin = web_as(cast.admin)
    page = admin.get(f"/panel/meetings/{meeting['id']}")
    assert "Reopen the minutes for a correction" in page.text
    assert f"/panel/meetings/{meeting['id']}/minutes.docx" in page.text
    docx = admin.get(f"/panel/meetings/{meeting['id']}/minutes.docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert web_as(cast.sw).get(f"/panel/meetings/{meeting['id']}/minutes.docx").status_code == 403

    # No reason: refused next to the field, nothing changed.
    refused = admin.post(f"/panel/meetings/{meeting['id']}/minutes/reopen", {"reason": ""})
    assert refused.status_code == 422 and 'id="reopen-reason-error"' in refused.text
    assert form_token(refused.text)
    done = admin.post(
        f"/panel/meetings/{meeting['id']}/minutes/reopen", {"reason": "A date was mistyped"}
    )
    assert done.status_code == 303 and "done=minutes_reopened" in done.headers["location"]
    assert ok(cast.admin.get(f"/panel/meetings/{meeting['id']}"))["minutes_status"] == "draft"
    approve(cast, meeting["id"])
    versions = ok(cast.sw.get(f"/panel/children/{items[0]['child_id']}/record"))
    assert [e["minutes_version"] for e in versions] == [1, 2]
    # The page shows the version in force only, marked as corrected.
    html = web_as(cast.sw).get(f"/children/{items[0]['child_id']}").text
    section = html[html.index('id="panel-record"') :]
    assert section.count('class="app-panel-record__entry"') == 1
    assert "corrected: version 2" in section
