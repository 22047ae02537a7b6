"""Forms for a journey event's data, built from the event's declared fields.

Each field type has one GOV.UK input: a date is a date input (day, month, year), a choice
is radios (a select when the list is long), a boolean is Yes / No radios, a number is a
numeric text input, text is a textarea (a short string an input), and a checklist is one
Yes / No / Not applicable question per item. Reading a posted form gives the ``data`` the
engine takes, plus GOV.UK-worded errors for what the form cannot read (a blank required
input, a date that is not one); what the engine refuses is put next to its field, worded by
the field error's code (a bound, a length, a choice), or, for a guard, next to the field its
reason mentions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.templating import humanise
from states.checklists import ALL as ALL_CHECKLISTS
from states.checklists import ANSWER_CHOICES, ANSWERS_IN_WORDS, BY_PLACEMENT_KIND
from workflow import fields as field_rules
from workflow.definition import Field
from workflow.engine import OCCURRED_ON as EVENT_DATE
from workflow.errors import EngineError, FieldError, GuardFailed, InvalidData

# Longer lists of choices are a select rather than radios (GOV.UK: radios for a few).
MAX_RADIOS = 8
OCCURRED_ON = "occurred_on"
OCCURRED_ON_LABEL = "Date this happened"
# Widgets the user chooses from (their errors say "Select", not "Enter").
_CHOOSE = ("radios", "select", "yes_no")

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
                    options=ANSWER_CHOICES,
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


def _number_input(raw: str) -> str:
    """A typed number as the engine reads numbers: without thousands commas or a pound
    sign (what is left, if anything, is the engine's to judge)."""
    return raw.replace(",", "").replace("£", "").strip() or raw


def read_input(form: FormData, fields: Iterable[FormField], errors: FormErrors) -> dict[str, Any]:
    """The event's ``data`` from a posted form, each input read as its widget reads it, and
    what the form itself cannot read added to ``errors``: a required input left blank, a date
    that is not a date, an answer the form did not offer. Blanks are left out (so the engine
    sees a missing optional field as missing). Whether a value is valid (a number's limits, a
    text's length, a choice) is the engine's rule: :func:`engine_errors` words its refusal."""
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
                    errors.add(item.input_name, f"Select {ANSWERS_IN_WORDS} for: {item.label}")
            given = {k: v for k, v in answers.items() if v in allowed}
            value = given or None
        else:
            raw = text(form, f.input_name)
            if not raw:
                value = None
            elif f.widget == "yes_no":
                # Yes / No radios are read as true or false; anything else was not offered.
                if raw not in {v for v, _ in f.options}:
                    errors.add(f.error_id, f"Select {f.label.lower()}")
                    continue
                value = raw == "yes"
            elif f.widget == "number":
                value = _number_input(raw)
            else:
                value = raw
        if value is None:
            if f.required and f.error_id not in errors.by_field and f.widget != "date":
                verb = "Select" if f.widget in _CHOOSE else "Enter"
                errors.add(f.error_id, f"{verb} {f.label.lower()}")
            continue
        data[f.name] = value
    return data


def read_data(form: FormData, fields: list[FormField], errors: FormErrors) -> dict[str, Any]:
    """:func:`read_input`, then the fields' own rules (:func:`workflow.fields.validate`) with
    each problem worded next to its field: for a form that checks its data before it asks
    the service (the start of a journey); an event's form leaves that to the service's one
    call (``JourneyService.record``)."""
    data = read_input(form, fields, errors)
    _clean, problems = field_rules.validate(tuple(f.spec for f in fields if f.spec), data)
    field_errors(problems, fields, errors)
    return data


def _input_ids(f: FormField) -> tuple[str, ...]:
    """Every input of a field an error may be against."""
    if f.widget == "date":
        return tuple(f"{f.input_name}-{p}" for p in ("day", "month", "year"))
    return (f.input_name, *(i.input_name for i in f.items))


def _worded(f: FormField, problem: FieldError) -> str:
    """The engine's problem with a field in the form's words, chosen by its code."""
    if f.widget in _CHOOSE:
        return f"Select {f.label.lower()}"
    if problem.code == "required":
        return f"Enter {f.label.lower()}"
    spec = f.spec
    if spec is not None and problem.code == "not_a_number":
        kind = "a whole number" if spec.type == "integer" else "a number"
        return f"{f.label} must be {kind}"
    if spec is not None and problem.code in ("too_small", "too_large"):
        return _number_hint(spec, spec.type == "integer").replace("Enter", f"{f.label} must be")
    if spec is not None and problem.code == "too_long":
        return f"{f.label} must be {field_rules.max_length(spec)} characters or fewer"
    # What a form's inputs cannot produce (an unknown field, a checklist that is not one):
    # the engine's own sentence.
    return problem.message


def field_errors(
    problems: Iterable[FieldError],
    fields: list[FormField],
    errors: FormErrors,
    *,
    date_field: str = OCCURRED_ON,
    date_message: str = "",
    date_label: str | None = None,
) -> None:
    """Put the engine's field errors next to their inputs, in the page's order (the date
    first, as the form reads it, then the fields in order).

    A field the form has already refused keeps the form's message: the engine saw it blank
    because the form could not read it. The engine calls the date an event happened (or a
    journey started) ``occurred_on``; on the form it is the date input ``date_field``, and
    its problem reads ``date_message`` or, for a date after today when the form names its
    date, "``date_label`` must be today or in the past".
    """
    by_name = {f.name: f for f in fields}
    fallback = fields[0].error_id if fields else f"{date_field}-day"
    date_ids = tuple(f"{date_field}-{p}" for p in ("day", "month", "year"))
    for problem in problems:
        if problem.field == EVENT_DATE:
            if any(i in errors.by_field for i in date_ids):
                continue
            if date_label and problem.code == "in_the_future":
                _add(errors, date_ids[0], f"{date_label} must be today or in the past")
            else:
                _add(errors, date_ids[0], date_message or problem.message)
            continue
        f = by_name.get(problem.field)
        if f is None:
            _add(errors, fallback, problem.message)
        elif not any(i in errors.by_field for i in _input_ids(f)):
            errors.add(f.error_id, _worded(f, problem))
    # The form's own inputs (the date) come first, as it reads them, then the fields.
    rank = {i: n for n, f in enumerate(fields, start=1) for i in _input_ids(f)}
    errors.items.sort(key=lambda item: rank.get(item[0], 0))


def _add(errors: FormErrors, field_id: str, message: str) -> None:
    """Add ``message`` to ``field_id``, joining it to an error already there (FormErrors
    keeps one message per field; a guard may give two about one field)."""
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
    exc: EngineError,
    fields: list[FormField],
    errors: FormErrors,
    *,
    date_field: str = OCCURRED_ON,
    date_label: str | None = None,
) -> None:
    """Put the engine's refusal of the form's data next to the fields it is about.

    Invalid data comes as field errors (:func:`field_errors`; a refused date reads as the
    refusal's message). A guard says why in words and names no field, so each reason goes
    to the field it mentions first, or else to the first field of the form (or the date it
    happened).
    """
    if isinstance(exc, InvalidData) and (exc.field_errors or not exc.details.get("errors")):
        field_errors(
            exc.field_errors,
            fields,
            errors,
            date_field=date_field,
            date_message=exc.message,
            date_label=date_label,
        )
        return
    fallback = fields[0].error_id if fields else f"{date_field}-day"
    if isinstance(exc, GuardFailed) and exc.reasons:
        words: list[str] = list(exc.reasons)
    else:
        words = [str(d) for d in exc.details.get("errors") or ()] or [exc.message]
    for message in words:
        _add(errors, _mentioned(message, fields) or fallback, message)
