"""Validation of event data (workflow/fields.py): clean values, and each problem as a
structured error (field, code, sentence) that a form can word for itself. Pure: no database.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from workflow.definition import Field
from workflow.errors import ErrorCode, FieldError, InvalidData
from workflow.fields import CHECKLIST_ANSWERS, max_length, validate

WEEKS = Field("weeks", "integer", required=True, minimum=1, maximum=8)
AMOUNT = Field("amount", "decimal", minimum=0)
CAP = Field("cap", "decimal", maximum=2.5)
ON = Field("on", "date")
AGREED = Field("agreed", "boolean")
NAME = Field("name", "string")
NOTES = Field("notes", "text")
PLAN = Field("plan", "choice", choices=("adoption", "sgo"))
CHECKS = Field("checks", "checklist", choices=("views", "care_plan"))


def _problem(spec: Field, value: Any) -> FieldError:
    """The one problem ``value`` has as ``spec``'s value."""
    clean, errors = validate((spec,), {spec.name: value})
    assert spec.name not in clean
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    ("spec", "value", "code", "message"),
    [
        (ON, "2026-02-30", "not_a_date", "on must be a date (YYYY-MM-DD)"),
        (ON, 20260101, "not_a_date", "on must be a date (YYYY-MM-DD)"),
        (AGREED, "perhaps", "not_a_boolean", "agreed must be true or false"),
        (AGREED, 1, "not_a_boolean", "agreed must be true or false"),
        (WEEKS, "3.5", "not_a_number", "weeks must be a whole number"),
        (WEEKS, True, "not_a_number", "weeks must be a whole number"),
        (WEEKS, "9" * 19, "not_a_number", "weeks must be a whole number"),
        (AMOUNT, "lots", "not_a_number", "amount must be a number"),
        (AMOUNT, "nan", "not_a_number", "amount must be a number"),
        (AMOUNT, float("inf"), "not_a_number", "amount must be a number"),
        (WEEKS, 0, "too_small", "weeks must be at least 1"),
        (WEEKS, "-2", "too_small", "weeks must be at least 1"),
        (WEEKS, 9, "too_large", "weeks must be at most 8"),
        (AMOUNT, -0.01, "too_small", "amount must be at least 0"),
        (CAP, "2.51", "too_large", "cap must be at most 2.5"),
        (NAME, 42, "not_text", "name must be text"),
        (NAME, "x" * 201, "too_long", "name must be at most 200 characters"),
        (NOTES, "x" * 5001, "too_long", "notes must be at most 5000 characters"),
        (PLAN, "y" * 101, "too_long", "plan must be at most 100 characters"),
        (PLAN, "fostering", "not_a_choice", "plan must be one of: adoption, sgo"),
        (CHECKS, ["views"], "not_a_checklist", "checks must be an object of item: answer"),
        (CHECKS, {"health": "yes"}, "unknown_items", "checks has unknown items: health"),
        (
            CHECKS,
            {"views": "maybe", "care_plan": "yes"},
            "bad_answers",
            "checks answers must be one of yes, no, not_applicable (wrong for: views)",
        ),
    ],
)
def test_each_problem_has_its_field_code_and_sentence(
    spec: Field, value: Any, code: ErrorCode, message: str
) -> None:
    assert _problem(spec, value) == FieldError(spec.name, code, message)


def test_a_required_field_missing_or_blank_is_required_and_an_optional_one_is_left_out() -> None:
    fields = (WEEKS, NAME)
    for raw in ({}, {"weeks": None}, {"weeks": "   "}, {"weeks": ""}):
        clean, errors = validate(fields, raw)
        assert clean == {}
        assert errors == [FieldError("weeks", "required", "weeks is required")]
    clean, errors = validate(fields, {"weeks": 2, "name": "  "})
    assert (clean, errors) == ({"weeks": 2}, [])
    assert validate(fields, None) == ({}, [FieldError("weeks", "required", "weeks is required")])


def test_unknown_fields_come_first_then_the_declared_fields_in_order() -> None:
    fields = (WEEKS, NAME, PLAN)
    _clean, errors = validate(fields, {"plan": "nope", "extra": 1, "name": 5})
    assert errors == [
        FieldError("extra", "unknown_field", "unknown field 'extra'"),
        FieldError("weeks", "required", "weeks is required"),
        FieldError("name", "not_text", "name must be text"),
        FieldError("plan", "not_a_choice", "plan must be one of: adoption, sgo"),
    ]


def test_valid_values_come_back_clean() -> None:
    fields = (WEEKS, AMOUNT, ON, AGREED, NAME, PLAN, CHECKS)
    clean, errors = validate(
        fields,
        {
            "weeks": " 7 ",
            "amount": "1e3",
            "on": "2026-03-27",
            "agreed": "Yes",
            "name": "  Sam  ",
            "plan": "sgo",
            "checks": {"views": "not_applicable"},
        },
    )
    assert errors == []
    assert clean == {
        "weeks": 7,
        "amount": 1000.0,
        "on": date(2026, 3, 27),
        "agreed": True,
        "name": "Sam",
        "plan": "sgo",
        "checks": {"views": "not_applicable"},
    }
    assert isinstance(clean["weeks"], int) and isinstance(clean["amount"], float)
    assert validate((AGREED, ON), {"agreed": "false", "on": date(2026, 1, 2)})[0] == {
        "agreed": False,
        "on": date(2026, 1, 2),
    }


def test_limits_are_inclusive() -> None:
    assert validate((WEEKS,), {"weeks": 1}) == ({"weeks": 1}, [])
    assert validate((WEEKS,), {"weeks": "8"}) == ({"weeks": 8}, [])
    assert validate((CAP, AMOUNT), {"cap": 2.5, "amount": 0}) == ({"cap": 2.5, "amount": 0.0}, [])
    assert validate((NAME,), {"name": "x" * 200})[1] == []


def test_max_length_is_the_limit_too_long_is_about() -> None:
    assert (max_length(NAME), max_length(NOTES), max_length(PLAN)) == (200, 5000, 100)
    assert [max_length(f) for f in (WEEKS, AMOUNT, ON, AGREED, CHECKS)] == [None] * 5
    for spec in (NAME, NOTES, PLAN):
        limit = max_length(spec)
        assert limit is not None
        assert validate((spec,), {spec.name: "a" * (limit + 1)})[1][0].code == "too_long"


def test_checklist_answers_are_the_three() -> None:
    assert CHECKLIST_ANSWERS == ("yes", "no", "not_applicable")
    answers = dict(zip(("views", "care_plan"), CHECKLIST_ANSWERS, strict=False))
    assert validate((CHECKS,), {"checks": answers}) == ({"checks": answers}, [])


def test_a_field_error_is_a_frozen_value() -> None:
    error = FieldError("weeks", "too_large", "weeks must be at most 8")
    assert error == FieldError("weeks", "too_large", "weeks must be at most 8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.code = "required"  # type: ignore[misc]


def test_invalid_data_carries_the_errors_and_answers_with_their_sentences() -> None:
    _clean, errors = validate((WEEKS, PLAN), {"weeks": 9, "plan": "x"})
    refused = InvalidData("The event's data is not valid.", field_errors=errors)
    assert refused.field_errors == tuple(errors)
    assert refused.body() == {
        "error": "invalid_data",
        "message": "The event's data is not valid.",
        "errors": ["weeks must be at most 8", "plan must be one of: adoption, sgo"],
    }
    assert refused.status_code == 422


def test_invalid_data_with_sentences_only_keeps_them() -> None:
    refused = InvalidData("The child's team is required.", errors=["team is required"])
    assert refused.field_errors == ()
    assert refused.body() == {
        "error": "invalid_data",
        "message": "The child's team is required.",
        "errors": ["team is required"],
    }
    assert InvalidData("Nothing listed.").body() == {
        "error": "invalid_data",
        "message": "Nothing listed.",
    }
