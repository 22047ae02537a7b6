"""A child's record entry as a one-page PDF and a DOCX (issue 14 item 3), from the entry
alone: a long entry still fits one page, and what cannot be drawn in the PDF's core fonts
is replaced, never an error."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from docx import Document
from pypdf import PdfReader

from panels.exports import record_entry_docx, record_entry_pdf, record_entry_text
from panels.results import RecordAction, RecordDecision, RecordEntry


def _entry(actions: int, reasons: str) -> RecordEntry:
    return RecordEntry(
        id=7,
        child_id=3,
        child_reference="LA-0042",
        panel="torbay",
        panel_name="Torbay Permanence Panel",
        meeting_id=2,
        held_on=date(2026, 11, 11),
        part="decisions",
        part_title="Decisions",
        journey_id=5,
        journey_type="sgo",
        journey_title="Special guardianship",
        minutes_version=2,
        current=True,
        decisions=[
            RecordDecision(
                outcome="sign_off",
                outcome_label="Support plan signed off",
                event="sign_off",
                reasons=reasons,
                meets_needs="will",
                resources_child="Therapy \u2013 12 sessions",
                resources_carers="Respite",
            )
        ],
        actions=[
            RecordAction(
                description=f"Action number {n}: write to the carers about the plan",
                owner_id=None,
                owner_role="social_worker",
                owner_name=None,
                due_on=date(2026, 12, n + 1),
                status="open",
            )
            for n in range(actions)
        ],
        review_weeks=6,
        next_review_on=date(2026, 12, 23),
        approved_on=date(2026, 11, 13),
        recorded_at=datetime(2026, 11, 13, 10, 0, tzinfo=UTC),
    )


def test_a_long_entry_still_fits_one_page() -> None:
    entry = _entry(actions=15, reasons="The plan meets the child's needs. " * 40)
    reader = PdfReader(io.BytesIO(record_entry_pdf(entry)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Action number 14" in text and "23 December 2026" in text
    assert "Therapy - 12 sessions" in text  # the en dash drawn as a hyphen


def test_text_and_docx_say_the_same() -> None:
    entry = _entry(actions=1, reasons="Agreed")
    text = record_entry_text(entry, owner_names=False)
    assert text.splitlines()[0] == (
        "Torbay Permanence Panel: decisions of 11 November 2026 for child LA-0042"
    )
    assert "Decision: Support plan signed off" in text and "Reasons: Agreed" in text
    assert "Owner: Social worker. Due 1 December 2026 (open)." in text
    assert "version 2, a correction replacing the earlier version" in text
    rows = [
        (r.cells[0].text, r.cells[1].text)
        for r in Document(io.BytesIO(record_entry_docx(entry))).tables[0].rows
    ]
    assert [f"{label}: {value}" for label, value in rows] == text.splitlines()[1:]
