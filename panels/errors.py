"""The panel's refusals: each an ``EngineError``, so the API answers it as JSON with its
status and the pages show it as an error next to the field."""

from __future__ import annotations

from workflow.errors import EngineError


class PanelInvalid(EngineError):
    """The request cannot be done as asked (422), with the reasons."""

    status_code = 422
    code = "panel_invalid"


class PanelConflict(EngineError):
    """The request clashes with the meeting's or referral's state (409)."""

    status_code = 409
    code = "panel_conflict"


class PanelForbidden(EngineError):
    """The role may not do this (403), e.g. above its scheme of delegation."""

    status_code = 403
    code = "forbidden"
