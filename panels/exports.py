"""The tracker as CSV and XLSX, and the minutes as printable HTML and PDF.

Every spreadsheet cell goes through :func:`spreadsheet_cell`, the one place the
formula-injection rule lives (issue 10, item 4).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from html import escape
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from panels.results import MinutesEntry, MinutesRecord, TrackerRow

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
    ("open_actions", "Open actions"),
    ("next_action_due", "Next action due"),
    ("next_review_on", "Back to panel"),
    ("rag", "RAG"),
)
_RAG_FILL = {"red": "F4B6B6", "amber": "FFE699", "green": "C6E0B4"}
# The media type of tracker_xlsx's workbook.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _cell(row: TrackerRow, column: str) -> Any:
    # Dates as the JSON gives them (ISO text), in the CSV and the workbook alike.
    value = getattr(row, column)
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
    rag_col = len(TRACKER_COLUMNS)
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
