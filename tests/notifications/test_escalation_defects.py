"""Issue 10 item 9: a blank acknowledgement is refused, a senior's acknowledgement fills in
the rungs below it, escalations count overdue days to the sweep's date, and list settings
take the comma form or say clearly what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from notifications import service
from notifications.policy import Policies
from services.config import Settings
from tests.conftest import Staff
from tests.reminder_support import d, first_review_child, run_days
from workflow.errors import InvalidData


def _escalations(api: object, query: str) -> list[dict[str, object]]:
    response = api.get(f"/escalations?{query}")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return list(response.json())


def test_a_comment_of_only_spaces_is_refused(
    engine: Engine, staff: Staff, policies: Policies, principal_of: object
) -> None:
    first_review_child(staff.sw)  # first review due Tue 26 May 2026 (statutory ladder)
    run_days(engine, policies, d("2026-05-01"), d("2026-05-27"))
    (open_one,) = _escalations(staff.tm, "status=open")
    for blank in ("   ", " \t\n "):
        refused = staff.tm.post(f"/escalations/{open_one['id']}/acknowledge", {"comment": blank})
        assert refused.status_code == 422, refused.text
    principal = principal_of(staff.tm.user_id)  # type: ignore[operator]
    with pytest.raises(InvalidData):
        service.acknowledge(engine, int(str(open_one["id"])), principal, "  ")
    (still,) = _escalations(staff.tm, "status=open")
    assert still["acknowledged_at"] is None


def test_the_directors_acknowledgement_fills_in_the_rungs_below(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)
    run_days(engine, policies, d("2026-05-01"), d("2026-06-05"))
    ladder = _escalations(staff.sd, "status=open")
    assert [e["level"] for e in ladder] == ["team_manager", "service_manager", "service_director"]
    top = ladder[-1]
    answered = staff.sd.post(
        f"/escalations/{top['id']}/acknowledge", {"comment": "  Review set for 9 June.  "}
    )
    assert answered.status_code == 200, answered.text
    rows = _escalations(staff.sd, "status=all")
    assert [e["status"] for e in rows] == ["acknowledged"] * 3
    for e in rows:
        assert e["acknowledged_by"] == "sd"
        assert e["acknowledged_at"] is not None
        assert e["comment"] == "Review set for 9 June."
    assert len({e["acknowledged_at"] for e in rows}) == 1


def test_working_days_overdue_counts_to_the_sweeps_date(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)  # due Tue 26 May 2026
    run_days(engine, policies, d("2026-05-01"), d("2026-05-27"))
    (escalation,) = _escalations(staff.tm, "status=open&as_of=2026-05-27")
    assert escalation["working_days_overdue"] == 1
    (later,) = _escalations(staff.tm, "status=open&as_of=2026-06-02")
    assert later["working_days_overdue"] == 5
    breaches = staff.sd.get("/breaches?as_of=2026-05-27").json()
    assert [(b["days_late"], b["working_days_late"]) for b in breaches] == [(1, 1)]


def test_list_settings_take_json_or_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMANENCE_ESCALATION_DAYS", "2,4,6")
    monkeypatch.setenv("PERMANENCE_REMINDER_BEFORE_DAYS", "[10, 2]")
    monkeypatch.setenv("PERMANENCE_STATUTORY_KINDS", "first_review, final_hearing")
    settings = Settings()
    assert settings.escalation_days == [2, 4, 6]
    assert settings.reminder_before_days == [10, 2]
    assert settings.statutory_kinds == ["first_review", "final_hearing"]


def test_a_bad_list_setting_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "PERMANENCE_ESCALATION_DAYS": "2,four,6",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "setting PERMANENCE_ESCALATION_DAYS:" in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()
