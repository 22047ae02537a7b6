"""Helpers for browser tests: open a page, sign in, and check a page (screenshot + axe-core).

The browser is Debian's Chromium (``apt-get install chromium``), never one that Playwright
downloads: ``playwright install`` is not used anywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, ViewportSize

from tests.conftest import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "axe.min.js"

CHROMIUM_ENV = "PERMANENCE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS_ENV = "PERMANENCE_SCREENSHOTS"

# Without the background-networking flags Chromium keeps calling out, and the closed network
# here refuses those connections (slowly).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}

# The rules axe runs: WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Violations of these impacts fail the test; moderate and minor ones are only returned.
FAILING_IMPACTS = frozenset({"serious", "critical"})

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def chromium_path() -> str:
    """The Chromium executable the tests launch (``$PERMANENCE_CHROMIUM`` or Debian's)."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def screenshots_dir() -> Path:
    """Where check_page writes screenshots (``$PERMANENCE_SCREENSHOTS`` or test-artifacts/)."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    return Path(configured) if configured else REPO_ROOT / "test-artifacts" / "screenshots"


def open_page(browser: Browser, base_url: str | None = None) -> Page:
    """A page in a fresh context (own cookies and storage), 1280x900, relative to base_url.

    Close it with ``page.context.close()``.
    """
    return browser.new_context(viewport=VIEWPORT, base_url=base_url).new_page()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page and wait until the browser has left it."""
    page.goto("/sign-in")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: not _path_of(url).startswith("/sign-in"))


def _path_of(url: str) -> str:
    """The path of an absolute URL (scheme and host dropped)."""
    match = re.match(r"^[a-z]+://[^/]*(/[^?#]*)?", url)
    return (match.group(1) or "/") if match else url


def check_page(page: Page, name: str) -> list[dict[str, Any]]:
    """Screenshot the whole page as ``<screenshots>/<name>.png``, then run axe-core on it.

    Fails the test (AssertionError) listing every violation of serious or critical impact;
    returns the moderate and minor ones, which do not fail it.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"screenshot name {name!r}: use letters, digits, '.', '_' or '-'")
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"{name}.png"
    page.screenshot(path=shot, full_page=True)

    violations = run_axe(page)
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    if failing:
        lines = [
            f"axe-core: {len(failing)} serious or critical accessibility violation(s) "
            f"on {page.url} (screenshot {shot}):"
        ]
        lines += [_describe(v) for v in failing]
        raise AssertionError("\n".join(lines))
    return [v for v in violations if v.get("impact") not in FAILING_IMPACTS]


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Inject the vendored axe-core (once per document) and return its violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated rather than added with page.add_script_tag: an inline <script> is
        # refused by the app's content security policy (script-src 'self'), and the refusal
        # would also show up as a console error.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    results: dict[str, Any] = page.evaluate("options => window.axe.run(document, options)", options)
    return list(results["violations"])


def _describe(violation: dict[str, Any], max_targets: int = 3) -> str:
    """One line per violation: rule id, impact, help text, the first few targets."""
    nodes = violation.get("nodes", [])
    targets = [" ".join(map(str, node.get("target", []))) for node in nodes[:max_targets]]
    more = f" (+{len(nodes) - max_targets} more)" if len(nodes) > max_targets else ""
    return (
        f"- {violation['id']} [{violation.get('impact')}] {violation.get('help')}: "
        f"{'; '.join(targets)}{more} ({violation.get('helpUrl')})"
    )
