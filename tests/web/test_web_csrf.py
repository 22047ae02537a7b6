"""Every form of every page refuses a missing or wrong CSRF token, writing nothing.

The routes are read from the app itself, so a page added later is covered without anyone
remembering to add it here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.routing import APIRoute
from sqlalchemy import Engine, func, select, text

from app.web.deps import checked_form
from app.web.routes import ROUTERS
from tests.conftest import Api, UserFactory
from tests.web_support import WebUser

# The sign-in form has no session yet: it is covered by its own double-submit token
# (tests/test_web_auth.py).
_SESSIONLESS = {"/sign-in"}
_COUNTED = ("journey_event", "audit_log", "deadline", "notice", "panel_referral", "web_session")


def _page_posts() -> list[APIRoute]:
    """The POST routes of every page router (the app mounts exactly these)."""
    return [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "POST" in (route.methods or set())
        and route.path not in _SESSIONLESS
    ]


def _uses_checked_form(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if dependant.call is checked_form:
            return True
        stack.extend(dependant.dependencies)
    return False


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(select(func.count()).select_from(text(t))).scalar_one())
            for t in _COUNTED
        }


def test_every_page_form_checks_the_token() -> None:
    routes = _page_posts()
    assert any(r.path == "/sign-out" for r in routes)
    unchecked = [r.path for r in routes if not _uses_checked_form(r)]
    assert unchecked == []


def test_a_missing_or_wrong_token_is_refused_and_nothing_is_written(
    make_user: UserFactory,
    web_as: Callable[[Api], WebUser],
    engine: Engine,
) -> None:
    # Every role at once, so no route refuses for want of a role before the token counts.
    everyone = make_user(
        "everyone",
        "social_worker",
        "team_manager",
        "service_manager",
        "service_director",
        "panel_chair",
        "panel_admin",
        "adm",
        team="north",
    )
    user = web_as(everyone)
    before = _counts(engine)
    routes = _page_posts()
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for token in ("", "not-the-token"):
            response = user.post(path, {"comment": "x", "reason": "x"}, csrf=token)
            assert response.status_code == 403, (route.path, token, response.status_code)
            assert "This form has expired" in response.text
    assert _counts(engine) == before
