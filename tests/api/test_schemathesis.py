"""Every operation of the OpenAPI schema, fuzzed by schemathesis (bounded and repeatable),
as a social worker and as a system administrator: no answer is a 5xx, every status code
is one the operation documents, and every body matches its documented schema.

Valid and invalid requests alike (schemathesis's positive and negative modes), up to
``MAX_EXAMPLES`` of each per operation and user, derandomised so a run is repeatable. A
child, a journey and the panel's meetings exist first, so small ids find real records.

SQLite only: it is the same code on PostgreSQL, whose own refusals (NUL bytes, 32-bit
columns) the range and input tests cover on both.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_DB_ENV, Api, UserFactory

pytestmark = pytest.mark.skipif(
    bool(os.environ.get(TEST_DB_ENV)), reason="schemathesis runs on SQLite only"
)

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _fuzz(schema: Any, user: Api, statuses: Counter[int]) -> tuple[int, list[str]]:
    """Run every operation as ``user``; the number of operations and the failures."""
    operations, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in MODES:

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call(headers=user.headers)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to make invalid: the operation takes no parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
            # schemathesis's FailureGroup is a BaseExceptionGroup.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode}) as {user.username}: {exc}"[:2000])
    return operations, failures


def _records(sw: Api, make_user: UserFactory) -> None:
    """A child with a journey, and the panel's planned meetings, for small ids to find."""
    child = sw.create_child("F-1")
    sw.start(child["id"], "permanence_planning", "2025-09-01")
    admin = make_user("panel.admin", "panel_admin")
    response = admin.post("/panel/meetings/generate", {})
    assert response.status_code == 200, response.text


def test_schemathesis_finds_nothing(
    app_client: TestClient, sw: Api, make_user: UserFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _records(sw, make_user)
    sysadmin = make_user("sysadmin", "sysadmin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_client.app)
    started = time.monotonic()
    failures: list[str] = []
    counts = []
    statuses: Counter[int] = Counter()
    for user in (sw, sysadmin):
        count, found = _fuzz(schema, user, statuses)
        counts.append(count)
        failures += found
    with capsys.disabled():
        print(
            f"\nschemathesis: {counts[0]} operations x 2 users x {len(MODES)} modes, "
            f"{sum(statuses.values())} requests in {time.monotonic() - started:.0f} s; "
            f"status codes: {dict(sorted(statuses.items()))}"
        )
    assert counts == [counts[0]] * 2 and counts[0] >= 50
    assert not failures, "\n\n".join(failures)
    # Not only refusals: some requests got through to a real answer.
    assert sum(n for code, n in statuses.items() if code < 300) > 100
