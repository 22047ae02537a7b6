"""Settings from environment variables (prefix ``PERMANENCE_``) or a ``.env`` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.definition import Policy


class Settings(BaseSettings):
    """Everything an operator can set. Defaults give a working local SQLite service."""

    model_config = SettingsConfigDict(env_prefix="PERMANENCE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./permanence.sqlite3"
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Signs access tokens. Set it in production, or tokens die with the process.",
    )
    token_minutes: int = 8 * 60
    environment: Literal["development", "production", "test"] = "development"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:8000"
    auto_migrate: bool = True
    db_pool_size: int = 10
    # Scheme of delegation for SGO support plans: the most additional funding (pounds a
    # year above the means-tested assessment) a team manager, then a service manager, may
    # sign off; above that, the service director.
    sgo_team_manager_limit: float = 0.0
    sgo_service_manager_limit: float = 10000.0
    pack_lead_days: int = 14

    def policy(self) -> Policy:
        """The local rules journey definitions consult."""
        return Policy(
            sgo_delegation=(
                (
                    self.sgo_team_manager_limit,
                    ("team_manager", "service_manager", "service_director"),
                ),
                (self.sgo_service_manager_limit, ("service_manager", "service_director")),
                (None, ("service_director",)),
            ),
            pack_lead_days=self.pack_lead_days,
        )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
