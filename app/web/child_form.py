"""The "Add a child" form: reading it into the API's ``ChildCreate``, with GOV.UK-worded
errors next to each field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.api.params import whole_number
from app.web.forms import FormErrors, echo_date, read_date, text
from app.web.templating import humanise
from services.access import Principal
from services.plausible import birth_date_problem, looked_after_problem
from services.schemas import ChildCreate, LegalStatus
from states.roles import SOCIAL_WORKER

LEGAL_STATUSES: tuple[tuple[str, str], ...] = tuple(
    (s, "Section 20" if s == "section_20" else humanise(s)) for s in get_args(LegalStatus)
)
# Text inputs: what a missing one is called, and how long one may be (as ChildCreate).
_TEXT = {
    "reference": ("a reference", 50),
    "given_name": ("the child's first name", 100),
    "family_name": ("the child's last name", 100),
    "team": ("the child's team", 100),
}
_LABELS = {
    "reference": "Reference",
    "given_name": "First name",
    "family_name": "Last name",
    "team": "Team",
}
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]*")  # as ChildCreate.reference
_REFERENCE_RULE = (
    "Reference must start with a letter or number and use only letters, numbers, '/', '-' and '_'"
)


@dataclass(frozen=True)
class ChildFormChoices:
    """What the form offers this user: a team to type (users who see every team) and the
    social workers a child can be allocated to (a team's manager)."""

    choose_team: bool
    workers: list[tuple[str, str]]


def choices(principal: Principal, team_workers: list[tuple[str, str]]) -> ChildFormChoices:
    """A service-wide user types the team; a social worker's child is theirs, so only a
    manager of a team picks the social worker."""
    choose_team = principal.visible_teams() is None
    workers = [] if choose_team or SOCIAL_WORKER in principal.roles else team_workers
    return ChildFormChoices(choose_team, workers)


def echo(form: FormData | None) -> dict[str, Any]:
    """What was typed, to show it back (empty for a fresh form)."""
    names = ("reference", "given_name", "family_name", "legal_status", "team", "worker")
    values: dict[str, Any] = {n: text(form, n) if form else "" for n in names}
    for n in ("date_of_birth", "looked_after_since"):
        values[n] = echo_date(form, n) if form else {"day": "", "month": "", "year": ""}
    return values


def read(
    form: FormData, form_choices: ChildFormChoices, errors: FormErrors, *, today: date
) -> ChildCreate | None:
    """The child to record, or None with ``errors`` filled in."""
    born = read_date(form, "date_of_birth", "Date of birth", errors)
    since = read_date(
        form, "looked_after_since", "Date they became looked after", errors, required=False
    )
    born_problem = born and birth_date_problem(born, today)
    if born_problem:
        errors.add("date_of_birth-day", f"Date of birth {born_problem}")
    since_problem = since and looked_after_problem(since, born, today)
    if since_problem:
        errors.add("looked_after_since-day", f"Date they became looked after {since_problem}")
    status = text(form, "legal_status")
    if status and status not in dict(LEGAL_STATUSES):
        errors.add("legal_status", "Select the child's legal status")
    worker = text(form, "worker")
    if worker and worker not in {w for w, _ in form_choices.workers}:
        errors.add("worker", "Select a social worker of the team")
    body: dict[str, Any] = {
        "reference": text(form, "reference"),
        "given_name": text(form, "given_name"),
        "family_name": text(form, "family_name"),
        "date_of_birth": born or today,
        "looked_after_since": since,
        "legal_status": status or None,
        "team": (text(form, "team") or None) if form_choices.choose_team else None,
        "allocated_social_worker_id": whole_number(worker),
    }
    for name, (words, limit) in _TEXT.items():
        if name == "team" and not form_choices.choose_team:
            continue
        if not body[name]:
            errors.add(name, f"Enter {words}")
        elif len(body[name]) > limit:
            errors.add(name, f"{_LABELS[name]} must be {limit} characters or fewer")
        elif name == "reference" and not _REFERENCE.fullmatch(body[name]):
            errors.add(name, _REFERENCE_RULE)
    if errors:
        return None
    try:
        return ChildCreate.model_validate(body)
    except ValidationError as exc:
        # What is left is the reference's pattern (the rest was checked above).
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "reference"
            errors.add(name, _REFERENCE_RULE if name == "reference" else f"Check {name}")
        return None


def ordered(errors: FormErrors) -> FormErrors:
    """The errors in the order the fields appear on the page (the summary follows it)."""
    order = [
        "reference",
        "given_name",
        "family_name",
        "date_of_birth",
        "looked_after_since",
        "legal_status",
        "team",
        "worker",
    ]

    def position(item: tuple[str, str]) -> int:
        base = item[0].rsplit("-", 1)[0] if "-" in item[0] else item[0]
        return order.index(base) if base in order else len(order)

    return FormErrors(sorted(errors.items, key=position))
