"""Response headers that keep pages safe in the browser: a strict content security policy
(scripts, styles and fonts from this service only), no framing, no sniffing, no referrer
leaking a child's page address to another site, and no caching of children's data.

``app.request_gate`` adds them to every answer."""

from __future__ import annotations

from starlette.types import Scope

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_NO_STORE = (b"cache-control", b"no-store")
# Over HTTPS only: a browser ignores it over http, and a development server must stay usable.
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


Header = tuple[bytes, bytes]


def policy_for(scope: Scope) -> tuple[bool, list[Header]]:
    """Whether the request is for a static file (which may be cached), and the headers its
    answer gets (HSTS only over HTTPS)."""
    static = scope["path"].startswith(("/static/", "/assets/"))
    return static, [*_HEADERS, _HSTS] if scope.get("scheme") == "https" else _HEADERS


def with_policy(headers: list[Header], static: bool, policy: list[Header]) -> list[Header]:
    """``headers`` (a list of its own, extended in place) with ``policy`` added: a response
    that sets its own policy keeps it (the minutes, the API docs), and anything but a
    static file is not to be stored."""
    names = {name for name, _ in headers}
    headers.extend(h for h in policy if h[0] not in names)
    if not static and b"cache-control" not in names:
        headers.append(_NO_STORE)
    return headers
