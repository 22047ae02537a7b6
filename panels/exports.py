"""The tracker as CSV and XLSX, the minutes as printable HTML, PDF and DOCX, and each
entry of a child's record as a one-page PDF, a DOCX and plain text (the record webhook's).

Every spreadsheet cell goes through :func:`spreadsheet_cell`, the one place the
formula-injection rule lives (issue 10, item 4).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from html import escape
from typing import Any

from docx import Document
from docx.shared import Pt
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from panels.results import MinutesEntry, MinutesRecord, RecordEntry, TrackerRow

TRACKER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("child_reference", "Child reference"),
    ("team", "Team"),
    ("journey_type", "Journey"),
    ("state", "State"),
    ("next_deadline", "Next deadline"),
    ("next_deadline_due", "Due"),
    ("overdue_deadlines", "Overdue"),
    ("last_decision", "Last decision"),
    ("last_decision_on", "Decided on"),
    ("last_decision_quorum", "Quorum"),
    ("open_actions", "Open actions"),
    ("next_action_due", "Next action due"),
    ("next_review_on", "Back to panel"),
    ("cohorts_computed_at", "Cohort members computed"),
    ("rag", "RAG"),
)
_RAG_FILL = {"red": "F4B6B6", "amber": "FFE699", "green": "C6E0B4"}
# The media type of tracker_xlsx's workbook.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The media type of the Word documents (minutes_docx, record_entry_docx).
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# A text cell starting with one of these is read as a formula by Excel, LibreOffice or
# Google Sheets (OWASP, "CSV Injection"): = + - @, tab and carriage return. The full-width
# forms are there because some East Asian Excel builds accept them as the ASCII ones.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell (CSV or XLSX): text that a spreadsheet
    would run as a formula gets a leading single quote, so it is shown as typed and never
    evaluated; numbers, dates and other text pass unchanged. Every exported cell goes
    through here."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


# What the page shows for a tracked child no meeting has decided on, and the exports too.
NO_DECISION_YET = "No decision yet"


def _cell(row: TrackerRow, column: str) -> Any:
    # Dates as the JSON gives them (ISO text), in the CSV and the workbook alike.
    value = getattr(row, column)
    if column == "last_decision" and value is None:
        return NO_DECISION_YET
    return spreadsheet_cell(value.isoformat() if isinstance(value, date) else value)


def tracker_csv(rows: list[TrackerRow]) -> str:
    """The tracker as CSV text (header row first)."""
    out = io.StringIO()
    # Every field quoted (OWASP's advice): a semicolon-separated locale then cannot split
    # a field and start a new cell with a formula.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow([spreadsheet_cell(title) for _, title in TRACKER_COLUMNS])
    for row in rows:
        writer.writerow(["" if (v := _cell(row, k)) is None else v for k, _ in TRACKER_COLUMNS])
    return out.getvalue()


def tracker_xlsx(rows: list[TrackerRow], title: str) -> bytes:
    """The tracker as an Excel workbook: one sheet, a header row, RAG cells coloured."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws.append([spreadsheet_cell(t) for _, t in TRACKER_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rag_col = [k for k, _ in TRACKER_COLUMNS].index("rag") + 1
    for row in rows:
        ws.append([_cell(row, k) for k, _ in TRACKER_COLUMNS])
        for cell in ws[ws.max_row]:
            # openpyxl reads any text starting with "=" as a formula; spreadsheet_cell has
            # already quoted those, and this keeps text stored as text whatever comes in.
            if isinstance(cell.value, str):
                cell.data_type = "s"
        fill = _RAG_FILL.get(row.rag)
        if fill:
            ws.cell(row=ws.max_row, column=rag_col).fill = PatternFill(
                "solid", start_color=fill, end_color=fill
            )
    ws.freeze_panes = "A2"
    wb.properties.title = title
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _decision_lines(entry: MinutesEntry) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for d in entry.decisions:
        needs = {"will": "will", "will_not": "will not"}.get(d.meets_needs or "", "")
        lines.append(("Decision", d.outcome.replace("_", " ")))
        if d.quorum_status:
            lines.append(("Quorum", d.quorum_status))
        if needs:
            lines.append(("The placement will/will not meet the child's needs", needs))
        lines.append(
            (
                "Additional resources agreed to promote the child's outcomes",
                d.resources_child or "None",
            )
        )
        lines.append(
            (
                "Additional resources agreed to support the carers",
                d.resources_carers or "None",
            )
        )
        if d.notes:
            lines.append(("Notes", d.notes))
    for a in entry.actions:
        lines.append(
            (
                "Action",
                f"{a.description} (owner: {a.owner_role}, due {a.due_on.isoformat()})",
            )
        )
    if entry.review_weeks:
        lines.append(("Back to panel in", f"{entry.review_weeks} weeks"))
    return lines


def _present(minutes: MinutesRecord) -> str:
    return ", ".join(f"{p.seat} {p.person}".strip() for p in minutes.present)


def _apologies(minutes: MinutesRecord) -> str:
    return ", ".join(
        f"{a.seat} {a.person}".strip()
        + (f" (represented by {a.representative})" if a.representative else "")
        for a in minutes.apologies
    )


def minutes_html(minutes: MinutesRecord) -> str:
    """The minutes as a printable HTML page, following the Panel Decisions template."""
    held_on = minutes.held_on.isoformat()
    h: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(minutes.panel)}: minutes of {escape(held_on)}</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:4px;"
        "vertical-align:top;text-align:left}h3{margin-top:1.5em}"
        "@media print{h3{page-break-before:auto}}</style></head><body>",
        f"<h1>{escape(minutes.panel)}</h1>",
        f"<p>Held on {escape(held_on)} at {escape(minutes.start_time)}. "
        f"Status: {escape(minutes.status)}.</p>",
        "<h2>Panel members</h2><p><strong>Present:</strong> "
        + escape(_present(minutes))
        + "</p><p><strong>Apologies:</strong> "
        + escape(_apologies(minutes))
        + f"</p><p><strong>Note taker:</strong> {escape(minutes.note_taker)}</p>",
    ]
    for part in minutes.parts:
        h.append(f"<h2>{escape(part.title)}</h2>")
        if not part.items:
            h.append("<p>No items.</p>")
        for entry in part.items:
            h.append(
                f"<h3>Decisions regarding: {escape(entry.child_name)} "
                f"(age {entry.age}, ref {escape(entry.child_reference)})</h3><table>"
            )
            for label, value in _decision_lines(entry):
                h.append(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>")
            h.append("</table>")
    if minutes.rolled:
        h.append("<h2>Rolled to the next meeting</h2><ul>")
        for r in minutes.rolled:
            h.append(f"<li>{escape(r.child_reference)}: {escape(r.reason or '')}</li>")
        h.append("</ul>")
    h.append("</body></html>")
    return "".join(h)


def _latin(text: str) -> str:
    # The core PDF fonts are Latin-1; replace what they cannot draw rather than fail.
    return (
        text.replace("\u2019", "'")
        .replace("\u2013", "-")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def minutes_pdf(minutes: MinutesRecord) -> bytes:
    """The minutes as a PDF (fpdf2, pure Python, core fonts)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, size: int = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.55, _latin(text), new_x="LMARGIN", new_y="NEXT")

    para(minutes.panel, 16, "B")
    para(
        f"Permanence Panel Decisions. Held on {minutes.held_on.isoformat()} "
        f"at {minutes.start_time}."
    )
    para("Present: " + _present(minutes))
    para("Apologies: " + _apologies(minutes))
    para(f"Note taker: {minutes.note_taker}")
    for part in minutes.parts:
        pdf.ln(2)
        para(part.title, 13, "B")
        for entry in part.items:
            para(
                f"Decisions regarding: {entry.child_name} (age {entry.age}, "
                f"ref {entry.child_reference})",
                11,
                "B",
            )
            for label, value in _decision_lines(entry):
                para(f"{label}: {value}")
    if minutes.rolled:
        para("Rolled to the next meeting", 13, "B")
        for r in minutes.rolled:
            para(f"{r.child_reference}: {r.reason or ''}")
    return bytes(pdf.output())


def minutes_docx(minutes: MinutesRecord) -> bytes:
    """The minutes as a Word document (python-docx), with the PDF's content and order."""
    doc = Document()
    doc.core_properties.title = f"{minutes.panel}: minutes of {minutes.held_on.isoformat()}"
    doc.add_heading(minutes.panel, level=0)
    doc.add_paragraph(
        f"Permanence Panel Decisions. Held on {words_date(minutes.held_on)} at "
        f"{minutes.start_time}. Status: {minutes.status}."
    )
    doc.add_paragraph("Present: " + _present(minutes))
    doc.add_paragraph("Apologies: " + _apologies(minutes))
    doc.add_paragraph(f"Note taker: {minutes.note_taker}")
    for part in minutes.parts:
        doc.add_heading(part.title, level=1)
        if not part.items:
            doc.add_paragraph("No items.")
        for entry in part.items:
            doc.add_heading(
                f"Decisions regarding: {entry.child_name} (age {entry.age}, "
                f"ref {entry.child_reference})",
                level=2,
            )
            _docx_table(doc, _decision_lines(entry))
    if minutes.rolled:
        doc.add_heading("Rolled to the next meeting", level=1)
        for r in minutes.rolled:
            doc.add_paragraph(f"{r.child_reference}: {r.reason or ''}", style="List Bullet")
    return _docx_bytes(doc)


# -- a child's record entry ---------------------------------------------------------------


def words_date(day: date) -> str:
    """A date in words, as the pages write it: 3 December 2026."""
    return f"{day.day} {day:%B %Y}"


def _words(code: str) -> str:
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def record_entry_title(entry: RecordEntry) -> str:
    """The entry's heading: the panel, the meeting's date and the child's reference."""
    return (
        f"{entry.panel_name}: decisions of {words_date(entry.held_on)} "
        f"for child {entry.child_reference}"
    )


def record_entry_lines(entry: RecordEntry, *, owner_names: bool = True) -> list[tuple[str, str]]:
    """The entry as (label, text) lines, the one wording its PDF, DOCX and webhook text
    share: the meeting, the journey, each decision with its reasons, each action with its
    owner and due date, when the case comes back. ``owner_names`` False names an action's
    owner by role only (the case system's message)."""
    lines: list[tuple[str, str]] = [
        ("Meeting", f"{entry.panel_name}, {words_date(entry.held_on)} ({entry.part_title})"),
        ("Child", entry.child_reference),
    ]
    if entry.journey_title:
        lines.append(("Journey", entry.journey_title))
    for d in entry.decisions:
        lines.append(("Decision", d.outcome_label))
        if d.quorum_status:
            lines.append(("Quorum", d.quorum_status))
        lines.append(("Reasons", d.reasons or "None recorded"))
        needs = {"will": "will", "will_not": "will not"}.get(d.meets_needs or "")
        if needs:
            lines.append(("The placement will/will not meet the child's needs", needs))
        if d.resources_child:
            lines.append(("Resources agreed for the child", d.resources_child))
        if d.resources_carers:
            lines.append(("Resources agreed for the carers", d.resources_carers))
    if not entry.decisions:
        lines.append(("Decision", "None recorded"))
    for a in entry.actions:
        owner = _words(a.owner_role)
        if owner_names and a.owner_name:
            owner = f"{a.owner_name} ({owner.lower()})"
        state = "done" if a.status == "done" else "open"
        lines.append(
            ("Action", f"{a.description}. Owner: {owner}. Due {words_date(a.due_on)} ({state}).")
        )
    lines.append(
        (
            "Next review at panel",
            words_date(entry.next_review_on) if entry.next_review_on else "Not set",
        )
    )
    version = f"version {entry.minutes_version}"
    if entry.minutes_version > 1:
        version += ", a correction replacing the earlier version"
    lines.append(("Minutes approved", f"{words_date(entry.approved_on)} ({version})"))
    return lines


def record_entry_text(entry: RecordEntry, *, owner_names: bool = True) -> str:
    """The entry as plain text: its title, then one line per label."""
    body = "\n".join(
        f"{label}: {value}" for label, value in record_entry_lines(entry, owner_names=owner_names)
    )
    return f"{record_entry_title(entry)}\n{body}"


def record_entry_pdf(entry: RecordEntry) -> bytes:
    """The entry as a one-page A4 PDF (fpdf2, core fonts); a long entry's text is made
    smaller until it fits the page."""
    lines = record_entry_lines(entry)
    for size in (10, 9, 8, 7, 6):
        pdf = _entry_pdf(entry, lines, size)
        if pdf.pages_count == 1:
            break
    return bytes(pdf.output())


def _entry_pdf(entry: RecordEntry, lines: list[tuple[str, str]], size: int) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin(record_entry_title(entry)))
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "B", size + 4)
    pdf.multi_cell(
        width, (size + 4) * 0.55, _latin(record_entry_title(entry)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(2)
    for label, value in lines:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(width, size * 0.5, _latin(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(width, size * 0.5, _latin(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return pdf


def record_entry_docx(entry: RecordEntry) -> bytes:
    """The entry as a Word document: its title, then a two-column table of its lines."""
    doc = Document()
    title = record_entry_title(entry)
    doc.core_properties.title = title
    doc.add_heading(title, level=1)
    _docx_table(doc, record_entry_lines(entry))
    return _docx_bytes(doc)


def _docx_table(doc: Any, lines: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in lines:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value
        for run in cells[0].paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(10)


def _docx_bytes(doc: Any) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
