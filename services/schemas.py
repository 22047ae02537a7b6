"""Request and response shapes of the API (validated pydantic models, not tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LegalStatus = Literal[
    "section_20",
    "interim_care_order",
    "care_order",
    "placement_order",
    "police_protection",
    "emergency_protection_order",
    "remand",
    "other",
]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9/_-]*$")
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    looked_after_since: date | None = None
    legal_status: LegalStatus | None = None
    team: str | None = Field(default=None, max_length=100)
    allocated_social_worker_id: int | None = None


class ChildUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int
    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    looked_after_since: date | None = None
    legal_status: LegalStatus | None = None
    allocated_social_worker_id: int | None = None

    @field_validator("given_name", "family_name")
    @classmethod
    def _names_not_null(cls, value: str | None) -> str | None:
        # Leave a name out to keep it; null would erase a required name.
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value


class JourneySummary(BaseModel):
    id: int
    type: str
    state: str
    status: str
    version: int


class ChildOut(BaseModel):
    id: int
    reference: str
    given_name: str
    family_name: str
    date_of_birth: date
    looked_after_since: date | None
    legal_status: str | None
    team: str
    allocated_social_worker_id: int | None
    version: int
    journeys: list[JourneySummary] = []


class JourneyStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    started_on: date | None = None
    data: dict[str, Any] = {}


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=50)
    expected_version: int
    occurred_on: date | None = None
    data: dict[str, Any] = {}


class EventOptionOut(BaseModel):
    event: str
    allowed: bool
    reasons: list[str]


class DeadlineOut(BaseModel):
    id: int
    kind: str
    ref: str
    due_on: date
    status: str
    met_on: date | None
    owner_id: int | None
    owner_role: str


class JourneyOut(BaseModel):
    id: int
    child_id: int
    child_reference: str
    type: str
    title: str
    state: str
    version: int
    definition_version: int
    status: str
    started_on: date
    closed_on: date | None
    outcome: str | None
    data: dict[str, Any]
    available_events: list[EventOptionOut]
    deadlines: list[DeadlineOut]
    measures: dict[str, Any]
    suggested_next: str | None


class HistoryEntry(BaseModel):
    id: int
    journey_version: int
    event: str
    from_state: str | None
    to_state: str
    occurred_on: date
    recorded_at: datetime
    actor_id: int
    actor: str
    data: dict[str, Any]


class DeadlineListItem(BaseModel):
    id: int
    journey_id: int
    journey_type: str
    child_id: int
    child_reference: str
    team: str
    kind: str
    ref: str
    due_on: date
    status: str
    met_on: date | None
    owner_id: int | None
    owner: str | None
    owner_role: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)  # policy: services.auth
    roles: list[str] = Field(min_length=1)
    team: str | None = None
    display_name: str = ""
    email: str | None = None


class Me(BaseModel):
    id: int
    username: str
    roles: list[str]
    team: str | None
