"""Validation of the data an event takes, against its declared fields.

Each problem is a :class:`~workflow.errors.FieldError`: the field, a code and the sentence
the API answers with. A form words a problem for itself from its code and the field's
declaration (its limits, :func:`max_length`), so it neither re-checks a rule nor reads the
sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from workflow.definition import Field
from workflow.errors import ErrorCode, FieldError

_MAX_LEN = {"string": 200, "text": 5000, "choice": 100}
_WHOLE_NUMBER = re.compile(r"\s*-?[0-9]{1,18}\s*")

# A coerced value, or the problem (code and the sentence after the field's name).
_Coerced = tuple[Any, tuple[ErrorCode, str] | None]


def max_length(spec: Field) -> int | None:
    """The most characters a text-like field takes (None for fields that are not text)."""
    if spec.type in ("date", "boolean", "integer", "decimal", "checklist"):
        return None
    return _MAX_LEN.get(spec.type, 200)


def _coerce(spec: Field, value: Any) -> _Coerced:
    kind = spec.type
    if kind == "date":
        if isinstance(value, date):
            return value, None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value), None
            except ValueError:
                pass
        return None, ("not_a_date", "must be a date (YYYY-MM-DD)")
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in {"true", "false", "yes", "no"}:
            return value.lower() in {"true", "yes"}, None
        return None, ("not_a_boolean", "must be true or false")
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            number: float = value
        elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
            number = int(value)
        else:
            return None, ("not_a_number", "must be a whole number")
        return _bounded(spec, number, int(number))
    if kind == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value))
            except ValueError:
                return None, ("not_a_number", "must be a number")
        if not math.isfinite(number):  # NaN and infinity have no place in JSON
            return None, ("not_a_number", "must be a number")
        return _bounded(spec, number, number)
    if kind == "checklist":
        return _checklist(spec, value)
    if not isinstance(value, str):
        return None, ("not_text", "must be text")
    value = value.strip()
    limit = _MAX_LEN.get(kind, 200)
    if len(value) > limit:
        return None, ("too_long", f"must be at most {limit} characters")
    if kind == "choice" and value not in spec.choices:
        return None, ("not_a_choice", f"must be one of: {', '.join(spec.choices)}")
    return value, None


# The answers a checklist item takes (Yes / No / Not applicable), and those that make the
# item complete: a "no" means the pack is missing something. Everything that reads or
# words checklist answers takes them from here (words: ``states.checklists``).
CHECKLIST_ANSWERS: tuple[str, ...] = ("yes", "no", "not_applicable")
CHECKLIST_COMPLETE: frozenset[str] = frozenset({"yes", "not_applicable"})


def _checklist(spec: Field, value: Any) -> _Coerced:
    if not isinstance(value, Mapping):
        return None, ("not_a_checklist", "must be an object of item: answer")
    unknown = [k for k in value if k not in spec.choices]
    if unknown:
        return None, ("unknown_items", f"has unknown items: {', '.join(map(str, unknown))}")
    bad = [k for k, v in value.items() if v not in CHECKLIST_ANSWERS]
    if bad:
        return None, (
            "bad_answers",
            f"answers must be one of {', '.join(CHECKLIST_ANSWERS)} (wrong for: {', '.join(bad)})",
        )
    return dict(value), None


def _bounded(spec: Field, number: float, value: Any) -> _Coerced:
    if spec.minimum is not None and number < spec.minimum:
        return None, ("too_small", f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and number > spec.maximum:
        return None, ("too_large", f"must be at most {spec.maximum:g}")
    return value, None


def validate(
    fields: tuple[Field, ...], raw: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check ``raw`` against ``fields``: the clean values (dates as ``date``) and the problems,
    unknown fields first, then the declared fields in order (at most one problem each)."""
    raw = raw or {}
    known = {f.name: f for f in fields}
    errors = [
        FieldError(str(name), "unknown_field", f"unknown field {name!r}")
        for name in raw
        if name not in known
    ]
    clean: dict[str, Any] = {}
    for spec in fields:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors.append(FieldError(spec.name, "required", f"{spec.name} is required"))
            continue
        coerced, problem = _coerce(spec, value)
        if problem:
            code, predicate = problem
            errors.append(FieldError(spec.name, code, f"{spec.name} {predicate}"))
        else:
            clean[spec.name] = coerced
    return clean, errors


def to_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same data with dates as ISO strings, ready for a JSON column."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


def describe(spec: Field) -> dict[str, Any]:
    """A field as the API describes it."""
    out: dict[str, Any] = {"name": spec.name, "type": spec.type, "required": spec.required}
    if spec.choices:
        out["choices"] = list(spec.choices)
    if spec.label:
        out["label"] = spec.label
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    return out
