"""Why the engine refused something. Each error maps to one HTTP status in the API.

An error's ``details`` are the extra keys of its JSON body; what a Python caller needs beyond
the body (a form putting each problem next to its field, say) is kept in typed attributes, so
the API answers exactly what it always has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

ErrorCode = Literal[
    "unknown_field",
    "required",
    "not_a_date",
    "not_a_boolean",
    "not_a_number",
    "too_small",
    "too_large",
    "not_text",
    "too_long",
    "not_a_choice",
    "not_a_checklist",
    "unknown_items",
    "bad_answers",
    "in_the_future",
    "before_start",
]
"""What is wrong with one piece of input, for a caller that words it for itself."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one piece of an event's input.

    ``field`` is the event field's name (``occurred_on`` for the date the event happened),
    ``code`` says what is wrong without words, and ``message`` is the sentence the API
    answers with (``"weeks must be at most 8"``).
    """

    field: str
    code: ErrorCode
    message: str


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
    """The actor's roles may not fire the event; ``roles`` are the ones that may."""

    status_code = 403
    code = "role_not_allowed"

    def __init__(self, message: str, *, roles: Sequence[str] = (), **details: Any) -> None:
        super().__init__(message, **details)
        self.roles = tuple(roles)


class InvalidData(EngineError):
    """The input is not valid; ``field_errors`` says what is wrong with which field.

    The body's ``errors`` are the field errors' sentences, unless ``errors`` is given
    (callers outside the engine that have sentences only).
    """

    status_code = 422
    code = "invalid_data"

    def __init__(
        self, message: str, *, field_errors: Sequence[FieldError] = (), **details: Any
    ) -> None:
        if field_errors and "errors" not in details:
            details["errors"] = [e.message for e in field_errors]
        super().__init__(message, **details)
        self.field_errors = tuple(field_errors)


class GuardFailed(EngineError):
    """A guard (or the lack of a destination) refused the event; ``reasons`` say why."""

    status_code = 422
    code = "guard_failed"

    def __init__(
        self, message: str, *, reasons: Sequence[str] | None = None, **details: Any
    ) -> None:
        if reasons is not None:
            details["reasons"] = list(reasons)
        super().__init__(message, **details)
        self.reasons = tuple(reasons or ())


class StaleVersion(EngineError):
    """The journey (or record) changed since the caller read it."""

    status_code = 409
    code = "stale_version"

    def __init__(self, message: str, *, current_version: int | None = None, **details: Any) -> None:
        if current_version is not None:
            details["current_version"] = current_version
        super().__init__(message, **details)
        self.current_version = current_version
