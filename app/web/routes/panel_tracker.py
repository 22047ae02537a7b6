"""The panel tracker: every child the panel follows, filtered on the server by team, journey,
RAG status, last decision, overdue deadlines and reference, with CSV and XLSX downloads of
the same rows.

Fast at any size: the filters, the order, the count and the page of 200 are SQL
(``PanelService.tracker_page``), and only the page's rows are built; the downloads hold every
row the filters keep (``PanelService.tracker``, the same filters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.web.deps import PageSession
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.routes.panel_common import JourneyWords, Panel, journey_words
from app.web.session import WebSession
from app.web.templating import render
from panels import exports
from panels.results import NO_DECISION, TrackerChoices, TrackerFilters, TrackerRow
from panels.service import PanelService
from services.teams import list_teams
from workflow.calendar import LONDON

router = APIRouter(include_in_schema=False)

RAG = (("red", "Overdue"), ("amber", "Due soon"), ("green", "On track"))
SEARCH_MAX = 50
# What a filter naming a value the tracker does not hold is told to select.
CHOICE_LABELS = {
    "team": "a team",
    "journey_type": "a journey",
    "rag": "a status",
    "outcome": "a decision",
}
# One page of the table: a national-size authority tracks tens of thousands of children,
# and the page stays a page (the downloads hold every filtered row).
PAGE_SIZE = 200


@dataclass(frozen=True)
class Filters:
    """The tracker's filters as the query string gives them ('' = any)."""

    team: str = ""
    journey_type: str = ""
    rag: str = ""
    outcome: str = ""
    overdue: bool = False
    q: str = ""
    as_of: date | None = None

    def service(self) -> TrackerFilters:
        """The filters the service applies (in SQL)."""
        return TrackerFilters(
            team=self.team,
            journey_type=self.journey_type,
            rag=self.rag,
            outcome=self.outcome,
            overdue=self.overdue,
            q=self.q,
        )


def options(
    held: TrackerChoices, words: JourneyWords, team_titles: dict[str, str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """The choices each select offers: what the unfiltered tracker holds, teams by the
    managed list's titles."""
    titles = team_titles or {}
    return {
        "team": [(t, titles.get(t, t)) for t in held.teams],
        "journey_type": [(t, words.title(t)) for t in held.journey_types],
        "rag": list(RAG),
        "outcome": [(NO_DECISION, "No decision yet")]
        + [(o, o.replace("_", " ").capitalize()) for o in held.outcomes],
    }


def read_filters(query: FormData, errors: FormErrors) -> Filters:
    """The filters from the query string; a bad value is an error against its field."""
    as_of = read_date(query, "as_of", "The date to rate deadlines on", errors, required=False)
    q = text(query, "q")
    if len(q) > SEARCH_MAX:
        errors.add("q", f"The reference must be {SEARCH_MAX} characters or fewer")
        q = ""
    return Filters(
        team=text(query, "team"),
        journey_type=text(query, "journey_type"),
        rag=text(query, "rag"),
        outcome=text(query, "outcome"),
        overdue=text(query, "overdue") == "yes",
        q=q,
        as_of=as_of,
    )


def name_dropped(filters: Filters, dropped: tuple[str, ...], errors: FormErrors) -> Filters:
    """``filters`` without those the service dropped (a value the tracker does not hold),
    each an error on its field."""
    for name in dropped:
        errors.add(name, f"Select {CHOICE_LABELS[name]} from the list")
    return Filters(**{**filters.__dict__, **dict.fromkeys(dropped, "")})


def query_form(request: Request) -> FormData:
    """The query string read like a form (the filter form is a GET form)."""
    items: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
    return FormData(items)


@router.get("/panel/tracker")
def tracker(request: Request, session: PageSession, panel: Panel) -> HTMLResponse:
    """The tracker table with its filters: one page of it, read as one page (the choices,
    the count and the page in one service call)."""
    query = query_form(request)
    words = journey_words(panel.registry)
    errors = FormErrors()
    filters = read_filters(query, errors)
    raw_page = text(query, "page")
    asked = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 7 else 1
    found = panel.tracker_page(
        session.principal, filters.as_of, filters.service(), page=asked, page_size=PAGE_SIZE
    )
    filters = name_dropped(filters, found.dropped, errors)
    choices = options(found.choices, words, {t.name: t.title for t in list_teams(panel.engine)})
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    cohorts_at = found.choices.cohorts_computed_at
    return render(
        request,
        "panel/tracker.html",
        {
            "rows": found.rows,
            "total": found.total,
            "page": found.page,
            "more": found.more,
            "page_href": lambda n: "/panel/tracker?" + urlencode([*kept, ("page", str(n))]),
            "filters": filters,
            "choices": choices,
            "as_of": echo_date(query, "as_of"),
            "query": request.url.query,
            "panel_name": panel.config.panel.name,
            # When the cohorts' members were computed (the same on every row).
            "cohorts_at": cohorts_at.astimezone(LONDON) if found.rows and cohorts_at else None,
            "words": words,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


def _download(
    request: Request, session: WebSession, panel: PanelService, export: str
) -> list[TrackerRow]:
    errors = FormErrors()
    filters = read_filters(query_form(request), errors)
    held = panel.tracker_choices(session.principal, filters.as_of)
    filters = name_dropped(filters, held.known(filters.service())[1], errors)
    if errors:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "The filters are not valid: " + "; ".join(m for _, m in errors.items),
        )
    return panel.tracker(session.principal, filters.as_of, export=export, filters=filters.service())


@router.get("/panel/tracker.csv")
def tracker_csv(request: Request, session: PageSession, panel: Panel) -> Response:
    """The filtered tracker as CSV."""
    rows = _download(request, session, panel, "csv")
    return Response(
        exports.tracker_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tracker.csv"'},
    )


@router.get("/panel/tracker.xlsx")
def tracker_xlsx(request: Request, session: PageSession, panel: Panel) -> Response:
    """The filtered tracker as an Excel workbook."""
    rows = _download(request, session, panel, "xlsx")
    return Response(
        exports.tracker_xlsx(rows, panel.config.panel.name),
        media_type=exports.XLSX,
        headers={"Content-Disposition": 'attachment; filename="tracker.xlsx"'},
    )
