"""Reading a pack from its form: the checklist (Yes / No / Not applicable per item), the
documents sent, and for a funding decision the Additional Funding Request. The result is
the body ``PanelService.submit_pack`` takes, or errors against the fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from app.api.params import whole_number
from app.web.forms import FormErrors, text
from panels.funding import QUESTIONS
from panels.results import ChecklistQuestion
from states.checklists import ANSWER_LABELS, ANSWERS_IN_WORDS

QUOTE_ROWS = 3
FUNDING_QUESTIONS = tuple((k, q) for k, q in QUESTIONS if k != "education")
TICKS = (
    ("commissioned_placement", "The support is inside a commissioned placement (no quotes needed)"),
    ("specialist_reports", "Specialist reports are attached"),
    ("signed_by_social_worker", "Signed by the social worker"),
    ("signed_by_team_manager", "Signed by the team manager"),
)
YES_NO = (("yes", "Yes"), ("no", "No"))
SCHOOL_TYPES = (("mainstream", "Mainstream"), ("special", "Special"), ("other", "Other"))


def read_checklist(
    form: FormData, items: list[ChecklistQuestion], errors: FormErrors
) -> dict[str, str]:
    """Every item answered: a missing answer is a form error; a No is an answer (the
    service then finds the pack incomplete and says so)."""
    answers = {}
    for item in items:
        name = f"checklist-{item.key}"
        value = text(form, name)
        if value not in ANSWER_LABELS:
            errors.add(name, f"Select {ANSWERS_IN_WORDS} for: {item.text}")
        else:
            answers[item.key] = value
    return answers


def read_documents(form: FormData, expected: list[str]) -> list[str] | None:
    """The expected documents ticked as sent (None when none is ticked: the referral's
    documents stay)."""
    ticked = [d for d in form.getlist("documents") if isinstance(d, str) and d in expected]
    return ticked or None


def _money(form: FormData, name: str, label: str, errors: FormErrors) -> Decimal | None:
    raw = text(form, name).replace(",", "").removeprefix("£")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.add(name, f"{label} must be an amount in pounds, like 4500 or 4500.50")
        return None
    if value < 0 or not value.is_finite():
        errors.add(name, f"{label} must be 0 or more")
        return None
    return value


def _yes_no(form: FormData, name: str) -> bool | None:
    value = text(form, name)
    return {"yes": True, "no": False}.get(value)


def read_funding(form: FormData, errors: FormErrors) -> dict[str, Any]:
    """The Additional Funding Request. Unanswered questions are allowed here: the service
    finds the pack incomplete and names them."""
    cost = _money(form, "annual_cost", "The annual cost", errors)
    if cost is None and not errors.by_field.get("annual_cost"):
        errors.add("annual_cost", "Enter the additional funding asked for, in pounds a year")
    months_raw = text(form, "duration_months")
    months = whole_number(months_raw, 1, 240)
    if months is None or not 1 <= months <= 240:
        errors.add("duration_months", "Enter how many months the funding is for, from 1 to 240")
    quotes = []
    for n in range(1, QUOTE_ROWS + 1):
        provider = text(form, f"quote-{n}-provider")
        amount = _money(form, f"quote-{n}-amount", f"The amount of quote {n}", errors)
        if provider and amount is None and not errors.by_field.get(f"quote-{n}-amount"):
            errors.add(f"quote-{n}-amount", f"Enter the amount of quote {n}")
        elif amount is not None and not provider:
            errors.add(f"quote-{n}-provider", f"Enter the provider of quote {n}")
        elif len(provider) > 200:
            errors.add(f"quote-{n}-provider", "The provider must be 200 characters or fewer")
        elif provider and amount is not None:
            quotes.append({"provider": provider, "amount": str(amount)})
    school = text(form, "current_school_type")
    return {
        "carers_names": text(form, "carers_names")[:300],
        "relationship_to_child": text(form, "relationship_to_child")[:200],
        "answers": {k: text(form, f"answer-{k}") for k, _ in FUNDING_QUESTIONS},
        "education": {
            "affects_school_placement": text(form, "affects_school_placement") == "yes",
            "has_ehc_plan": _yes_no(form, "has_ehc_plan"),
            "discussed_with_sena": _yes_no(form, "discussed_with_sena"),
            "sena_comments": text(form, "sena_comments"),
            "current_school_type": school if school in dict(SCHOOL_TYPES) else None,
        },
        "annual_cost": str(cost) if cost is not None else "0",
        "duration_months": months or 1,
        "quotes": quotes,
        **{k: text(form, k) == "yes" for k, _ in TICKS},
    }


def funding_values(funding: dict[str, Any]) -> dict[str, Any]:
    """Form values from a stored Additional Funding Request (to pre-fill the form)."""
    if not funding:
        return {}
    values: dict[str, Any] = {
        "carers_names": funding.get("carers_names", ""),
        "relationship_to_child": funding.get("relationship_to_child", ""),
        "annual_cost": funding.get("annual_cost", ""),
        "duration_months": funding.get("duration_months", ""),
    }
    values.update({f"answer-{k}": v for k, v in (funding.get("answers") or {}).items()})
    education = funding.get("education") or {}
    values["affects_school_placement"] = "yes" if education.get("affects_school_placement") else ""
    for key in ("has_ehc_plan", "discussed_with_sena"):
        flag = education.get(key)
        values[key] = "" if flag is None else ("yes" if flag else "no")
    values["sena_comments"] = education.get("sena_comments", "")
    values["current_school_type"] = education.get("current_school_type") or ""
    for n, q in enumerate(funding.get("quotes") or [], start=1):
        values[f"quote-{n}-provider"] = q.get("provider", "")
        values[f"quote-{n}-amount"] = q.get("amount", "")
    values.update({k: "yes" if funding.get(k) else "" for k, _ in TICKS})
    return values
