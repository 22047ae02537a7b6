"""The API docs in a real browser (issue 10, item 8): Swagger UI and ReDoc render from this
service's own files under the docs pages' content security policy, asking no other site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer


@pytest.mark.parametrize(
    ("path", "title"),
    [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")],
)
def test_docs_render_from_local_files_without_policy_errors(
    page: Page, live_server: LiveServer, path: str, title: str
) -> None:
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Responses, not requests: a request the policy blocks never reaches the network.
    page.on("response", lambda r: hosts.add(urlsplit(r.url).netloc or r.url.split(":")[0]))
    page.goto(path)
    # ReDoc lays out the whole schema (77 operations) in the page before its heading shows:
    # over 20 s once on a 2-core machine running both suites side by side.
    expect(page.locator(title).first).to_contain_text("Permanence panels", timeout=60000)
    # Operations from the live schema are listed (the page fetched /openapi.json).
    expect(page.get_by_text("/api/v1/children").first).to_be_visible(timeout=30000)
    served = urlsplit(live_server.base_url).netloc
    # Only this server (and blob:/data: from the page itself) is ever asked for anything.
    assert hosts <= {served, "blob", "data"}, hosts
    # The one refusal allowed: ReDoc's footer logo from Redocly's CDN, which the policy
    # blocks as it should (ReDoc then hides the image).
    refused = [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    assert all("https://cdn.redoc.ly/" in e and "img-src" in e for e in refused), refused
    assert not [e for e in errors if e not in refused], errors
