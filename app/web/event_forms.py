"""Forms for a journey event's data, built from the event's declared fields.

Each field type has one GOV.UK input: a date is a date input (day, month, year), a choice
is radios (a select when the list is long), a boolean is Yes / No radios, a number is a
numeric text input, text is a textarea (a short string an input), and a checklist is one
Yes / No / Not applicable question per item. Reading a posted form gives the ``data`` the
engine takes, plus GOV.UK-worded errors for what is missing or malformed; what the engine
still refuses (a bound, a guard) is put next to the field it names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.templating import humanise
from states.checklists import ALL as ALL_CHECKLISTS
from states.checklists import BY_PLACEMENT_KIND
from workflow import fields as field_rules
from workflow.definition import Field
from workflow.errors import EngineError

# Longer lists of choices are a select rather than radios (GOV.UK: radios for a few).
MAX_RADIOS = 8
OCCURRED_ON = "occurred_on"
OCCURRED_ON_LABEL = "Date this happened"
_TEXT_LIMITS = {"string": 200, "text": 5000}
_INTEGER = re.compile(r"-?[0-9]{1,18}")
CHECKLIST_OPTIONS = (("yes", "Yes"), ("no", "No"), ("not_applicable", "Not applicable"))

# Every checklist item's wording, by key (the items are shared between checklists).
_ITEM_WORDING = {k: w for c in ALL_CHECKLISTS.values() for k, w in c.items}


@dataclass(frozen=True)
class ChecklistItem:
    """One question of a checklist field."""

    key: str
    label: str
    input_name: str


@dataclass(frozen=True)
class FormField:
    """An event field as the form shows it."""

    name: str
    input_name: str
    widget: str  # date | radios | select | yes_no | number | textarea | input | checklist
    label: str
    required: bool
    hint: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    items: tuple[ChecklistItem, ...] = ()
    inputmode: str | None = None
    spec: Field | None = field(default=None, compare=False, repr=False)

    @property
    def error_id(self) -> str:
        """The id of the input an error about this field links to."""
        if self.widget == "date":
            return f"{self.input_name}-day"
        if self.widget == "checklist" and self.items:
            return self.items[0].input_name
        return self.input_name

    @property
    def legend(self) -> str:
        """The label with "(optional)" for an optional field, as GOV.UK asks."""
        return self.label if self.required else f"{self.label} (optional)"


def input_name(name: str) -> str:
    """The form input of event field ``name`` (prefixed, so it can never collide with the
    form's own inputs such as the date it happened or the CSRF token)."""
    return f"f_{name}"


def _number_hint(spec: Field, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return f"Enter {kind} from {low:g} to {high:g}"
    if low is not None:
        return f"Enter {kind}, {low:g} or more"
    if high is not None:
        return f"Enter {kind}, {high:g} or less"
    return f"Enter {kind}"


def _checklist_items(spec: Field, journey_data: Mapping[str, Any]) -> tuple[ChecklistItem, ...]:
    """The checklist's questions: those of the journey's placement kind when it has one
    (the engine refuses items of another kind's checklist), else every item allowed."""
    keys: Iterable[str] = spec.choices
    by_kind = BY_PLACEMENT_KIND.get(str(journey_data.get("placement_kind")))
    if by_kind is not None and set(by_kind.item_keys) <= set(spec.choices):
        keys = by_kind.item_keys
    return tuple(
        ChecklistItem(k, _ITEM_WORDING.get(k, humanise(k)), f"{input_name(spec.name)}__{k}")
        for k in keys
    )


def form_fields(specs: Iterable[Field], journey_data: Mapping[str, Any]) -> list[FormField]:
    """The form's fields for an event's (or a journey start's) declared fields."""
    out: list[FormField] = []
    for spec in specs:
        described = field_rules.describe(spec)
        label = described.get("label") or humanise(spec.name)
        name = input_name(spec.name)
        common: dict[str, Any] = {
            "name": spec.name,
            "input_name": name,
            "label": label,
            "required": spec.required,
            "spec": spec,
        }
        kind = described["type"]
        if kind == "date":
            out.append(FormField(widget="date", **common))
        elif kind == "choice":
            options = tuple((c, humanise(c)) for c in described.get("choices", ()))
            widget = "radios" if len(options) <= MAX_RADIOS else "select"
            out.append(FormField(widget=widget, options=options, **common))
        elif kind == "boolean":
            out.append(FormField(widget="yes_no", options=(("yes", "Yes"), ("no", "No")), **common))
        elif kind in ("integer", "decimal"):
            whole = kind == "integer"
            out.append(
                FormField(
                    widget="number",
                    hint=_number_hint(spec, whole),
                    inputmode="numeric" if whole else "decimal",
                    **common,
                )
            )
        elif kind == "checklist":
            out.append(
                FormField(
                    widget="checklist",
                    items=_checklist_items(spec, journey_data),
                    options=CHECKLIST_OPTIONS,
                    **common,
                )
            )
        elif kind == "text":
            out.append(FormField(widget="textarea", **common))
        else:
            out.append(FormField(widget="input", **common))
    return out


def echo(form: FormData | None, fields: Iterable[FormField]) -> dict[str, Any]:
    """What the user typed, by input name, to show it back (empty for a fresh form)."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.widget == "date":
            values[f.input_name] = (
                echo_date(form, f.input_name) if form else {"day": "", "month": "", "year": ""}
            )
        elif f.widget == "checklist":
            values[f.input_name] = {
                i.key: (text(form, i.input_name) if form else "") for i in f.items
            }
        else:
            raw = form.get(f.input_name) if form else None
            values[f.input_name] = raw if isinstance(raw, str) else ""
    return values


def _read_number(f: FormField, raw: str, errors: FormErrors) -> int | float | None:
    assert f.spec is not None
    whole = f.spec.type == "integer"
    cleaned = raw.replace(",", "").replace("£", "").strip()
    number: float
    if whole:
        if not _INTEGER.fullmatch(cleaned):
            errors.add(f.error_id, f"{f.label} must be a whole number")
            return None
        number = int(cleaned)
    else:
        try:
            number = float(cleaned)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            errors.add(f.error_id, f"{f.label} must be a number")
            return None
    low, high = f.spec.minimum, f.spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        errors.add(f.error_id, _number_hint(f.spec, whole).replace("Enter", f"{f.label} must be"))
        return None
    return number


def read_data(form: FormData, fields: Iterable[FormField], errors: FormErrors) -> dict[str, Any]:
    """The event's ``data`` from a posted form; blanks are left out (so the engine sees a
    missing optional field as missing), and each problem is added to ``errors``."""
    data: dict[str, Any] = {}
    for f in fields:
        value: Any = None
        if f.widget == "date":
            day = read_date(form, f.input_name, f.label, errors, required=f.required)
            value = day.isoformat() if day else None
        elif f.widget == "checklist":
            answers = {i.key: text(form, i.input_name) for i in f.items}
            allowed = {v for v, _ in f.options}
            for item in f.items:
                answer = answers[item.key]
                if answer and answer not in allowed:
                    errors.add(item.input_name, f"Select an answer for: {item.label}")
                elif not answer and f.required:
                    errors.add(
                        item.input_name, f"Select Yes, No or Not applicable for: {item.label}"
                    )
            given = {k: v for k, v in answers.items() if v in allowed}
            value = given or None
        else:
            raw = text(form, f.input_name)
            if not raw:
                value = None
            elif f.widget in ("radios", "select", "yes_no"):
                if raw not in {v for v, _ in f.options}:
                    errors.add(f.error_id, f"Select {f.label.lower()}")
                    continue
                value = raw == "yes" if f.widget == "yes_no" else raw
            elif f.widget == "number":
                value = _read_number(f, raw, errors)
                if value is None:
                    continue
            else:
                assert f.spec is not None
                limit = _TEXT_LIMITS.get(f.spec.type, 200)
                if len(raw) > limit:
                    errors.add(f.error_id, f"{f.label} must be {limit} characters or fewer")
                    continue
                value = raw
        if value is None:
            if f.required and f.error_id not in errors.by_field and f.widget != "date":
                verb = "Select" if f.widget in ("radios", "select", "yes_no") else "Enter"
                errors.add(f.error_id, f"{verb} {f.label.lower()}")
            continue
        data[f.name] = value
    return data


def _add(errors: FormErrors, field_id: str, message: str) -> None:
    """Add ``message`` to ``field_id``, joining it to an error already there (FormErrors
    keeps one message per field; the engine may give two about one field)."""
    if field_id in errors.by_field:
        errors.items = [(f, f"{m} {message}" if f == field_id else m) for f, m in errors.items]
    else:
        errors.add(field_id, message)


def _mentioned(message: str, fields: Iterable[FormField]) -> str | None:
    """The input of the field ``message`` mentions first, if any; a checklist item it
    names wins over the checklist as a whole (the message is about that item)."""
    lowered = message.lower()
    best_field: tuple[int, str] | None = None
    best_item: tuple[int, str] | None = None
    for f in fields:
        for item in f.items:
            for word in (item.key, item.key.replace("_", " ")):
                at = lowered.find(word)
                if at >= 0 and (best_item is None or at < best_item[0]):
                    best_item = (at, item.input_name)
        for word in (f.name, f.name.replace("_", " "), f.label.lower()):
            at = lowered.find(word.lower())
            if at >= 0 and (best_field is None or at < best_field[0]):
                best_field = (at, f.error_id)
    best = best_item or best_field
    return best[1] if best else None


def engine_errors(
    exc: EngineError, fields: list[FormField], errors: FormErrors, *, date_field: str = OCCURRED_ON
) -> None:
    """Put the engine's refusal of the form's data next to the fields it is about.

    Invalid data names its field first ("weeks must be at most 8", "occurred_on ... is
    after today"); a failed guard says why in words, so it goes to the field it mentions
    first, or else to the first field of the form (or the date it happened). The engine
    calls the date an event happened (or a journey started) ``occurred_on``; on the form it
    is the date input ``date_field``.
    """
    by_name = {f.name: f for f in fields}
    fallback = fields[0].error_id if fields else f"{date_field}-day"
    details = exc.details.get("errors") or exc.details.get("reasons") or [exc.message]
    for detail in details:
        message = str(detail)
        head, _, rest = message.partition(" ")
        if head == OCCURRED_ON:
            _add(errors, f"{date_field}-day", exc.message)
        elif "errors" in exc.details and head in by_name:
            f = by_name[head]
            _add(errors, f.error_id, f"{f.label} {rest}")
        else:
            _add(errors, _mentioned(message, fields) or fallback, message)
