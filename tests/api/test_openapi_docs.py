"""The OpenAPI schema documents each operation's refusals with the body the API really
sends, and a typed answer for every JSON operation (schemathesis checks the answers
themselves: tests/api/test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import Engine

from app.api.responses import BreachOut, EscalationOut, NotificationOut
from notifications.policy import Policies
from tests.conftest import Staff
from tests.reminder_support import d, first_review_child, run_days

ERROR = {"$ref": "#/components/schemas/ErrorOut"}


def _operations(app_client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    paths = app_client.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), path, op)
        for path, ops in paths.items()
        if path.startswith("/api/")
        for method, op in ops.items()
    ]


def _error_schema(op: dict[str, Any], code: str) -> Any:
    return op["responses"][code]["content"]["application/json"]["schema"]


def test_refusals_are_documented_with_the_error_body(app_client: TestClient) -> None:
    operations = _operations(app_client)
    assert len(operations) >= 50
    for method, path, op in operations:
        codes = set(op["responses"])
        if path != "/api/v1/auth/token":
            assert "401" in codes, (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in codes, (method, path)
        if op.get("requestBody"):
            assert "400" in codes, (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in codes, (method, path)
        for code in codes - {"200", "201", "202"}:  # 202: an import queued
            # Not FastAPI's default {"detail": ...}: our handlers' {"error", "message"}.
            assert _error_schema(op, code) == ERROR, (method, path, code)


def test_every_json_answer_is_typed(app_client: TestClient) -> None:
    untyped = []
    for method, path, op in _operations(app_client):
        ok = op["responses"].get("200") or op["responses"]["201"]
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if not schema:
            untyped.append(f"{method} {path}")
    assert untyped == []


def test_notification_answers_match_their_models(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    """Real rows (a missed review escalated, acknowledged, in the register) read as the
    documented models: every required field there, of its type."""
    first_review_child(staff.sw)  # first review due Tue 26 May 2026
    run_days(engine, policies, d("2026-05-01"), d("2026-05-27"))
    inbox = staff.tm.get("/notifications").json()
    escalations = staff.sd.get("/escalations?status=all").json()
    assert inbox and escalations
    TypeAdapter(list[NotificationOut]).validate_python(inbox)
    TypeAdapter(list[EscalationOut]).validate_python(escalations)
    tm_rung = next(e for e in escalations if e["level"] == "team_manager")
    answer = staff.tm.post(f"/escalations/{tm_rung['id']}/acknowledge", {"comment": "Booked."})
    assert answer.status_code == 200, answer.text
    EscalationOut.model_validate(answer.json())
    breaches = staff.sd.get("/breaches?as_of=2026-06-01").json()
    assert breaches and breaches[0]["escalations"]
    TypeAdapter(list[BreachOut]).validate_python(breaches)
