"""Request and response shapes of the API (validated pydantic models, not tables)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.clock import today
from services.plausible import birth_date_problem, looked_after_problem

# Every id and version column is PostgreSQL's ``integer``: a larger number would reach the
# database only to fail there, so it is refused here with the field named.
DB_INT_MAX = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
Version = Annotated[int, Field(ge=0, le=DB_INT_MAX)]

_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


def _date_text(value: Any) -> Any:
    # pydantic reads 0 or "1654646400" as a Unix time; a person means a calendar date.
    # Any other text is left to pydantic, which says what is wrong with it.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be only spaces")
    return value


InputDate = Annotated[date, BeforeValidator(_date_text)]
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]

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
    given_name: Name
    family_name: Name
    date_of_birth: InputDate
    looked_after_since: InputDate | None = None
    legal_status: LegalStatus | None = None
    team: str | None = Field(default=None, max_length=100)
    allocated_social_worker_id: RecordId | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth(cls, value: date) -> date:
        problem = birth_date_problem(value, today())
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("looked_after_since")
    @classmethod
    def _plausible_looked_after(cls, value: date | None, info: ValidationInfo) -> date | None:
        # date_of_birth is declared first, so it has been validated (or failed) by now.
        if value is not None:
            problem = looked_after_problem(value, info.data.get("date_of_birth"), today())
            if problem:
                raise ValueError(problem)
        return value


class ChildUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: Version
    given_name: Name | None = None
    family_name: Name | None = None
    looked_after_since: InputDate | None = None
    legal_status: LegalStatus | None = None
    allocated_social_worker_id: RecordId | None = None
    # Moving a child to another team (service managers only); its social worker must then
    # be one of the new team's, or none.
    team: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("given_name", "family_name")
    @classmethod
    def _names_not_null(cls, value: str | None) -> str | None:
        # Leave a name out to keep it; null would erase a required name.
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value


class ChildSearch(BaseModel):
    """A search for children, sent in a body so that a name never sits in an address."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=100, description="Reference or name")
    team: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=DB_INT_MAX)


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
    started_on: InputDate | None = None
    data: dict[str, Any] = {}


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=50)
    expected_version: Version
    occurred_on: InputDate | None = None
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
    deadline_label: str = Field(
        description="The deadline in words: a panel pack named by its meeting"
    )
    due_on: date
    status: str
    met_on: date | None
    owner_id: int | None
    owner: str | None
    owner_role: str


class DeadlineConfirmation(BaseModel):
    """What happened to a deadline that fell due before the service (an imported journey's
    back-dated deadline): met, with the date, or missed."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["met", "missed"]
    met_on: date | None = Field(
        default=None, description="The day it was met: required when met, refused when missed."
    )

    @model_validator(mode="after")
    def _date_with_met_only(self) -> DeadlineConfirmation:
        if self.outcome == "met" and self.met_on is None:
            raise ValueError("met_on: the day it was met is required when it was met")
        if self.outcome == "missed" and self.met_on is not None:
            raise ValueError("met_on: a missed deadline has no day it was met")
        return self


class DeadlineConfirmed(BaseModel):
    """What was recorded of a deadline from before the service."""

    id: int
    child_id: int
    kind: str
    due_on: date
    outcome: Literal["met", "missed"]
    met_on: date | None
    status: str


class DeadlineToConfirm(BaseModel):
    """A deadline that fell due before the service and waits for someone to record it."""

    id: int
    journey_id: int
    journey_type: str
    journey_started_on: date
    child_id: int
    child_reference: str
    team: str
    kind: str
    ref: str
    due_on: date


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
