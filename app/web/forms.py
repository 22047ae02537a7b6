"""Reading HTML forms: errors kept per field for the GOV.UK error summary, and dates typed
as day, month and year (the GOV.UK date input pattern)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from app.api.params import MAX_YEAR, MIN_YEAR


@dataclass
class FormErrors:
    """Errors in page order; each names the id of the input it belongs to, so the error
    summary can link to it and the message can sit next to the field."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, field_id: str, message: str) -> None:
        """Record ``message`` against the input ``field_id`` (its first error only)."""
        if field_id not in self.by_field:
            self.items.append((field_id, message))

    @property
    def by_field(self) -> dict[str, str]:
        """Field id to its message, for showing the message next to the field."""
        return dict(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def text(form: FormData, name: str) -> str:
    """A text input, trimmed ('' when missing)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_date(
    form: FormData, name: str, label: str, errors: FormErrors, *, required: bool = True
) -> date | None:
    """A GOV.UK date input (``<name>-day``, ``-month``, ``-year``); an error names the part
    that is wrong, as the design system asks."""
    parts = {p: text(form, f"{name}-{p}") for p in ("day", "month", "year")}
    if not any(parts.values()):
        if required:
            errors.add(f"{name}-day", f"Enter {label.lower()}")
        return None
    missing = [p for p, v in parts.items() if not v]
    if missing:
        errors.add(f"{name}-{missing[0]}", f"{label} must include a {missing[0]}")
        return None
    try:
        day, month, year = (int(parts[p]) for p in ("day", "month", "year"))
    except ValueError:
        errors.add(f"{name}-day", f"{label} must be a real date, in numbers")
        return None
    if not 1000 <= year <= 9999:
        errors.add(f"{name}-year", f"{label} must include a year with 4 numbers")
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        # The service's dates (app/api/params.py): past them a computed deadline overflows.
        errors.add(f"{name}-year", f"{label} must be between {MIN_YEAR} and {MAX_YEAR}")
        return None
    try:
        return date(year, month, day)
    except ValueError:
        errors.add(f"{name}-day", f"{label} must be a real date")
        return None


def date_parts(value: date | str | None) -> dict[str, Any]:
    """Day, month and year to pre-fill a date input (from a date or an ISO string)."""
    if isinstance(value, str) and value:
        value = date.fromisoformat(value)
    if isinstance(value, date):
        return {"day": value.day, "month": value.month, "year": value.year}
    return {"day": "", "month": "", "year": ""}


def echo_date(form: FormData, name: str) -> dict[str, str]:
    """What the user typed into a date input, to show it back after an error."""
    return {p: text(form, f"{name}-{p}") for p in ("day", "month", "year")}
