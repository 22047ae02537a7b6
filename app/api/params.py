"""What a request may carry, checked once for the API and the pages: integers and dates
in range.

Every id column is a 32-bit ``INTEGER`` on PostgreSQL and a 64-bit one on SQLite: a path or
query integer past that range reached the database and failed there with a 500. So each
path id, offset, limit, page number, year and date is declared here with its range, and an
out-of-range value is refused before any service runs (422 on the API; the pages' handler
in ``app/main.py`` answers 404 for an address and 422 for a query). Forms read by hand
use ``whole_number``. Ids and versions in request bodies are ``services.schemas``' own
(``RecordId``, ``Version``), and a NUL anywhere is refused at the door (``app.input_guard``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from annotated_types import Interval
from fastapi import Path, Query
from pydantic import Field

from services.schemas import DB_INT_MAX, InputDate

# The largest value of a PostgreSQL INTEGER (and so of every id and version we store).
MAX_INT = DB_INT_MAX
# Page numbers beyond this are never real: 100,000 pages of results.
MAX_PAGE = 99_999
# Years a panel report may cover: the service has no data outside them.
MIN_YEAR, MAX_YEAR = 2000, 2100

# Path ids: rows are numbered from 1.
PathId = Annotated[int, Path(ge=1, le=MAX_INT)]
# Optional ids given in a query string.
QueryId = Annotated[int, Query(ge=1, le=MAX_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
Limit = Annotated[int, Query(ge=1, le=1000)]
SearchLimit = Annotated[int, Query(ge=1, le=500)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Year = Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR)]

# Dates the service plans and reports on: the same years. Far dates are no one's meeting
# or report, and past 9999 a deadline computed from one overflows (a 500).
MIN_DATE, MAX_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
DATE_RANGE = Interval(ge=MIN_DATE, le=MAX_DATE)
WHEN = f"A date from {MIN_DATE} to {MAX_DATE}."
QueryDate = Annotated[date, DATE_RANGE, Query(description=WHEN)]
# In a body: a calendar date, never a number (services.schemas.InputDate), in range.
BodyDate = Annotated[InputDate, DATE_RANGE, Field(description=WHEN)]

# Text from a query string: no longer than any name or code we store.
TextQuery = Annotated[str | None, Query(max_length=100)]


def whole_number(raw: str, low: int = 1, high: int = MAX_INT) -> int | None:
    """``raw`` as an int when it is plain ASCII digits within ``low..high``, else None.

    ``str.isdigit`` alone is not enough: it accepts superscripts (``"²"``) that ``int``
    refuses, and any number of digits.
    """
    raw = raw.strip()
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        return None
    value = int(raw)
    return value if low <= value <= high else None
