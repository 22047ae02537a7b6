"""Settings from environment variables (prefix ``PERMANENCE_``) or a ``.env`` file."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from states import deadline_kinds, sgo
from workflow.definition import Policy

# Values a copied example or a tutorial leaves in place of a secret key.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "secret", "secret-key", "dev", "test", "default"}
)
SECRET_KEY_MIN_LENGTH = 32


class Settings(BaseSettings):
    """Everything an operator can set. Defaults give a working local SQLite service."""

    model_config = SettingsConfigDict(env_prefix="PERMANENCE_", env_file=".env", extra="ignore")

    # "production" makes start-up refuse unsafe settings (see production_refusal).
    environment: Literal["development", "test", "staging", "production"] = "development"
    database_url: str = "sqlite:///./permanence.sqlite3"
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Signs access tokens. Set it in production, or tokens die with the process.",
    )
    token_minutes: int = 8 * 60
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:8000"
    auto_migrate: bool = True
    # PostgreSQL: the role the service runs as. `permanence migrate` (run as the database
    # owner) creates it if missing and grants it insert-only access to the history tables.
    app_role: str | None = None
    db_pool_size: int = 10
    # How long an API request may use its user's principal (roles, team, active) as read by
    # an earlier request of this process: the bound on a revoked role's life in another
    # worker (services/principal_cache.py). 0 reads the user's row on every request.
    principal_cache_seconds: float = 2.0
    # Scheme of delegation for SGO support plans: the most additional funding (pounds a
    # year above the means-tested assessment) a team manager, then a service manager, may
    # sign off; above that, the service director.
    sgo_team_manager_limit: float = 0.0
    sgo_service_manager_limit: float = 10000.0
    pack_lead_days: int = 14
    # The panel this service runs: a preset name (wirral, sefton, cypf, leicestershire,
    # torbay) or the path of a panel TOML file (``permanence panel check`` validates it).
    panel: str = "leicestershire"
    # argon2id cost for new password hashes (the library's defaults, RFC 9106's second
    # recommended profile). Lower them only where sign-in speed matters more, e.g. tests.
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    # Web pages (issue 5): a browser session ends after this long idle, and at the latest
    # this long after sign-in. The cookie is Secure unless told otherwise: browsers accept
    # Secure cookies from http://localhost and 127.0.0.1, so only plain http on another host
    # (never in production) needs PERMANENCE_SESSION_COOKIE_SECURE=false.
    session_idle_minutes: int = 60
    session_max_hours: int = 10
    session_cookie_secure: bool = True
    # Sign-in throttling (issue 10; services/sign_in.py). After ``sign_in_backoff_after``
    # consecutive failures on an account or from an address, attempts are refused for
    # base x 2^(failures - threshold) seconds, at most ``sign_in_backoff_max_seconds``; an
    # account is locked after ``sign_in_lock_after`` until a manager unlocks it. An address's
    # count is forgotten after ``sign_in_address_forget_minutes`` without a failure.
    sign_in_backoff_after: int = 5
    sign_in_lock_after: int = 10
    sign_in_backoff_base_seconds: float = 1.0
    sign_in_backoff_max_seconds: int = 900
    sign_in_address_forget_minutes: int = 60
    # At most this many argon2 checks at once per process (each holds about
    # ``password_memory_kib``); the rest wait up to ``password_check_wait_seconds``, then 429.
    password_checks_at_once: int = 2
    password_check_wait_seconds: float = 2.0
    # Bounded requests (issue 10): a body over this many bytes is refused with 413 before it
    # is read; uploads (multipart/form-data) have their own, larger limit.
    request_max_bytes: int = Field(default=1024 * 1024, ge=1)
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # The interactive API docs (/docs, /redoc); off means 404 there (/openapi.json stays).
    docs_enabled: bool = True

    # -- reminders and notifications (issue 3; see notifications/policy.py) --------------
    # The in-process scheduler (APScheduler) that triggers sweeps, delivery and the digest.
    # Off unless asked for; `permanence scheduler` runs it as its own process instead.
    scheduler_enabled: bool = False
    sweep_interval_minutes: int = 15
    dispatch_interval_seconds: int = 30
    digest_hour: int = 7
    digest_minute: int = 30
    # The care-record import queue (services.care_record.queue.recover_stale): a claim left
    # "running" longer than this by a process that died goes back to the queue, and is
    # marked failed once it has been claimed this many times.
    import_claim_timeout_minutes: int = Field(default=15, ge=1)
    import_max_attempts: int = Field(default=3, ge=1)
    # Reminder policy defaults (working days); per-kind overrides as JSON, e.g.
    # PERMANENCE_REMINDER_OVERRIDES='{"final_hearing": {"before": [10, 2], "escalate": [1, 2, 3]}}'
    # The list settings take JSON (`[5, 1]`) or the comma form (`5,1`).
    reminder_before_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [5, 1])
    reminder_on_due: bool = True
    reminder_overdue: bool = True
    escalation_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [1, 5, 10])
    # The kinds the law sets (states/deadline_kinds.py marks them), unless told otherwise.
    statutory_kinds: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: sorted(deadline_kinds.STATUTORY)
    )
    statutory_escalation_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1, 3, 5]
    )
    reminder_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator(
        "reminder_before_days",
        "escalation_days",
        "statutory_kinds",
        "statutory_escalation_days",
        mode="before",
    )
    @classmethod
    def _json_or_commas(cls, value: Any) -> Any:
        """``[2, 4, 6]`` as JSON or ``2,4,6``: an operator writes either."""
        if not isinstance(value, str):
            return value
        raw = value.strip()
        if raw.startswith("["):
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list ({exc.msg}); write [2, 4, 6] or 2,4,6") from exc
        return [part.strip() for part in raw.split(",") if part.strip()]

    # Email (SMTP). No host means no email is queued; the in-app inbox still works.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "permanence@localhost"
    smtp_timeout_seconds: float = 10.0
    # Optional webhook (e.g. a Teams incoming webhook): one JSON POST per reminder step.
    webhook_url: str | None = None
    # The case management system's webhook: each child's record entry from approved minutes
    # is POSTed there as JSON (issue 14, item 3), signed with HMAC-SHA256 when a secret is
    # set. No URL: no record message is queued.
    record_webhook_url: str | None = None
    record_webhook_secret: SecretStr | None = None
    notify_max_attempts: int = 6
    notify_backoff_seconds: float = 30.0
    # How many messages a dispatcher claims at once, and for how long: a dispatcher that dies
    # holding a claim leaves its unsent messages to the next one once the lease runs out.
    notify_batch_size: int = 200
    notify_lease_seconds: float = 300.0

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_lower_case(cls, value: Any) -> Any:
        # PERMANENCE_ENVIRONMENT=Production must not slip past the production guard.
        return value.strip().lower() if isinstance(value, str) else value

    def production_refusal(self) -> str | None:
        """Why this configuration must not serve in production, in one line, or None (always
        None outside ``environment="production"``). The workers check is the command's
        (``permanence serve`` refuses several workers on SQLite in every environment)."""
        if self.environment != "production":
            return None
        key = self.secret_key
        if "secret_key" not in self.model_fields_set:
            return (
                "PERMANENCE_ENVIRONMENT=production needs PERMANENCE_SECRET_KEY set "
                "(the same for every worker), e.g. from "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < SECRET_KEY_MIN_LENGTH:
            return (
                "PERMANENCE_ENVIRONMENT=production needs a real PERMANENCE_SECRET_KEY: at least "
                f"{SECRET_KEY_MIN_LENGTH} random characters, not a placeholder"
            )
        if not self.session_cookie_secure:
            return (
                "PERMANENCE_ENVIRONMENT=production refuses PERMANENCE_SESSION_COOKIE_SECURE=false: "
                "serve it over HTTPS"
            )
        return None

    @property
    def email_enabled(self) -> bool:
        """Whether notices queue email beside the in-app inbox (an SMTP host is set)."""
        return bool(self.smtp_host)

    @property
    def record_webhook_enabled(self) -> bool:
        """Whether approved minutes queue each record entry for the case management system."""
        return bool(self.record_webhook_url)

    def policy(self) -> Policy:
        """The local rules journey definitions consult."""
        return Policy(
            delegation={
                sgo.DELEGATION_SCHEME: sgo.delegation(
                    self.sgo_team_manager_limit, self.sgo_service_manager_limit
                )
            },
            pack_lead_days=self.pack_lead_days,
        )


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
