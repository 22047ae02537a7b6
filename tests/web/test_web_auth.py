"""Signing in and out of the pages: sessions, cookies, CSRF, redirects, headers, errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from app.web.models import WEB_SESSIONS as S
from app.web.session import COOKIE
from services.clock import now_utc
from services.models import AUDIT_LOG as A
from services.models import USERS as U
from tests.conftest import PASSWORD, Api
from tests.web_support import WebUser, form_token


def _client(app_client: TestClient) -> TestClient:
    return TestClient(app_client.app, base_url="https://testserver")


def _sessions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(S)).scalar_one())


def test_pages_need_a_session(app_client: TestClient) -> None:
    client = _client(app_client)
    response = client.get("/account?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/account%3Ftab%3D1"
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_sign_in_sets_a_hardened_cookie_and_lands_by_role(
    app_client: TestClient, sw: Api, adm: Api, engine: Engine
) -> None:
    client = _client(app_client)
    token = form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={"username": sw.username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/my-work"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "max-age", "path"} <= flags
    assert "samesite=lax" in cookie.lower()
    # Only the token's hash is stored.
    raw = cookie.split(";")[0].split("=", 1)[1]
    with engine.connect() as conn:
        hashes = conn.execute(select(S.c.token_hash)).scalars().all()
    assert raw not in hashes and len(hashes) == 1
    assert WebUser(app_client.app, adm.username).landing == "/panel"  # type: ignore[arg-type]


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(
    app_client: TestClient, sw: Api
) -> None:
    for asked, landing in (("/account", "/account"), ("//evil.example/x", "/my-work")):
        client = _client(app_client)
        page = client.get("/sign-in", params={"next": asked})
        response = client.post(
            "/sign-in",
            data={
                "username": sw.username,
                "password": PASSWORD,
                "csrf_token": form_token(page.text),
                "next": asked,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == landing


def test_wrong_password_is_an_error_next_to_the_field_and_audited(
    app_client: TestClient, sw: Api, engine: Engine
) -> None:
    client = _client(app_client)
    token = form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"username": sw.username, "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 400
    assert 'class="govuk-error-summary"' in response.text
    assert 'href="#username">Enter a correct username and password' in response.text
    assert 'id="username-error"' in response.text
    assert _sessions(engine) == 0
    with engine.connect() as conn:
        actions = conn.execute(select(A.c.action)).scalars().all()
    assert "sign_in_failed" in actions


def test_empty_fields_are_named(app_client: TestClient) -> None:
    client = _client(app_client)
    token = form_token(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"csrf_token": token})
    assert response.status_code == 400
    assert 'href="#username">Enter your username' in response.text
    assert 'href="#password">Enter your password' in response.text


def test_sign_in_form_needs_its_token(app_client: TestClient, sw: Api, engine: Engine) -> None:
    for token in ("", "forged"):
        client = _client(app_client)
        client.get("/sign-in")
        response = client.post(
            "/sign-in",
            data={"username": sw.username, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 403
    assert _sessions(engine) == 0


def test_sign_out_needs_the_token_then_ends_the_session_for_good(
    web_as: Callable[[Api], WebUser], sw: Api, engine: Engine
) -> None:
    user = web_as(sw)
    stolen = user.client.cookies.get(COOKIE)
    for token in ("", "wrong"):
        assert user.post("/sign-out", csrf=token).status_code == 403
    assert _sessions(engine) == 1
    response = user.post("/sign-out")
    assert response.status_code == 303
    assert _sessions(engine) == 0
    # A copy of the cookie taken before signing out opens nothing.
    replay = TestClient(user.client.app, base_url="https://testserver")
    replay.cookies.set(COOKIE, stolen or "")
    assert replay.get("/account", follow_redirects=False).status_code == 303
    with engine.connect() as conn:
        actions = conn.execute(select(A.c.action)).scalars().all()
    assert {"web_session_started", "web_session_ended"} <= set(actions)


def test_idle_and_expired_sessions_end(
    web_as: Callable[[Api], WebUser], sw: Api, engine: Engine
) -> None:
    user = web_as(sw)
    assert user.get("/account").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(S).values(last_seen_at=now_utc() - timedelta(minutes=61)))
    assert user.get("/account").status_code == 303
    user = web_as(sw)
    with engine.begin() as conn:
        conn.execute(update(S).values(expires_at=now_utc() - timedelta(seconds=1)))
    assert user.get("/account").status_code == 303


def test_a_disabled_user_is_signed_out(
    web_as: Callable[[Api], WebUser], sw: Api, engine: Engine
) -> None:
    user = web_as(sw)
    with engine.begin() as conn:
        conn.execute(update(U).where(U.c.id == sw.user_id).values(active=False))
    assert user.get("/account").status_code == 303


def test_pages_carry_security_headers(web_as: Callable[[Api], WebUser], sw: Api) -> None:
    response = web_as(sw).get("/account")
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert sw.username in response.text


def test_errors_are_pages_for_browsers_and_json_for_the_api(
    web_as: Callable[[Api], WebUser], sw: Api
) -> None:
    user = web_as(sw)
    page = user.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = user.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"


def test_static_files_are_served(app_client: TestClient) -> None:
    client = _client(app_client)
    css = client.get("/static/govuk-frontend/govuk-frontend.min.css")
    assert css.status_code == 200
    assert "govuk-template" in css.text
    assert client.get("/static/app/init.js").status_code == 200
    # Every font and image the stylesheet names is there.
    urls = set(re.findall(r"url\(([^)]+)\)", css.text))
    assert urls
    for url in urls:
        url = url.strip("\"'")
        if not url.startswith("data:"):
            assert client.get(url).status_code == 200, url
