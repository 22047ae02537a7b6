"""Why the engine refused something. Each error maps to one HTTP status in the API."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: a refusal with a machine-readable code and a human message."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body the API answers with."""
        return {"error": self.code, "message": self.message, **self.details}


class UnknownEvent(EngineError):
    status_code = 422
    code = "unknown_event"


class UnknownJourneyType(EngineError):
    status_code = 422
    code = "unknown_journey_type"


class EventNotAvailable(EngineError):
    status_code = 409
    code = "event_not_available"


class JourneyClosed(EngineError):
    status_code = 409
    code = "journey_closed"


class RoleNotAllowed(EngineError):
    status_code = 403
    code = "role_not_allowed"


class InvalidData(EngineError):
    status_code = 422
    code = "invalid_data"


class GuardFailed(EngineError):
    status_code = 422
    code = "guard_failed"


class StaleVersion(EngineError):
    status_code = 409
    code = "stale_version"
