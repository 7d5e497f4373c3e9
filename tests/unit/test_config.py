"""Settings refuse unsafe defaults in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings

STRONG = "k" * 40


def test_development_defaults_are_accepted() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///./var/trialfinder.db"
    assert settings.email_backend == "file"


def test_production_refuses_the_dev_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, env="production", base_url="https://trials.example.org")


def test_production_requires_https_base_url() -> None:
    with pytest.raises(ValidationError, match="BASE_URL"):
        Settings(_env_file=None, env="production", secret_key=STRONG)


def test_production_with_safe_values() -> None:
    settings = Settings(
        _env_file=None, env="production", secret_key=STRONG, base_url="https://t.example.org"
    )
    assert settings.env == "production"


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALFINDER_PAGE_SIZE", "50")
    assert Settings(_env_file=None).page_size == 50
