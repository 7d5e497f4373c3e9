"""Settings: the only place the environment is read.

Every setting has the `TRIALFINDER_` prefix and may also come from `.env`. Outside
development the settings refuse the unsafe defaults (the dev secret key).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import crypto

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """TrialFinder configuration; the README lists every field."""

    model_config = SettingsConfigDict(
        env_prefix="TRIALFINDER_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/trialfinder.db"
    secret_key: str = DEV_SECRET_KEY
    base_url: str = "http://127.0.0.1:8000"
    email_backend: Literal["file", "smtp", "console"] = "file"
    mail_dir: str = "var/mail"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = Field(default=10, gt=0)
    mail_from: str = "TrialFinder <no-reply@localhost>"
    fallback_contact_email: str | None = None
    # Where patients write to see, correct or erase their data; shown on /privacy.
    privacy_contact_email: str | None = None
    # Look up the domain of each patient's email address (DNS MX records); on by default
    # in production, off elsewhere so tests and offline development need no network.
    email_check_deliverability: bool | None = None
    ctgov_api_url: str = "https://clinicaltrials.gov/api/v2"
    page_size: int = Field(default=20, ge=1, le=100)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_backoff_seconds: float = Field(default=30, gt=0)
    outbox_backoff_max_seconds: float = Field(default=3600, gt=0)
    outbox_lease_seconds: float = Field(default=120, gt=0)
    worker_poll_seconds: float = Field(default=2, gt=0)
    # Requests run in a pool of threads, each holding at most one database connection, so
    # the connection pool is sized from the thread pool (see docs/performance.md).
    web_threads: int = Field(default=16, ge=1, le=512)
    db_pool_size: int | None = Field(default=None, ge=1, le=1000)
    db_pool_timeout: float = Field(default=10, gt=0)
    # Personal data at rest (see app/crypto.py). Outside production, missing keys are made
    # in key_dir on first run; production refuses to start without them.
    data_key: str | None = None
    lookup_key: str | None = None
    key_dir: str = "var"
    retention_days: int = Field(default=180, ge=1, le=3650)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError(
                    "TRIALFINDER_SECRET_KEY must be set to a random value of at least "
                    "32 characters when TRIALFINDER_ENV=production"
                )
            if not self.base_url.startswith("https://"):
                raise ValueError("TRIALFINDER_BASE_URL must be https:// in production")
            if self.email_backend == "console":
                raise ValueError(
                    "TRIALFINDER_EMAIL_BACKEND=console prints whole emails, with patients' "
                    "details, to the logs: use smtp (or file) in production"
                )
            if not self.data_key or not self.lookup_key:
                raise ValueError(
                    "TRIALFINDER_DATA_KEY and TRIALFINDER_LOOKUP_KEY must be set when "
                    "TRIALFINDER_ENV=production (see the README: keys and their backup)"
                )
        if self.data_key or self.lookup_key:
            try:
                crypto.Vault.of(
                    self.data_key or crypto.new_key(), self.lookup_key or crypto.new_key()
                )
            except crypto.KeyProblem as problem:
                raise ValueError(str(problem)) from None
        return self

    def vault(self) -> crypto.Vault:
        """The keys these settings give; outside production, missing ones come from key_dir,
        made there on first run."""
        data_key, lookup_key = self.data_key, self.lookup_key
        if not (data_key and lookup_key):
            made_data, made_lookup = crypto.load_or_make_keys(Path(self.key_dir))
            data_key, lookup_key = data_key or made_data, lookup_key or made_lookup
        return crypto.Vault.of(data_key, lookup_key)

    @property
    def checks_email_domains(self) -> bool:
        if self.email_check_deliverability is None:
            return self.env == "production"
        return self.email_check_deliverability

    @property
    def pool_size(self) -> int:
        """Connections kept open: one per request thread, plus the in-process worker,
        an import job, the readiness check and one spare."""
        return self.db_pool_size or self.web_threads + 4

    @property
    def pool_overflow(self) -> int:
        """Extra connections for bursts: a request keeps its connection from the end of
        its route until its transaction is closed, while the next one may already run."""
        return self.web_threads

    @property
    def secure_cookies(self) -> bool:
        """Every cookie is Secure when the site is served over https (always in production)."""
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
