"""Notices as the pages link them: the inbox gives absolute links (they are also emailed),
a page wants the path on this service."""

from __future__ import annotations

from urllib.parse import urlsplit


def page_link(link: str | None, base_url: str) -> str | None:
    """The path on this service a notice's ``link`` points to, or None if it has none or
    points somewhere else (a page never links out to another site from a notice)."""
    if not link:
        return None
    base = base_url.rstrip("/")
    if link.startswith(base + "/"):
        path = link[len(base) :]
    elif link.startswith("/") and not link.startswith("//"):
        path = link
    else:
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        return None
    return path
