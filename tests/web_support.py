"""A signed-in browser session for page tests over HTTP (no JavaScript): cookies, and the
form token every post must carry."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    """The CSRF token in a page's first form."""
    match = _TOKEN.search(html)
    assert match, "the page has no form token"
    return match.group(1)


class WebUser:
    """A user signed in through the sign-in page. The session cookie is Secure, so the
    client talks https (the cookie would not be sent over plain http)."""

    def __init__(self, app: FastAPI, username: str, password: str = PASSWORD) -> None:
        self.username = username
        self.client = TestClient(app, base_url="https://testserver")
        page = self.client.get("/sign-in")
        response = self.client.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": form_token(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.landing = response.headers["location"]
        self.csrf = form_token(self.client.get("/account").text)

    def get(self, path: str, **kw: Any) -> httpx2.Response:
        """GET a page (redirects not followed, so a sign-in redirect shows as 303)."""
        kw.setdefault("follow_redirects", False)
        response: httpx2.Response = self.client.get(path, **kw)
        return response

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = None, **kw: Any
    ) -> httpx2.Response:
        """POST a form with this session's token (or ``csrf``; '' sends none)."""
        body = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            body["csrf_token"] = token
        kw.setdefault("follow_redirects", False)
        response: httpx2.Response = self.client.post(path, data=body, **kw)
        return response
