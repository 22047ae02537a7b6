"""Plain-dict rendering of journey views: the hot path skips response-model validation."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import orjson
from fastapi import Response

from services.journeys import JourneyView


def json_response(data: Any, status_code: int = 200) -> Response:
    """JSON bytes straight from orjson (dates and dataclasses included), no re-validation."""
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


_VIEW_FIELDS = tuple(f.name for f in fields(JourneyView))


def journey_json(view: JourneyView) -> dict[str, Any]:
    """A journey view as JSON-ready data (the shape of ``schemas.JourneyOut``).

    Shallow: nested dataclasses (the deadlines) are left for orjson, which serialises them
    field by field just as ``dataclasses.asdict`` would, without asdict's deep copy.
    """
    out = {name: getattr(view, name) for name in _VIEW_FIELDS}
    out["available_events"] = [
        {"event": o.event, "allowed": o.allowed, "reasons": list(o.reasons)}
        for o in view.available_events
    ]
    return out
